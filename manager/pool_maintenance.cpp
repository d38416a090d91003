// The maintenance tick of a Pool: reads the scoreboard and the listen queue,
// enforces request_timeout and slowlog_timeout, and applies decideScale().
// Runs every maintenanceInterval, at once when something changed (a worker
// left, a backoff ended), and for pm ondemand when a connection is pending.
#include <algorithm>
#include <csignal>

#include <event2/event.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "manager/command_policy.hpp"
#include "manager/describe.hpp"
#include "manager/listen_queue.hpp"
#include "manager/pool.hpp"
#include "manager/request_watch.hpp"
#include "manager/scaling.hpp"
#include "manager/slowlog.hpp"
#include "manager/worker_contract.hpp"

namespace pyfpm::manager {

using std::chrono::milliseconds;

void Pool::maintain(Trigger trigger)
{
    if (stopped_) {
        return;
    }
    const auto now = Clock::now();
    settleCommandWorkers(now);
    readSlots();
    // Also while stopping: a draining worker stuck in a request is still
    // stopped at request_timeout.
    checkRequests();
    escalateKills(now);
    if (!stopping_) {
        measureQueue();
        scale(now, trigger == Trigger::ListenSocket);
        pumpRecycles();
    }
    updateState();
    // Level-triggered, a tick the pending connection itself caused does not
    // watch again: until a worker is ready or gone, or the next tick, the
    // same connection would only wake the loop again and again.
    if (edgeTriggered_ || trigger != Trigger::ListenSocket) {
        watchListenSocket();
    }
}

void Pool::readSlots()
{
    if (commandPool()) {
        return;  // their slots hold only the pid they were assigned
    }
    for (auto& [pid, worker] : workers_) {
        std::optional<SlotSnapshot> slot = scoreboard_.read(worker->slot);
        // A torn read (the worker died mid-write) keeps the last good one.
        if (slot && slot->pid == pid) {
            worker->lastSlot = std::move(slot);
        }
    }
}

void Pool::checkRequests()
{
    const std::int64_t nowMs = monotonicMs();
    for (auto& [pid, owned] : workers_) {
        Worker& worker = *owned;
        if (!worker.lastSlot || worker.state == WorkerState::Starting) {
            continue;
        }
        const SlotSnapshot& slot = *worker.lastSlot;
        const RequestCheck check = checkRequest(config_, slot, nowMs, worker.slowReportedFor);
        // Slow first: a request over both limits gets its stack into the
        // slowlog before it is stopped (SIGUSR2 is delivered before SIGTERM).
        if (check.slow) {
            reportSlow(worker, slot, check.elapsed);
        }
        if (check.overdue && worker.stopReason != StopReason::RequestTimeout) {
            ++timeoutKills_;
            spdlog::error("[pool {}] worker {} busy for {} serving {} {} (request_timeout {}); SIGTERM now, "
                          "SIGKILL in {} if it is still there",
                          name(), pid, formatDuration(check.elapsed), slot.method, slot.uri,
                          formatDuration(config_.request_timeout), formatDuration(options_.killGrace));
            stopWorker(worker, StopReason::RequestTimeout, options_.killGrace);
        }
    }
}

void Pool::reportSlow(Worker& worker, const SlotSnapshot& slot, milliseconds elapsed)
{
    worker.slowReportedFor = slot.requestStartedAtMs;
    ++slowRequests_;
    if (config_.slowlog.empty()) {
        spdlog::warn("[pool {}] worker {} serving {} {} for {} (slowlog_timeout {}); no slowlog file set, so no "
                     "stack",
                     name(), worker.pid, slot.method, slot.uri, formatDuration(elapsed),
                     formatDuration(config_.slowlog_timeout));
        return;
    }
    const std::string error = appendToSlowlog(
        config_.slowlog,
        slowlogHeader(std::chrono::system_clock::now(), name(), worker.pid, slot.method, slot.uri, elapsed));
    if (!error.empty()) {
        spdlog::error("[pool {}] worker {} serving {} {} for {}: slowlog: {}; its stack is not written", name(),
                      worker.pid, slot.method, slot.uri, formatDuration(elapsed), error);
        return;
    }
    // The worker got --slowlog (spawn.hpp), so it handles the signal and
    // appends its stack below the header.
    ::kill(worker.pid, contract::kSlowlogSignal);
    spdlog::warn("[pool {}] worker {} serving {} {} for {} (slowlog_timeout {}); its stack goes to {}", name(),
                 worker.pid, slot.method, slot.uri, formatDuration(elapsed), formatDuration(config_.slowlog_timeout),
                 config_.slowlog.string());
}

void Pool::escalateKills(Clock::time_point now)
{
    for (auto& [pid, worker] : workers_) {
        if (!worker->killAt || *worker->killAt > now) {
            continue;
        }
        worker->killAt.reset();
        spdlog::warn("[pool {}] worker {} still running {} after SIGTERM ({}); sending SIGKILL to its process "
                     "group",
                     name(), pid, formatDuration(options_.killGrace), toString(worker->stopReason));
        if (::kill(-pid, SIGKILL) != 0) {
            ::kill(pid, SIGKILL);
        }
    }
}

void Pool::measureQueue()
{
    if (!socket_) {
        return;
    }
    // Requests the bridge holds while every channel is busy wait for a
    // worker just as those in the accept queue do.
    const int held = channels_ != nullptr ? static_cast<int>(channels_->queued(name())) : 0;
    const std::optional<ListenQueue> queue = measureListenQueue(socket_->fd());
    if (!queue) {
        listenQueue_ = held > 0 ? held : -1;
        return;
    }
    listenQueue_ = queue->length + held;
    listenBacklog_ = queue->backlog;
    maxListenQueue_ = std::max(maxListenQueue_, listenQueue_);
}

void Pool::settleCommandWorkers(Clock::time_point now)
{
    if (!commandPool()) {
        return;
    }
    bool settled = false;
    for (const auto& [pid, worker] : workers_) {
        if (worker->settled || worker->state != WorkerState::Ready || now - worker->readyAt < kCommandSettleTime) {
            continue;
        }
        worker->settled = true;
        settled = true;
        if (backoff_.failures() > 0) {
            spdlog::info("[pool {}] worker {} has run {}: the program starts; the backoff starts over", name(), pid,
                         formatDuration(kCommandSettleTime));
            backoff_.reset();
        }
    }
    if (settled) {
        notifyObserver();  // a reload waiting for proven workers looks again
    }
}

void Pool::scale(Clock::time_point now, bool connectionPending)
{
    if (commandPool()) {
        scaleCommand(now, connectionPending);
        return;
    }
    ScalingInput input;
    input.spawnRate = spawnRate_;
    // Woken by a connection on a socket whose queue the kernel does not
    // report: at least that one waits.
    input.listenQueue = connectionPending && listenQueue_ < 0 ? 1 : listenQueue_;
    const std::int64_t nowMs = monotonicMs();
    std::int64_t oldestMs = 0;
    for (const auto& [pid, worker] : workers_) {
        switch (worker->state) {
        case WorkerState::Starting:
            ++input.starting;
            continue;
        case WorkerState::Recycling:
            // Its replacement, counted as starting, takes its place.
            if (worker->replacement != 0) {
                continue;
            }
            break;
        case WorkerState::Ready:
            break;
        case WorkerState::Stopping:
            continue;
        }
        const std::optional<SlotSnapshot>& slot = worker->lastSlot;
        if (slot && (slot->state == SlotState::Busy || slot->state == SlotState::Draining)) {
            ++input.busy;
            if (slot->state == SlotState::Busy) {
                oldestMs = std::max(oldestMs, nowMs - slot->requestStartedAtMs);
            }
        } else if (slot && slot->state == SlotState::Idle) {
            input.idle.push_back({pid, now - milliseconds(std::max<std::int64_t>(0, nowMs - slot->idleSinceMs))});
        } else {
            // Ready but its slot not written yet, or a worker that keeps no
            // scoreboard: it accepts, so it counts as idle since it was ready.
            input.idle.push_back({pid, worker->readyAt});
        }
    }
    lastIdle_ = static_cast<int>(input.idle.size());
    maxActive_ = std::max(maxActive_, input.busy);

    const ScaleDecision decision = decideScale(config_, input, now);
    spawnRate_ = decision.nextSpawnRate;
    for (const pid_t pid : decision.stop) {
        Worker* worker = find(pid);
        if (worker == nullptr || (worker->state != WorkerState::Ready && worker->state != WorkerState::Recycling)) {
            continue;
        }
        spdlog::info("[pool {}] worker {} idle; stopping it (pm {}: {} idle{})", name(), pid, toString(config_.pm),
                     lastIdle_,
                     config_.pm == ProcessManager::Ondemand
                         ? fmt::format(", process_idle_timeout {}", formatDuration(config_.process_idle_timeout))
                         : fmt::format(", max_spare_servers {}", config_.max_spare_servers));
        stopWorker(*worker, StopReason::ScaledDown, std::nullopt);
        --lastIdle_;
    }

    int spawn = decision.spawn;
    if (config_.pm == ProcessManager::Static) {
        // decideScale keeps a static pool as it is: refilling it after a
        // death is the pool's job, under its backoff.
        spawn += std::max(0, config_.max_children - (input.starting + input.busy + static_cast<int>(input.idle.size())));
    }
    if (spawn > 0 && !nextStartAt_) {
        spdlog::info("[pool {}] spawning {} (pm {}: {} idle, {} busy, {} starting, {} waiting in the queue)", name(),
                     countOf(spawn, "worker"), toString(config_.pm), input.idle.size(), input.busy, input.starting,
                     std::max(0, listenQueue_));
        for (int i = 0; i < spawn; ++i) {
            if (spawnOne() == 0) {
                break;
            }
        }
    }
    noteMaxChildrenReached(decision.maxChildrenReached, milliseconds(oldestMs), now);
}

void Pool::scaleCommand(Clock::time_point now, bool connectionPending)
{
    CommandScalingInput input;
    input.spawnRate = spawnRate_;
    input.listenQueue = listenQueue_;
    input.connectionPending = connectionPending;
    for (const auto& [pid, worker] : workers_) {
        switch (worker->state) {
        case WorkerState::Starting:
            ++input.starting;
            break;
        case WorkerState::Ready:
        case WorkerState::Recycling:
            input.running.push_back({pid, worker->startedAt});
            break;
        case WorkerState::Stopping:
            break;
        }
    }
    if (listenQueue_ > 0) {
        lastDemand_ = now;
    }
    input.lastDemand = lastDemand_;
    // Every running command worker counts as active (pool_status.hpp).
    maxActive_ = std::max(maxActive_, static_cast<int>(input.running.size()));

    const ScaleDecision decision = decideCommandScale(config_, input, now);
    spawnRate_ = decision.nextSpawnRate;
    for (const pid_t pid : decision.stop) {
        Worker* worker = find(pid);
        if (worker == nullptr || worker->state != WorkerState::Ready) {
            continue;
        }
        spdlog::info("[pool {}] worker {} stopped: the accept queue has been empty for over {} (pm {}: {} running, "
                     "keeping at least {})",
                     name(), pid, formatDuration(config_.process_idle_timeout), toString(config_.pm),
                     input.running.size(), config_.pm == ProcessManager::Dynamic ? config_.start_servers : 0);
        stopWorker(*worker, StopReason::ScaledDown, std::nullopt);
    }

    int spawn = decision.spawn;
    const int live = input.starting + static_cast<int>(input.running.size());
    if (config_.pm == ProcessManager::Static) {
        spawn += std::max(0, config_.max_children - live);
    }
    if (spawn > 0 && !nextStartAt_) {
        spdlog::info("[pool {}] spawning {} (pm {}: {} running, {} starting, {} waiting in the queue)", name(),
                     countOf(spawn, "worker"), toString(config_.pm), input.running.size(), input.starting,
                     std::max(0, listenQueue_));
        lastDemand_ = now;
        for (int i = 0; i < spawn; ++i) {
            if (spawnOne() == 0) {
                break;
            }
        }
    }
    noteMaxChildrenReached(decision.maxChildrenReached, std::nullopt, now);
}

void Pool::noteMaxChildrenReached(bool reached, std::optional<milliseconds> oldestRequest, Clock::time_point now)
{
    if (!reached) {
        maxChildrenEpisode_ = false;
        return;
    }
    // Counted once per episode, as php-fpm counts it; warned about at most
    // once per interval while it lasts.
    if (!maxChildrenEpisode_) {
        maxChildrenEpisode_ = true;
        ++maxChildrenReached_;
    }
    if (lastMaxChildrenWarning_ && now - *lastMaxChildrenWarning_ < options_.maxChildrenWarningInterval) {
        return;
    }
    lastMaxChildrenWarning_ = now;
    spdlog::warn("[pool {}] server reached max_children ({}): {} waiting in the queue{}; requests wait until a "
                 "worker is free (consider raising max_children)",
                 name(), config_.max_children, std::max(0, listenQueue_),
                 oldestRequest ? fmt::format(", the oldest request running for {}", formatDuration(*oldestRequest))
                               : std::string());
}

void Pool::watchListenSocket()
{
    bool want = config_.pm == ProcessManager::Ondemand && !stopping_ && socket_ != nullptr;
    if (want && !edgeTriggered_) {
        // Level-triggered, only while a pending connection could be nobody's.
        const int starting = workerCounts_[static_cast<std::size_t>(WorkerState::Starting)];
        want = !nextStartAt_ && starting == 0 && lastIdle_ <= 0 && readyWorkers() < config_.max_children;
    }
    if (want == listenWatchArmed_) {
        return;
    }
    if (want) {
        event_add(listenWatch_.get(), nullptr);
    } else {
        event_del(listenWatch_.get());
    }
    listenWatchArmed_ = want;
}

void Pool::emergencyRestart(int crashes)
{
    ++emergencyRestarts_;
    const int initial = initialWorkers(config_);
    int running = 0;
    for (const auto& [pid, worker] : workers_) {
        running += worker->state != WorkerState::Stopping ? 1 : 0;
    }
    spdlog::error("[pool {}] {} died of SIGSEGV or SIGBUS within {} (emergency_restart_threshold {}); restarting "
                  "the pool: stopping its {}, starting {}",
                  name(), countOf(crashes, "worker"), formatDuration(options_.emergencyRestartInterval),
                  options_.emergencyRestartThreshold, countOf(running, "worker"), countOf(initial, "worker"));
    recycleQueue_.clear();
    for (auto& [pid, worker] : workers_) {
        if (worker->state == WorkerState::Stopping) {
            continue;
        }
        worker->replacement = 0;
        worker->replaces = 0;
        stopWorker(*worker, StopReason::EmergencyRestart, options_.killGrace);
    }
    spawnRate_ = 1;
    lastIdle_ = 0;
    if (nextStartAt_) {
        return;  // the backoff timer's tick starts them
    }
    for (int i = 0; i < initial; ++i) {
        if (spawnOne() == 0) {
            break;
        }
    }
}

}  // namespace pyfpm::manager
