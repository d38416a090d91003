// Status pages of the pools: pure formatters of manager::PoolStatus
// snapshots into the formats the HTTP status path serves (pyfpm.yaml(5),
// http.status_path; pyfpm(8), STATUS PAGE):
//
//   text        php-fpm's status page, field for field, one block per pool,
//               then what php-fpm omits (pool state, limits, recycles and
//               kills by reason); `full` adds one block per worker.
//   JSON        {"pools": [...]}: the same fields under php-fpm's JSON names,
//               workers under "processes" when `full`.
//   Prometheus  text exposition format 0.0.4: `pyfpm_` metrics labelled by
//               pool, with HELP and TYPE lines and a request-duration
//               histogram per pool.
//
// No I/O, no clock reads: the caller passes "now" so output is reproducible
// (tests compare golden text). Thread-safe: no state.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manager/pool_status.hpp"

namespace pyfpm::status {

enum class Format { Text, Json, Prometheus };

// The two clocks PoolStatus uses: wall time for pool start times, the
// steady clock for worker start times (converted to wall time by their
// distance from `steady`).
struct Now {
    std::chrono::system_clock::time_point wall;
    std::chrono::steady_clock::time_point steady;

    static Now current();
};

// What a status request asks for, from its query string (php-fpm's
// spelling): "json", "full", "json&full", "format=json|text|prometheus",
// "pool=NAME" (one pool only). Unknown parameters are ignored, as php-fpm
// does (it also ignores "html" and "xml", served here as text).
struct Query {
    Format format = Format::Text;
    bool full = false;
    std::optional<std::string> pool;
};
Query parseQuery(std::string_view query);

// The Content-Type each format is served with.
std::string_view contentType(Format format);

std::string formatText(const std::vector<manager::PoolStatus>& pools, bool full, const Now& now);
std::string formatJson(const std::vector<manager::PoolStatus>& pools, bool full, const Now& now);
std::string formatPrometheus(const std::vector<manager::PoolStatus>& pools, const Now& now);

// Dispatches on `format`; Prometheus has no per-worker rows, so `full` is
// ignored there.
std::string format(const std::vector<manager::PoolStatus>& pools, Format format, bool full,
                   const Now& now);

}  // namespace pyfpm::status
