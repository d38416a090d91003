// Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): each
// metric family once, its HELP and TYPE lines first, then one sample per
// pool (and per reason or state where labelled). Counters end in _total;
// durations are in seconds, as Prometheus' naming conventions ask.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <iterator>

#include "src/pyfpm/status/fields.hpp"
#include "src/pyfpm/status/format.hpp"

namespace pyfpm::status {

namespace {

using manager::PoolState;
using manager::PoolStatus;

// Label values: backslash, double quote and line feed are escaped.
std::string escapeLabel(std::string_view value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

class Exposition {
public:
    explicit Exposition(const std::vector<PoolStatus>& pools) : pools_(pools) {}

    // One family with one sample per pool.
    template <class Value>
    void perPool(std::string_view name, std::string_view type, std::string_view help,
                 const std::function<Value(const PoolStatus&)>& value) {
        header(name, type, help);
        for (const PoolStatus& pool : pools_) sample(name, pool, "", value(pool));
    }

    void header(std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(out(), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }

    // `extra` is further labels, already rendered: `,reason="max_rss"`.
    template <class Value>
    void sample(std::string_view name, const PoolStatus& pool, std::string_view extra, const Value& value) {
        fmt::format_to(out(), "{}{{pool=\"{}\"{}}} {}\n", name, escapeLabel(pool.name), extra, value);
    }

    std::string take() { return std::move(text_); }

private:
    std::back_insert_iterator<std::string> out() { return std::back_inserter(text_); }

    const std::vector<PoolStatus>& pools_;
    std::string text_;
};

double seconds(std::chrono::milliseconds duration) {
    return static_cast<double>(duration.count()) / 1e3;
}

std::string bound(std::size_t bucket) {
    if (bucket >= manager::kDurationBucketBoundsUs.size()) return "+Inf";
    // As Prometheus' own clients write bounds: "1.0", not "1".
    const std::uint64_t us = manager::kDurationBucketBoundsUs[bucket];
    if (us % 1'000'000 == 0) return fmt::format("{}.0", us / 1'000'000);
    return fmt::format("{}", static_cast<double>(us) / 1e6);
}

}  // namespace

std::string formatPrometheus(const std::vector<PoolStatus>& pools, const Now& now) {
    using Count = std::uint64_t;
    Exposition e(pools);

    e.header("pyfpm_pool_info", "gauge", "The pool's process manager (label pm); always 1.");
    for (const PoolStatus& pool : pools) {
        e.sample("pyfpm_pool_info", pool, fmt::format(",pm=\"{}\"", manager::toString(pool.pm)), 1);
    }
    e.header("pyfpm_pool_state", "gauge", "1 for the state the pool is in, 0 for the others.");
    for (const PoolStatus& pool : pools) {
        for (const PoolState state : {PoolState::Starting, PoolState::Running, PoolState::Failing,
                                      PoolState::Stopping, PoolState::Stopped}) {
            e.sample("pyfpm_pool_state", pool, fmt::format(",state=\"{}\"", manager::toString(state)),
                     pool.state == state ? 1 : 0);
        }
    }
    e.perPool<long long>("pyfpm_start_time_seconds", "gauge", "When the pool started, in Unix seconds.",
                         [](const PoolStatus& p) {
                             return std::chrono::duration_cast<std::chrono::seconds>(p.startTime.time_since_epoch())
                                 .count();
                         });
    e.perPool<long long>("pyfpm_start_since_seconds", "gauge", "Seconds since the pool started.",
                         [&now](const PoolStatus& p) { return fields::secondsSince(p.startTime, now); });
    e.perPool<Count>("pyfpm_accepted_connections_total", "counter", "Requests the pool's workers finished.",
                     [](const PoolStatus& p) { return p.acceptedConnections; });
    e.perPool<int>("pyfpm_listen_queue", "gauge", "Connections waiting in the pool socket's accept queue.",
                   [](const PoolStatus& p) { return fields::listenQueue(p); });
    e.perPool<int>("pyfpm_max_listen_queue", "gauge", "The longest accept queue seen since the pool started.",
                   [](const PoolStatus& p) { return p.maxListenQueue; });
    e.perPool<int>("pyfpm_listen_queue_length", "gauge", "The accept queue's bound (listen_backlog).",
                   [](const PoolStatus& p) { return p.listenBacklog; });
    e.perPool<int>("pyfpm_idle_processes", "gauge", "Workers waiting for a request.",
                   [](const PoolStatus& p) { return p.idleWorkers; });
    e.perPool<int>("pyfpm_active_processes", "gauge", "Workers serving a request.",
                   [](const PoolStatus& p) { return p.busyWorkers; });
    e.perPool<int>("pyfpm_total_processes", "gauge", "Workers that serve (idle and active).",
                   [](const PoolStatus& p) { return fields::totalProcesses(p); });
    e.perPool<int>("pyfpm_starting_processes", "gauge", "Workers spawned and not ready yet.",
                   [](const PoolStatus& p) { return p.startingWorkers; });
    e.perPool<int>("pyfpm_max_active_processes", "gauge", "The most workers busy at once since the pool started.",
                   [](const PoolStatus& p) { return p.maxActiveProcesses; });
    e.perPool<Count>("pyfpm_max_children_reached_total", "counter", "Times demand met a pool at max_children.",
                     [](const PoolStatus& p) { return p.maxChildrenReached; });
    e.perPool<Count>("pyfpm_slow_requests_total", "counter", "Requests that ran past slowlog_timeout.",
                     [](const PoolStatus& p) { return p.slowRequests; });
    e.perPool<int>("pyfpm_max_children", "gauge", "Configured max_children.",
                   [](const PoolStatus& p) { return p.maxChildren; });
    e.perPool<int>("pyfpm_min_spare_servers", "gauge", "Configured min_spare_servers.",
                   [](const PoolStatus& p) { return p.limits.minSpareServers; });
    e.perPool<int>("pyfpm_max_spare_servers", "gauge", "Configured max_spare_servers.",
                   [](const PoolStatus& p) { return p.limits.maxSpareServers; });
    e.perPool<long>("pyfpm_max_requests", "gauge", "Configured max_requests (0: none).",
                    [](const PoolStatus& p) { return p.limits.maxRequests; });
    e.perPool<double>("pyfpm_request_timeout_seconds", "gauge", "Configured request_timeout.",
                      [](const PoolStatus& p) { return seconds(p.limits.requestTimeout); });

    e.header("pyfpm_recycles_total", "counter", "Workers recycled, by reason.");
    for (const PoolStatus& pool : pools) {
        std::map<std::string, Count> reasons;
        for (const std::string_view reason : fields::kRecycleReasons) reasons[std::string(reason)] = 0;
        for (const auto& [reason, count] : pool.recycles) reasons[reason] = count;
        for (const auto& [reason, count] : reasons) {
            e.sample("pyfpm_recycles_total", pool, fmt::format(",reason=\"{}\"", escapeLabel(reason)), count);
        }
    }
    e.header("pyfpm_kills_total", "counter", "Workers killed by the manager, by reason.");
    for (const PoolStatus& pool : pools) {
        e.sample("pyfpm_kills_total", pool, ",reason=\"request_timeout\"", pool.timeoutKills);
    }
    e.perPool<Count>("pyfpm_restarts_total", "counter", "Unexpected exits of ready workers (restarted).",
                     [](const PoolStatus& p) { return p.restarts; });
    e.perPool<Count>("pyfpm_emergency_restarts_total", "counter",
                     "Whole-pool restarts after emergency_restart_threshold crashes.",
                     [](const PoolStatus& p) { return p.emergencyRestarts; });

    e.header("pyfpm_request_duration_seconds", "histogram", "Durations of the requests the workers finished.");
    for (const PoolStatus& pool : pools) {
        Count cumulative = 0;
        for (std::size_t i = 0; i < manager::kDurationBuckets; ++i) {
            cumulative += pool.requestDurations.buckets[i];
            e.sample("pyfpm_request_duration_seconds_bucket", pool, fmt::format(",le=\"{}\"", bound(i)),
                     cumulative);
        }
        e.sample("pyfpm_request_duration_seconds_sum", pool, "",
                 static_cast<double>(pool.requestDurations.sumUs) / 1e6);
        e.sample("pyfpm_request_duration_seconds_count", pool, "", cumulative);
    }
    return e.take();
}

}  // namespace pyfpm::status
