// How workers are told to stop: escalation as data (STYLE.md).
#pragma once

#include <array>
#include <chrono>
#include <csignal>
#include <span>

namespace pyfpm::manager {

struct StopStep {
    // Worker: the worker process only; pyfpm-worker finishes its current
    // request on SIGTERM, and anything the application started is its own
    // to stop. ProcessGroup: the worker and whatever it left in its process
    // group (each worker leads its own, spawn.hpp).
    enum class Target { Worker, ProcessGroup };

    int signal;
    std::chrono::milliseconds wait;  // for the workers to exit before the next step
    Target target;
};

using StopLadder = std::span<const StopStep>;

// After the last step's wait the stop completes even if a worker is still
// there (one stuck in uninterruptible sleep); its pid is logged.
inline constexpr std::array<StopStep, 2> kStopLadder{{
    {SIGTERM, std::chrono::milliseconds(3000), StopStep::Target::Worker},
    {SIGKILL, std::chrono::milliseconds(1000), StopStep::Target::ProcessGroup},
}};

}  // namespace pyfpm::manager
