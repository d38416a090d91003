// `pyfpmctl status`: the daemon's status answer as a table for people
// (pyfpmctl(8), OUTPUT). Pure: JSON in, text out.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace pyfpm::ctl {

// One row per pool: POOL PM STATE IDLE BUSY TOTAL MAX QUEUE ACCEPTED
// MAX-REACHED SLOW RECYCLES RESTARTS. With `workers`, a second table with a
// row per worker: POOL PID STATE REQUESTS REQUEST FOR RSS (the current
// request while busy, else the last one, and how long it has run or took).
// Columns are padded to their widest cell. Fields missing from `answer`
// show as "-".
std::string formatStatus(const nlohmann::json& answer, bool workers);

// 1536 → "1.5KiB", 0 → "-" (unknown).
std::string formatBytes(std::uint64_t bytes);
// 250 → "250ms", 1500 → "1.5s", 125000 → "2m5s".
std::string formatMillis(long long ms);

}  // namespace pyfpm::ctl
