// `status` answers of the control socket: a pool snapshot as JSON, with
// snake_case keys for scripts (pyfpmctl(8), JSON OUTPUT). Pure.
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "manager/pool_status.hpp"

namespace pyfpm::control {

// Every field of `pool`, workers under "workers_detail" (one object each).
// `now` (steady clock) turns worker start times into ages.
nlohmann::json toJson(const manager::PoolStatus& pool, std::chrono::steady_clock::time_point now);

}  // namespace pyfpm::control
