// The daemon's only caller of waitpid(2).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

struct event;
struct event_base;

namespace pyfpm::manager {

// Collects every exited child of the process on SIGCHLD and hands each
// (pid, wait status) to `onExit`, on the event loop `base`.
//
// SIGCHLD is watched with a libevent evsignal, so the callback runs as a
// normal loop callback, never inside a signal handler. Construct it before
// the first child is spawned: an exit before that would still be collected
// at the next SIGCHLD, but late. Only one event_base per process receives
// signals (libevent), so a process has one Reaper at a time.
//
// Nothing else may wait for children: Boost.Process's running(), wait() and
// terminate() would steal exits from here (DESIGN.md), and so would a pidfd
// or a second waitpid loop.
class Reaper {
public:
    using ExitCallback = std::function<void(pid_t pid, int status)>;

    // Throws std::runtime_error when libevent cannot add the signal event.
    Reaper(event_base* base, ExitCallback onExit);
    ~Reaper();
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;

    // Collects whatever has exited, without blocking; what SIGCHLD triggers.
    void reapNow();

    // Blocks until `pid` (a child already sent SIGKILL) has exited, and
    // reports it through onExit. For teardown only, when the loop will not
    // run again.
    void reapBlocking(pid_t pid);

private:
    static void onSignal(int, short, void* self);

    ExitCallback onExit_;
    std::unique_ptr<event, void (*)(event*)> sigchld_;
};

}  // namespace pyfpm::manager
