// Values the three status formats share, so that text, JSON and Prometheus
// never disagree about a number: php-fpm's derived fields, worker start
// times on the wall clock, and the names of the extra counters.
// Internal to src/pyfpm/status.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "manager/pool_status.hpp"
#include "src/pyfpm/status/format.hpp"

namespace pyfpm::status::fields {

// php-fpm's "total processes": workers that serve (idle + active).
inline int totalProcesses(const manager::PoolStatus& pool) {
    return pool.idleWorkers + pool.busyWorkers;
}

// php-fpm shows a listen queue it could not measure as 0.
inline int listenQueue(const manager::PoolStatus& pool) {
    return pool.listenQueue < 0 ? 0 : pool.listenQueue;
}

inline long long secondsSince(std::chrono::system_clock::time_point then, const Now& now) {
    const auto since = std::chrono::duration_cast<std::chrono::seconds>(now.wall - then).count();
    return since < 0 ? 0 : since;
}

// A worker's start on the wall clock.
inline std::chrono::system_clock::time_point wallTime(std::chrono::steady_clock::time_point then,
                                                      const Now& now) {
    return now.wall - std::chrono::duration_cast<std::chrono::system_clock::duration>(now.steady - then);
}

// php-fpm's "request duration": µs, of the current request while busy,
// else of the last one.
inline std::uint64_t requestDurationUs(const manager::WorkerStatus& worker) {
    if (worker.activity == manager::SlotState::Busy) {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(worker.requestDuration).count());
    }
    return static_cast<std::uint64_t>(worker.lastRequestDuration.count());
}

// php-fpm's state names ("Idle", "Running" for busy, ...).
std::string_view workerState(manager::SlotState state);

// php-fpm's "start time": "20/Nov/2026:10:00:00 +0100" in local time.
std::string clfTime(std::chrono::system_clock::time_point time);

// Recycle reasons always shown (0 until one happens), in this order; a
// reason the manager adds later still shows after them.
inline constexpr std::string_view kRecycleReasons[] = {"max_requests", "max_rss"};

}  // namespace pyfpm::status::fields
