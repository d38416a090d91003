// What the maintenance tick does about a worker's running request:
// request_timeout (php-fpm's request_terminate_timeout) and slowlog_timeout.
// Pure: a scoreboard slot and the time in, a verdict out.
#pragma once

#include <chrono>
#include <cstdint>

#include "manager/pool_config.hpp"
#include "manager/scoreboard.hpp"

namespace pyfpm::manager {

struct RequestCheck {
    // Past slowlog_timeout and not reported yet: write the slowlog header
    // and ask the worker for its stack.
    bool slow = false;
    // Past request_timeout: stop the worker (SIGTERM, SIGKILL after a grace).
    bool overdue = false;
    std::chrono::milliseconds elapsed{0};
};

// `slot`: the worker's scoreboard slot; only a Busy slot is checked.
// `nowMs`: CLOCK_MONOTONIC in ms (monotonicMs()). `slowReportedFor`: the
// requestStartedAtMs of the request already written to the slowlog (-1 for
// none), so one request is reported once however long it runs. A timeout
// or slowlog_timeout of 0 (or less) is off.
RequestCheck checkRequest(const PoolConfig& config, const SlotSnapshot& slot, std::int64_t nowMs,
                          std::int64_t slowReportedFor);

}  // namespace pyfpm::manager
