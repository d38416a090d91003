// The lifecycle of one worker process as the manager sees it.
#pragma once

#include <string_view>

namespace pyfpm::manager {

// Starting: spawned, its application not yet imported (no "ready\n" on the
//   notify pipe, worker_contract.hpp).
// Ready: accepting on the pool socket. Whether it is idle or busy is the
//   scoreboard's business (DESIGN.md), not this state's.
// Recycling: it asked to be recycled ("recycle REASON VALUE\n") and keeps
//   serving until its replacement is ready; then it is told to stop.
// Stopping: told to exit (recycled, scaled down, over request_timeout, pool
//   stopping); its exit is expected.
// A reaped worker is forgotten, so there is no Exited state.
// Transitions go through Pool::setWorkerState, which keeps the counts.
enum class WorkerState { Starting, Ready, Recycling, Stopping };

inline constexpr int kWorkerStates = 4;

constexpr std::string_view toString(WorkerState state)
{
    switch (state) {
    case WorkerState::Starting:
        return "starting";
    case WorkerState::Ready:
        return "ready";
    case WorkerState::Recycling:
        return "recycling";
    case WorkerState::Stopping:
        return "stopping";
    }
    return "?";
}

}  // namespace pyfpm::manager
