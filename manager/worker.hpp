// One worker process as its pool keeps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "manager/line_reader.hpp"
#include "manager/scoreboard.hpp"
#include "manager/worker_state.hpp"

namespace pyfpm::manager {

// Why a worker in state Stopping was told to stop; it decides the words of
// its exit's log line and what its exit counts towards.
enum class StopReason { None, Recycled, ScaledDown, RequestTimeout, EmergencyRestart, PoolStop };

constexpr std::string_view toString(StopReason reason)
{
    switch (reason) {
    case StopReason::None:
        return "none";
    case StopReason::Recycled:
        return "recycled";
    case StopReason::ScaledDown:
        return "scaled down";
    case StopReason::RequestTimeout:
        return "stopped over request_timeout";
    case StopReason::EmergencyRestart:
        return "stopped by an emergency restart";
    case StopReason::PoolStop:
        return "stopped with its pool";
    }
    return "?";
}

// Owned by its Pool, on the event loop's thread. `state` changes only
// through Pool::setWorkerState.
struct Worker {
    // Lines of stdout/stderr kept for the log line that explains an early
    // death (a Python traceback's last lines name the error).
    static constexpr std::size_t kRecentLines = 10;

    pid_t pid = -1;
    WorkerState state = WorkerState::Starting;
    StopReason stopReason = StopReason::None;
    std::chrono::steady_clock::time_point startedAt;
    std::chrono::steady_clock::time_point readyAt;  // when "ready\n" came (a command worker: exec)
    // A command worker that has run kCommandSettleTime (command_policy.hpp):
    // its program works. Python workers prove that by becoming ready.
    bool settled = false;
    std::unique_ptr<LineReader> notify;  // "ready\n" and "recycle ...\n" arrive here
    // The abstract socket name of its private channel for the bridge, from
    // "ready @NAME" (worker_contract.hpp); empty when it has none.
    std::string channel;
    std::unique_ptr<LineReader> output;  // stdout and stderr, merged
    std::deque<std::string> recentOutput;

    // Its scoreboard slot, released when it is reaped.
    std::size_t slot = 0;
    // The slot as the last maintenance tick read it; nullopt before the
    // first consistent read.
    std::optional<SlotSnapshot> lastSlot;
    long requestLimit = 0;  // --max-requests it was given; 0 = none

    // Recycling. The worker asked ("recycle REASON VALUE"): `recycleReason`
    // is set; `replacement` is the worker spawned to take over (0 while the
    // recycle waits for its turn). On a replacement, `replaces` names the
    // worker it takes over from; it is told to stop once this one is ready.
    std::string recycleReason;
    std::string recycleValue;
    pid_t replacement = 0;
    pid_t replaces = 0;

    // The requestStartedAtMs of the request already in the slowlog.
    std::int64_t slowReportedFor = -1;
    // Stopping with SIGTERM that may not be enough (request_timeout,
    // emergency restart): SIGKILL to its process group once this passes.
    std::optional<std::chrono::steady_clock::time_point> killAt;

    void remember(std::string line)
    {
        if (recentOutput.size() == kRecentLines) {
            recentOutput.pop_front();
        }
        recentOutput.push_back(std::move(line));
    }
};

}  // namespace pyfpm::manager
