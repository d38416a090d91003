// Recycling of a Pool's workers (max_requests, max_rss): a worker that asks
// ("recycle REASON VALUE\n" on its notify pipe) keeps serving while its
// replacement starts; once the replacement is ready the old worker gets
// SIGTERM and finishes its current request. At most
// maxConcurrentRecycles() recycles of a pool are in progress at once, so
// capacity never dips and a pool never doubles.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "manager/pool.hpp"
#include "manager/recycling.hpp"

namespace pyfpm::manager {

int Pool::recyclesInProgress() const
{
    int count = 0;
    for (const auto& [pid, worker] : workers_) {
        const bool replacing = worker->state == WorkerState::Recycling && worker->replacement != 0;
        const bool leaving = worker->state == WorkerState::Stopping && worker->stopReason == StopReason::Recycled;
        count += replacing || leaving ? 1 : 0;
    }
    return count;
}

void Pool::onRecycleRequest(Worker& worker, std::string_view what)
{
    const auto space = what.find(' ');
    const std::string reason(what.substr(0, space));
    const std::string value(space == std::string_view::npos ? std::string_view() : what.substr(space + 1));
    if (reason.empty()) {
        spdlog::warn("[pool {}] worker {} asked to be recycled without a reason; ignored", name(), worker.pid);
        return;
    }
    if (worker.state != WorkerState::Ready) {
        // Already recycling or on its way out; a Starting worker cannot
        // have served anything.
        spdlog::debug("[pool {}] worker {} asked to be recycled ({} {}) while {}; ignored", name(), worker.pid,
                      reason, value, toString(worker.state));
        return;
    }
    worker.recycleReason = reason;
    worker.recycleValue = value;
    ++recycles_[reason];
    setWorkerState(worker, WorkerState::Recycling);
    recycleQueue_.push_back(worker.pid);
    const int inProgress = recyclesInProgress();
    const int bound = maxConcurrentRecycles(config_);
    if (inProgress < bound && !stopping_ && !nextStartAt_) {
        spdlog::info("[pool {}] worker {} asks to be recycled ({} {}); it serves until its replacement is ready",
                     name(), worker.pid, reason, value);
    } else {
        spdlog::info("[pool {}] worker {} asks to be recycled ({} {}); it serves until its turn ({} of at most {} "
                     "recycles in progress)",
                     name(), worker.pid, reason, value, inProgress, bound);
    }
    pumpRecycles();
}

void Pool::pumpRecycles()
{
    if (stopping_ || nextStartAt_) {
        return;
    }
    const int bound = maxConcurrentRecycles(config_);
    int inProgress = recyclesInProgress();
    while (inProgress < bound && !recycleQueue_.empty()) {
        const pid_t oldPid = recycleQueue_.front();
        Worker* old = find(oldPid);
        if (old == nullptr || old->state != WorkerState::Recycling || old->replacement != 0) {
            recycleQueue_.pop_front();  // gone, stopped for another reason, or already handled
            continue;
        }
        const pid_t replacement = spawnOne();
        if (replacement == 0) {
            return;  // stays queued: the backoff or a freed slot brings the next try
        }
        recycleQueue_.pop_front();
        old->replacement = replacement;
        find(replacement)->replaces = oldPid;
        ++inProgress;
        spdlog::info("[pool {}] worker {} spawned to replace worker {} ({} {})", name(), replacement, oldPid,
                     old->recycleReason, old->recycleValue);
    }
}

void Pool::finishRecycle(Worker& replacement)
{
    if (replacement.replaces == 0) {
        return;
    }
    Worker* old = find(replacement.replaces);
    replacement.replaces = 0;
    if (old == nullptr || old->state != WorkerState::Recycling) {
        return;
    }
    spdlog::info("[pool {}] worker {} ready; recycling worker {} ({} {}): SIGTERM, it finishes its current request "
                 "and exits",
                 name(), replacement.pid, old->pid, old->recycleReason, old->recycleValue);
    // No SIGKILL deadline: its request may run up to request_timeout, which
    // the maintenance tick enforces as for any other request.
    stopWorker(*old, StopReason::Recycled, std::nullopt);
}

}  // namespace pyfpm::manager
