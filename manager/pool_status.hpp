// A snapshot of one pool for the HTTP bridge (503 or not), status pages and
// logs. Plain data, copied out of the Supervisor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "manager/pool_config.hpp"
#include "manager/pool_state.hpp"
#include "manager/worker_state.hpp"

namespace pyfpm::manager {

struct WorkerStatus {
    pid_t pid = -1;
    WorkerState state = WorkerState::Starting;
    std::chrono::steady_clock::time_point startedAt;
};

struct PoolStatus {
    std::string name;
    PoolState state = PoolState::Starting;
    // As bound: a tcp `listen` with port 0 shows the port the kernel chose.
    ListenAddress listen;
    int maxChildren = 0;
    int startingWorkers = 0;
    int readyWorkers = 0;
    int stoppingWorkers = 0;
    std::vector<WorkerStatus> workers;  // by pid

    // Consecutive failed start rounds since a worker was last ready.
    int startFailures = 0;
    // When the next start in backoff is due; nullopt when none is pending.
    std::optional<std::chrono::steady_clock::time_point> nextStartAt;
    // The latest death before ready, for 503 bodies and logs: "worker 4121
    // exited with status 3 before it was ready", and that worker's last
    // lines of stdout/stderr (oldest first). Kept after a recovery; empty
    // when no worker ever failed to start.
    std::string lastFailure;
    std::vector<std::string> lastFailureOutput;
};

}  // namespace pyfpm::manager
