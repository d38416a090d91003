// One worker process as its pool keeps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "manager/line_reader.hpp"
#include "manager/worker_state.hpp"

namespace pyfpm::manager {

// Owned by its Pool, on the event loop's thread. `state` changes only
// through Pool::setWorkerState.
struct Worker {
    // Lines of stdout/stderr kept for the log line that explains an early
    // death (a Python traceback's last lines name the error).
    static constexpr std::size_t kRecentLines = 10;

    pid_t pid = -1;
    WorkerState state = WorkerState::Starting;
    std::chrono::steady_clock::time_point startedAt;
    std::unique_ptr<LineReader> notify;  // "ready\n" arrives here
    std::unique_ptr<LineReader> output;  // stdout and stderr, merged
    std::deque<std::string> recentOutput;

    void remember(std::string line)
    {
        if (recentOutput.size() == kRecentLines) {
            recentOutput.pop_front();
        }
        recentOutput.push_back(std::move(line));
    }
};

}  // namespace pyfpm::manager
