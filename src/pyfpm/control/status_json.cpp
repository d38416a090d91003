#include "src/pyfpm/control/status_json.hpp"

#include <numeric>
#include <string>
#include <string_view>

namespace pyfpm::control {

namespace {

using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// A command pool's worker has no scoreboard: "running" instead of a guess
// at idle or busy, and no request count (null, which pyfpmctl shows as
// "-"); the other request fields stay empty and zero.
std::string activityOf(const manager::WorkerStatus& worker)
{
    if (!worker.detail && worker.activity == manager::SlotState::Busy) {
        return "running";
    }
    return std::string(manager::toString(worker.activity));
}

json workerJson(const manager::WorkerStatus& worker, std::chrono::steady_clock::time_point now)
{
    return json{
        {"pid", worker.pid},
        {"state", manager::toString(worker.state)},
        {"activity", activityOf(worker)},
        {"detail", worker.detail},
        {"age_ms", duration_cast<milliseconds>(now - worker.startedAt).count()},
        {"requests", worker.detail ? json(worker.requests) : json(nullptr)},
        {"request_method", worker.method},
        {"request_uri", worker.uri},
        {"content_length", worker.contentLength},
        // Busy: the current request so far; otherwise the last one's.
        {"request_duration_ms", worker.requestDuration.count()},
        {"rss_bytes", worker.rssBytes},
    };
}

std::string_view kindOf(manager::PoolKind kind)
{
    switch (kind) {
    case manager::PoolKind::App:
        return "app";
    case manager::PoolKind::Scripts:
        return "scripts";
    case manager::PoolKind::Command:
        return "command";
    }
    return "?";
}

}  // namespace

json toJson(const manager::PoolStatus& pool, std::chrono::steady_clock::time_point now)
{
    json workers = json::array();
    for (const auto& worker : pool.workers) {
        workers.push_back(workerJson(worker, now));
    }
    const std::uint64_t recycled = std::accumulate(pool.recycles.begin(), pool.recycles.end(), std::uint64_t{0},
                                                   [](std::uint64_t sum, const auto& entry) { return sum + entry.second; });
    json answer{
        {"name", pool.name},
        {"state", manager::toString(pool.state)},
        {"pm", manager::toString(pool.pm)},
        {"kind", kindOf(pool.kind)},
        {"listen", pool.listen.toString()},
        {"max_children", pool.maxChildren},
        {"start_time", std::chrono::duration_cast<std::chrono::seconds>(pool.startTime.time_since_epoch()).count()},
        {"starting_workers", pool.startingWorkers},
        {"ready_workers", pool.readyWorkers},
        {"recycling_workers", pool.recyclingWorkers},
        {"stopping_workers", pool.stoppingWorkers},
        {"idle_workers", pool.idleWorkers},
        {"busy_workers", pool.busyWorkers},
        {"total_workers", static_cast<int>(pool.workers.size())},
        {"listen_queue", pool.listenQueue},
        {"max_listen_queue", pool.maxListenQueue},
        {"listen_backlog", pool.listenBacklog},
        {"accepted_conn", pool.acceptedConnections},
        {"max_children_reached", pool.maxChildrenReached},
        {"slow_requests", pool.slowRequests},
        {"recycles", pool.recycles},
        {"recycles_total", recycled},
        {"restarts", pool.restarts},
        {"timeout_kills", pool.timeoutKills},
        {"emergency_restarts", pool.emergencyRestarts},
        {"max_active_processes", pool.maxActiveProcesses},
        {"start_failures", pool.startFailures},
        {"last_failure", pool.lastFailure},
        {"workers_detail", std::move(workers)},
    };
    return answer;
}

}  // namespace pyfpm::control
