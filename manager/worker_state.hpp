// The lifecycle of one worker process as the manager sees it.
#pragma once

#include <string_view>

namespace pyfpm::manager {

// Starting: spawned, its application not yet imported (no "ready\n" on the
//   notify pipe, worker_contract.hpp).
// Ready: accepting on the pool socket. Whether it is idle or busy is the
//   scoreboard's business (DESIGN.md), not the manager's.
// Stopping: told to exit (a signal of the stop ladder); its exit is expected.
// A reaped worker is forgotten, so there is no Exited state.
// Transitions go through Pool::setWorkerState, which keeps the counts.
enum class WorkerState { Starting, Ready, Stopping };

constexpr std::string_view toString(WorkerState state)
{
    switch (state) {
    case WorkerState::Starting:
        return "starting";
    case WorkerState::Ready:
        return "ready";
    case WorkerState::Stopping:
        return "stopping";
    }
    return "?";
}

}  // namespace pyfpm::manager
