// The JSON status page: php-fpm's JSON field names ("accepted conn",
// "processes", ...) per pool, inside {"pools": [...]} because one daemon
// serves several pools. Numbers are numbers; times are Unix seconds, as
// php-fpm's JSON has them.
#include <nlohmann/json.hpp>

#include "src/pyfpm/status/fields.hpp"
#include "src/pyfpm/status/format.hpp"

namespace pyfpm::status {

namespace {

using nlohmann::json;

long long unixSeconds(std::chrono::system_clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

json histogram(const manager::DurationHistogram& durations) {
    json buckets = json::array();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < manager::kDurationBuckets; ++i) {
        cumulative += durations.buckets[i];
        json bucket;
        if (i < manager::kDurationBucketBoundsUs.size()) {
            bucket["le"] = static_cast<double>(manager::kDurationBucketBoundsUs[i]) / 1e6;
        } else {
            bucket["le"] = "+Inf";
        }
        bucket["count"] = cumulative;
        buckets.push_back(std::move(bucket));
    }
    return json{{"buckets", std::move(buckets)},
                {"count", durations.count()},
                {"sum", static_cast<double>(durations.sumUs) / 1e6}};
}

json workerJson(const manager::WorkerStatus& worker, const Now& now) {
    const auto started = fields::wallTime(worker.startedAt, now);
    return json{
        {"pid", worker.pid},
        {"state", fields::workerState(worker.activity)},
        {"start time", unixSeconds(started)},
        {"start since", fields::secondsSince(started, now)},
        {"requests", worker.requests},
        {"request duration", fields::requestDurationUs(worker)},
        {"request method", worker.method.empty() ? "-" : worker.method},
        {"request uri", worker.uri.empty() ? "-" : worker.uri},
        {"content length", worker.contentLength},
        {"last request memory", worker.rssBytes},
    };
}

json poolJson(const manager::PoolStatus& pool, bool full, const Now& now) {
    json recycles = json::object();
    for (const std::string_view reason : fields::kRecycleReasons) recycles[std::string(reason)] = 0;
    for (const auto& [reason, count] : pool.recycles) recycles[reason] = count;
    json out{
        {"pool", pool.name},
        {"process manager", manager::toString(pool.pm)},
        {"start time", unixSeconds(pool.startTime)},
        {"start since", fields::secondsSince(pool.startTime, now)},
        {"accepted conn", pool.acceptedConnections},
        {"listen queue", fields::listenQueue(pool)},
        {"max listen queue", pool.maxListenQueue},
        {"listen queue len", pool.listenBacklog},
        {"idle processes", pool.idleWorkers},
        {"active processes", pool.busyWorkers},
        {"total processes", fields::totalProcesses(pool)},
        {"max active processes", pool.maxActiveProcesses},
        {"max children reached", pool.maxChildrenReached},
        {"slow requests", pool.slowRequests},
        {"pool state", manager::toString(pool.state)},
        {"limits",
         {{"max children", pool.maxChildren},
          {"start servers", pool.limits.startServers},
          {"min spare servers", pool.limits.minSpareServers},
          {"max spare servers", pool.limits.maxSpareServers},
          {"max requests", pool.limits.maxRequests},
          {"max rss", pool.limits.maxRssBytes},
          {"request timeout", static_cast<double>(pool.limits.requestTimeout.count()) / 1e3},
          {"slowlog timeout", static_cast<double>(pool.limits.slowlogTimeout.count()) / 1e3},
          {"process idle timeout", static_cast<double>(pool.limits.processIdleTimeout.count()) / 1e3}}},
        {"starting processes", pool.startingWorkers},
        {"stopping processes", pool.stoppingWorkers},
        {"recycles", std::move(recycles)},
        {"kills", {{"request_timeout", pool.timeoutKills}}},
        {"restarts", pool.restarts},
        {"emergency restarts", pool.emergencyRestarts},
        {"request duration", histogram(pool.requestDurations)},
    };
    if (!pool.lastFailure.empty()) out["last failure"] = pool.lastFailure;
    if (full) {
        json processes = json::array();
        for (const manager::WorkerStatus& worker : pool.workers) processes.push_back(workerJson(worker, now));
        out["processes"] = std::move(processes);
    }
    return out;
}

}  // namespace

std::string formatJson(const std::vector<manager::PoolStatus>& pools, bool full, const Now& now) {
    json out{{"pools", json::array()}};
    for (const manager::PoolStatus& pool : pools) out["pools"].push_back(poolJson(pool, full, now));
    // A worker's URI is whatever the client sent: never let bad UTF-8 make
    // the page fail.
    return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace pyfpm::status
