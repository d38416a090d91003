// php-fpm's plain-text status page (sapi/fpm/fpm/fpm_status.c), one block
// per pool separated by a blank line. The php-fpm fields come first and
// spelled as php-fpm spells them, so scripts written for php-fpm keep
// working on the first pool; pyfpm's additions follow.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "src/pyfpm/status/fields.hpp"
#include "src/pyfpm/status/format.hpp"

namespace pyfpm::status {

namespace {

// php-fpm pads the names so values start in column 23; a longer name of
// pyfpm's still gets one space.
template <class Value>
void line(std::string& out, std::string_view name, const Value& value) {
    fmt::format_to(std::back_inserter(out), "{:<21} {}\n", fmt::format("{}:", name), value);
}

std::string orDash(const std::string& text) {
    return text.empty() ? "-" : text;
}

void poolBlock(std::string& out, const manager::PoolStatus& pool, const Now& now) {
    line(out, "pool", pool.name);
    line(out, "process manager", manager::toString(pool.pm));
    line(out, "start time", fields::clfTime(pool.startTime));
    line(out, "start since", fields::secondsSince(pool.startTime, now));
    line(out, "accepted conn", pool.acceptedConnections);
    line(out, "listen queue", fields::listenQueue(pool));
    line(out, "max listen queue", pool.maxListenQueue);
    line(out, "listen queue len", pool.listenBacklog);
    line(out, "idle processes", pool.idleWorkers);
    line(out, "active processes", pool.busyWorkers);
    line(out, "total processes", fields::totalProcesses(pool));
    line(out, "max active processes", pool.maxActiveProcesses);
    line(out, "max children reached", pool.maxChildrenReached);
    line(out, "slow requests", pool.slowRequests);
    // pyfpm's additions.
    line(out, "pool state", manager::toString(pool.state));
    line(out, "max children", pool.maxChildren);
    line(out, "start servers", pool.limits.startServers);
    line(out, "min spare servers", pool.limits.minSpareServers);
    line(out, "max spare servers", pool.limits.maxSpareServers);
    line(out, "max requests", pool.limits.maxRequests);
    line(out, "max rss", pool.limits.maxRssBytes);
    line(out, "request timeout", fmt::format("{}ms", pool.limits.requestTimeout.count()));
    line(out, "starting processes", pool.startingWorkers);
    line(out, "stopping processes", pool.stoppingWorkers);
    for (const std::string_view reason : fields::kRecycleReasons) {
        const auto found = pool.recycles.find(std::string(reason));
        line(out, fmt::format("recycles {}", reason), found == pool.recycles.end() ? 0 : found->second);
    }
    for (const auto& [reason, count] : pool.recycles) {
        if (std::find(std::begin(fields::kRecycleReasons), std::end(fields::kRecycleReasons), reason) ==
            std::end(fields::kRecycleReasons)) {
            line(out, fmt::format("recycles {}", reason), count);
        }
    }
    line(out, "kills request_timeout", pool.timeoutKills);
    line(out, "restarts", pool.restarts);
    line(out, "emergency restarts", pool.emergencyRestarts);
}

void workerBlock(std::string& out, const manager::WorkerStatus& worker, const Now& now) {
    const auto started = fields::wallTime(worker.startedAt, now);
    out += "\n************************\n";
    line(out, "pid", worker.pid);
    line(out, "state", fields::workerState(worker.activity));
    line(out, "start time", fields::clfTime(started));
    line(out, "start since", fields::secondsSince(started, now));
    line(out, "requests", worker.requests);
    line(out, "request duration", fields::requestDurationUs(worker));
    line(out, "request method", orDash(worker.method));
    line(out, "request URI", orDash(worker.uri));
    line(out, "content length", worker.contentLength);
    line(out, "last request memory", worker.rssBytes);
}

}  // namespace

std::string formatText(const std::vector<manager::PoolStatus>& pools, bool full, const Now& now) {
    std::string out;
    for (std::size_t i = 0; i < pools.size(); ++i) {
        if (i != 0) out += '\n';
        poolBlock(out, pools[i], now);
        if (!full) continue;
        for (const manager::WorkerStatus& worker : pools[i].workers) workerBlock(out, worker, now);
    }
    return out;
}

}  // namespace pyfpm::status
