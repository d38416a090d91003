// When a dead worker is replaced: the restart policy of issue 3, as pure
// functions of what happened (no clock, no processes), so tests need neither.
#pragma once

#include <chrono>

#include "manager/worker_state.hpp"

namespace pyfpm::manager {

inline constexpr std::chrono::milliseconds kFirstRestartDelay{100};
inline constexpr std::chrono::milliseconds kMaxRestartDelay{30'000};

// The wait before the next start after `consecutiveFailures` (>= 1) workers
// in a row died before becoming ready: 100 ms, doubling, capped at 30 s.
std::chrono::milliseconds restartDelay(int consecutiveFailures);

// What a worker's exit asks for.
enum class AfterExit {
    Forget,               // expected: the worker was told to stop
    RestartNow,           // it served, then died: count it, let the pool refill at once
    RestartAfterBackoff,  // it died before ready: the app is likely broken
};

// `stateAtExit` is the worker's state when it was reaped; while the pool is
// stopping nothing is restarted.
AfterExit decideAfterExit(WorkerState stateAtExit, bool poolStopping);

// A pool's count of consecutive start-failure rounds, and the delay each
// implies. The pool counts a failure only when no restart is pending: the
// max_children workers started together usually die together, and that is
// one round, not max_children reasons to double the delay.
class Backoff {
public:
    // Counts a failed round and returns the wait before the next start.
    std::chrono::milliseconds nextDelay()
    {
        ++failures_;
        return restartDelay(failures_);
    }
    // A worker became ready: the application works; start over at 100 ms.
    void reset() { failures_ = 0; }

    int failures() const { return failures_; }

private:
    int failures_ = 0;
};

}  // namespace pyfpm::manager
