// Pool::status(): the manager's counts plus a fresh read of the scoreboard.
#include <algorithm>

#include "manager/pool.hpp"

namespace pyfpm::manager {

namespace {

using std::chrono::milliseconds;

// What a worker does, as status pages show it. A command worker has no
// slot (`commandWorker`): nobody can tell idle from busy, so a running one
// counts as active (pool_status.hpp).
SlotState activityOf(const Worker& worker, const std::optional<SlotSnapshot>& slot, bool commandWorker)
{
    switch (worker.state) {
    case WorkerState::Starting:
        return SlotState::Starting;
    case WorkerState::Stopping:
        return SlotState::Draining;
    case WorkerState::Recycling:
    case WorkerState::Ready:
        break;
    }
    if (commandWorker) {
        return SlotState::Busy;
    }
    if (!slot || slot->state == SlotState::Free || slot->state == SlotState::Starting) {
        return SlotState::Idle;
    }
    return slot->state;
}

}  // namespace

PoolStatus Pool::status() const
{
    PoolStatus status;
    status.name = name();
    status.kind = config_.kind;
    status.state = state_;
    status.listen = listen_;
    status.pm = config_.pm;
    status.maxChildren = config_.max_children;
    status.limits.startServers = config_.start_servers;
    status.limits.minSpareServers = config_.min_spare_servers;
    status.limits.maxSpareServers = config_.max_spare_servers;
    status.limits.maxRequests = config_.max_requests;
    status.limits.maxRssBytes = static_cast<std::uint64_t>(config_.max_rss);
    status.limits.requestTimeout = config_.request_timeout;
    status.limits.slowlogTimeout = config_.slowlog_timeout;
    if (commandPool()) {
        // Ignored for command pools (command_policy.hpp): show them off.
        status.limits.maxRequests = 0;
        status.limits.maxRssBytes = 0;
        status.limits.slowlogTimeout = milliseconds(0);
    }
    status.limits.processIdleTimeout = config_.process_idle_timeout;
    status.startTime = startTime_;
    status.startingWorkers = workerCounts_[static_cast<std::size_t>(WorkerState::Starting)];
    status.readyWorkers = readyWorkers();
    status.recyclingWorkers = workerCounts_[static_cast<std::size_t>(WorkerState::Recycling)];
    status.stoppingWorkers = workerCounts_[static_cast<std::size_t>(WorkerState::Stopping)];

    const std::int64_t nowMs = monotonicMs();
    std::uint64_t liveRequests = 0;
    DurationHistogram liveDurations;
    for (const auto& [pid, worker] : workers_) {
        WorkerStatus entry;
        entry.pid = pid;
        entry.state = worker->state;
        entry.startedAt = worker->startedAt;
        if (commandPool()) {
            entry.detail = false;
            entry.activity = activityOf(*worker, std::nullopt, true);
            if (worker->state == WorkerState::Ready || worker->state == WorkerState::Recycling) {
                ++status.busyWorkers;
            }
            status.workers.push_back(std::move(entry));
            continue;
        }
        std::optional<SlotSnapshot> slot = scoreboard_.read(worker->slot);
        if (!slot || slot->pid != pid) {
            slot = worker->lastSlot;
        }
        entry.activity = activityOf(*worker, slot, false);
        if (slot) {
            entry.requests = slot->requests;
            entry.method = slot->method;
            entry.uri = slot->uri;
            entry.contentLength = slot->contentLength;
            entry.lastRequestDuration = std::chrono::microseconds(slot->lastRequestDurationUs);
            entry.requestDuration =
                slot->state == SlotState::Busy
                    ? milliseconds(std::max<std::int64_t>(0, nowMs - slot->requestStartedAtMs))
                    : std::chrono::duration_cast<milliseconds>(entry.lastRequestDuration);
            entry.rssBytes = slot->rssBytes;
            liveRequests += slot->requests;
            liveDurations += slot->durations;
        }
        if (worker->state == WorkerState::Ready || worker->state == WorkerState::Recycling) {
            status.busyWorkers += entry.activity == SlotState::Busy || entry.activity == SlotState::Draining ? 1 : 0;
            status.idleWorkers += entry.activity == SlotState::Idle ? 1 : 0;
        }
        status.workers.push_back(std::move(entry));
    }

    status.listenQueue = listenQueue_;
    status.maxListenQueue = maxListenQueue_;
    status.listenBacklog = listenBacklog_;
    status.acceptedConnections = reapedRequests_ + liveRequests;
    status.requestDurations = reapedDurations_;
    status.requestDurations += liveDurations;
    status.maxChildrenReached = maxChildrenReached_;
    status.slowRequests = slowRequests_;
    status.recycles = recycles_;
    status.restarts = restarts_;
    status.timeoutKills = timeoutKills_;
    status.emergencyRestarts = emergencyRestarts_;
    status.maxActiveProcesses = std::max(maxActive_, status.busyWorkers);

    status.startFailures = backoff_.failures();
    status.nextStartAt = nextStartAt_;
    status.lastFailure = lastFailure_;
    status.lastFailureOutput = lastFailureOutput_;
    return status;
}

}  // namespace pyfpm::manager
