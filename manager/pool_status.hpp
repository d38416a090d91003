// A snapshot of one pool for the HTTP bridge (503 or not), status pages and
// logs. Plain data, copied out of the Supervisor. Field names follow
// php-fpm's status page where it has them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "manager/pool_config.hpp"
#include "manager/pool_state.hpp"
#include "manager/scoreboard.hpp"
#include "manager/worker_state.hpp"

namespace pyfpm::manager {

struct WorkerStatus {
    pid_t pid = -1;
    WorkerState state = WorkerState::Starting;  // the manager's view
    // What the worker does, php-fpm's "state": Starting (not ready yet),
    // Idle, Busy, or Draining (told to stop, or recycling). A ready worker
    // that keeps no scoreboard (started by hand) shows Idle.
    SlotState activity = SlotState::Starting;
    // False for a command pool's worker (PoolKind::Command): it has no
    // scoreboard, so the fields below stay zero and empty, and `activity`
    // is Busy whenever it runs (whether it serves a request right now is
    // unknown; status pages show it as running, not as busy).
    bool detail = true;
    std::chrono::steady_clock::time_point startedAt;
    // From the scoreboard (zero until the worker wrote its slot):
    std::uint64_t requests = 0;
    std::string method;  // the current request while Busy, else the last one
    std::string uri;
    std::uint64_t contentLength = 0;  // bytes, of that request's body
    // Busy: how long the current request has run; otherwise the last
    // request's duration.
    std::chrono::milliseconds requestDuration{0};
    std::chrono::microseconds lastRequestDuration{0};
    std::uint64_t rssBytes = 0;  // after its last request
};

struct PoolStatus {
    std::string name;
    PoolKind kind = PoolKind::App;
    PoolState state = PoolState::Starting;
    // As bound: a tcp `listen` with port 0 shows the port the kernel chose.
    ListenAddress listen;
    ProcessManager pm = ProcessManager::Static;
    int maxChildren = 0;
    // The other configured limits, for status pages (php-fpm shows none).
    struct Limits {
        int startServers = 0;
        int minSpareServers = 0;
        int maxSpareServers = 0;
        // Recycling and the slowlog are off (0) for command pools, which
        // ignore them.
        long maxRequests = 0;             // 0 = none
        std::uint64_t maxRssBytes = 0;    // 0 = none
        std::chrono::milliseconds requestTimeout{0};
        std::chrono::milliseconds slowlogTimeout{0};  // 0 = off
        std::chrono::milliseconds processIdleTimeout{0};
    } limits;
    // When the pool was started (wall clock, for "start time" and "start
    // since" on status pages).
    std::chrono::system_clock::time_point startTime;

    // Workers by the manager's state. readyWorkers counts Ready and
    // Recycling ones (both serve).
    int startingWorkers = 0;
    int readyWorkers = 0;
    int recyclingWorkers = 0;
    int stoppingWorkers = 0;
    // By the scoreboard, among workers that serve (php-fpm's "idle
    // processes", "active processes"). A command pool has no scoreboard:
    // its serving workers all count as busy, so that idle + busy is still
    // php-fpm's "total processes"; its accept queue says more.
    int idleWorkers = 0;
    int busyWorkers = 0;
    std::vector<WorkerStatus> workers;  // by pid

    // The accept queue as the last maintenance tick measured it (-1:
    // unknown), the longest seen since start, and the kernel's bound on it
    // (php-fpm's "listen queue", "max listen queue", "listen queue len").
    int listenQueue = -1;
    int maxListenQueue = 0;
    int listenBacklog = 0;

    // Counters since start.
    std::uint64_t acceptedConnections = 0;  // requests finished, by live and reaped workers
    std::uint64_t maxChildrenReached = 0;   // times demand met a full pool
    std::uint64_t slowRequests = 0;         // requests past slowlog_timeout
    std::map<std::string, std::uint64_t> recycles;  // by reason: "max_requests", "max_rss"
    std::uint64_t restarts = 0;             // unexpected exits of ready workers
    std::uint64_t timeoutKills = 0;         // workers stopped over request_timeout
    std::uint64_t emergencyRestarts = 0;    // emergency_restart_threshold reached
    int maxActiveProcesses = 0;             // most busy workers at once
    // Durations of the finished requests counted in acceptedConnections
    // (live workers' slots plus reaped workers' totals). Empty for pools
    // whose workers keep no scoreboard.
    DurationHistogram requestDurations;

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
