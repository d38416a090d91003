#include "manager/backoff.hpp"

namespace pyfpm::manager {

std::chrono::milliseconds restartDelay(int consecutiveFailures)
{
    std::chrono::milliseconds delay = kFirstRestartDelay;
    // Doubling stops at the cap, so a pool failing for days never overflows.
    for (int i = 1; i < consecutiveFailures && delay < kMaxRestartDelay; ++i) {
        delay *= 2;
    }
    return delay < kMaxRestartDelay ? delay : kMaxRestartDelay;
}

AfterExit decideAfterExit(WorkerState stateAtExit, bool poolStopping)
{
    if (poolStopping) {
        return AfterExit::Forget;
    }
    switch (stateAtExit) {
    case WorkerState::Starting:
        return AfterExit::RestartAfterBackoff;
    case WorkerState::Ready:
    case WorkerState::Recycling:
        return AfterExit::RestartNow;
    case WorkerState::Stopping:
        return AfterExit::Forget;
    }
    return AfterExit::Forget;
}

}  // namespace pyfpm::manager
