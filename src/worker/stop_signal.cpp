#include "src/worker/stop_signal.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <system_error>

namespace pyfpm::worker {

namespace {

volatile std::sig_atomic_t g_stop = 0;
int g_wakeFd = -1;

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGUSR1};

void onStopSignal(int)
{
    const int savedErrno = errno;
    g_stop = 1;
    const std::uint64_t one = 1;
    // eventfd writes are async-signal-safe; a full counter (never reached
    // here) would only mean it is already readable.
    [[maybe_unused]] const auto written = ::write(g_wakeFd, &one, sizeof one);
    errno = savedErrno;
}

void setAction(int signo, void (*handler)(int), int flags)
{
    struct sigaction action = {};
    action.sa_handler = handler;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    for (int stopSignal : kStopSignals) {
        sigaddset(&action.sa_mask, stopSignal);
    }
    if (::sigaction(signo, &action, nullptr) != 0) {
        throw std::system_error(errno, std::generic_category(), "sigaction(2)");
    }
}

}  // namespace

void installStopHandlers()
{
    if (g_wakeFd < 0) {
        g_wakeFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (g_wakeFd < 0) {
            throw std::system_error(errno, std::generic_category(), "eventfd(2)");
        }
    }
    for (int signo : kStopSignals) {
        setAction(signo, onStopSignal, SA_RESTART);
    }
    setAction(SIGPIPE, SIG_IGN, 0);

    // The manager spawns workers with these unblocked, but a shell or a
    // test harness may not; a blocked SIGTERM would never stop us.
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int signo : kStopSignals) {
        sigaddset(&unblock, signo);
    }
    ::sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
}

bool stopRequested()
{
    return g_stop != 0;
}

int stopWakeFd()
{
    return g_wakeFd;
}

}  // namespace pyfpm::worker
