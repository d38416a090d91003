#include "manager/reaper.hpp"

#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>

#include <event2/event.h>

namespace pyfpm::manager {

Reaper::Reaper(event_base* base, ExitCallback onExit)
    : onExit_(std::move(onExit)), sigchld_(evsignal_new(base, SIGCHLD, &Reaper::onSignal, this), &event_free)
{
    if (!sigchld_ || evsignal_add(sigchld_.get(), nullptr) != 0) {
        throw std::runtime_error("libevent: cannot watch SIGCHLD");
    }
}

Reaper::~Reaper() = default;

void Reaper::onSignal(int, short, void* self)
{
    static_cast<Reaper*>(self)->reapNow();
}

void Reaper::reapNow()
{
    // Signals coalesce: one SIGCHLD may stand for many exits, so loop until
    // nothing is left (0) or there are no children at all (ECHILD).
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            onExit_(pid, status);
            continue;
        }
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        return;
    }
}

void Reaper::reapBlocking(pid_t pid)
{
    int status = 0;
    pid_t got = -1;
    do {
        got = ::waitpid(pid, &status, 0);
    } while (got < 0 && errno == EINTR);
    if (got == pid) {
        onExit_(pid, status);
    }
}

}  // namespace pyfpm::manager
