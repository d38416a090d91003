// Stopping a Pool: no more spawns, then the stop ladder (SIGTERM, wait,
// SIGKILL to the process group, wait) until every worker is reaped or the
// last wait passed; then the pool lets go of its socket.
#include <cerrno>
#include <csignal>
#include <cstring>

#include <event2/event.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "manager/describe.hpp"
#include "manager/pool.hpp"
#include "manager/timeval.hpp"

namespace pyfpm::manager {

namespace {

std::string signalName(int sig)
{
    const char* name = ::sigabbrev_np(sig);
    return name != nullptr ? fmt::format("SIG{}", name) : fmt::format("signal {}", sig);
}

}  // namespace

void Pool::stop(std::vector<StopStep> ladder, std::function<void()> onStopped)
{
    stopLadder_ = std::move(ladder);
    onStopped_ = std::move(onStopped);
    if (stopped_) {
        event_active(stoppedEvent_.get(), EV_TIMEOUT, 0);
        return;
    }
    if (!stopping_) {
        stopping_ = true;
        evtimer_del(backoffTimer_.get());
        nextStartAt_.reset();
        recycleQueue_.clear();
        watchListenSocket();
    }
    updateState();
    runStopStep(0);
}

void Pool::runStopStep(std::size_t step)
{
    if (workers_.empty() || step >= stopLadder_.size()) {
        finishStop();
        return;
    }
    stopStep_ = step;
    const StopStep& current = stopLadder_[step];
    spdlog::info("[pool {}] sending {} to {} workers", name(), signalName(current.signal), workers_.size());
    for (auto& [pid, worker] : workers_) {
        setWorkerState(*worker, WorkerState::Stopping);
        if (worker->stopReason == StopReason::None) {
            worker->stopReason = StopReason::PoolStop;
        }
        // Each worker leads its own process group (spawn.hpp), which exists
        // as long as the worker is unreaped, so -pid cannot hit a stranger.
        const bool sent =
            current.target == StopStep::Target::ProcessGroup ? ::kill(-pid, current.signal) == 0 : false;
        if (!sent && ::kill(pid, current.signal) != 0 && errno != ESRCH) {
            spdlog::error("[pool {}] worker {}: kill(2) {}: {}", name(), pid, signalName(current.signal),
                          std::strerror(errno));
        }
    }
    updateState();
    const timeval tv = toTimeval(current.wait);
    evtimer_add(stopTimer_.get(), &tv);
}

void Pool::onStopTimer(int, short, void* self)
{
    auto* pool = static_cast<Pool*>(self);
    const std::size_t next = pool->stopStep_ + 1;
    if (next < pool->stopLadder_.size()) {
        pool->runStopStep(next);
        return;
    }
    for (const auto& [pid, worker] : pool->workers_) {
        spdlog::error("[pool {}] worker {} still running {} after the last stop signal; giving up on it",
                      pool->name(), pid, formatDuration(pool->stopLadder_.back().wait));
    }
    pool->finishStop();
}

void Pool::finishStop()
{
    if (stopped_) {
        return;
    }
    stopped_ = true;
    evtimer_del(stopTimer_.get());
    evtimer_del(tickTimer_.get());
    event_del(tickNow_.get());
    watchListenSocket();
    // The last owner closes the socket and removes its file; a pool that
    // replaced this one in a reload may still hold it.
    socket_.reset();
    updateState();
    notifyObserver();
    // From the loop, so the callback may destroy this pool's owner's state.
    event_active(stoppedEvent_.get(), EV_TIMEOUT, 0);
}

void Pool::onStoppedEvent(int, short, void* self)
{
    auto* pool = static_cast<Pool*>(self);
    auto onStopped = std::move(pool->onStopped_);
    pool->onStopped_ = nullptr;
    if (onStopped) {
        onStopped();
    }
}

void Pool::killAll()
{
    stopping_ = true;
    for (const auto& [pid, worker] : workers_) {
        if (::kill(-pid, SIGKILL) != 0) {
            ::kill(pid, SIGKILL);
        }
    }
}

}  // namespace pyfpm::manager
