// Supervisor::reload: new pools start, removed pools drain, changed pools
// are replaced once their new workers are ready, sharing the listening
// socket when the address stays.
#include <algorithm>
#include <csignal>

#include <event2/event.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "manager/describe.hpp"
#include "manager/isolation.hpp"
#include "manager/pool.hpp"
#include "manager/reload_plan.hpp"
#include "manager/scaling.hpp"
#include "manager/supervisor.hpp"
#include "manager/timeval.hpp"

namespace pyfpm::manager {

namespace {

using std::chrono::milliseconds;

// "pool web: bind(2) ...": a ListenError names the address but not the
// pool; an IsolationError already names the pool.
std::string poolError(const std::string& pool, const std::exception& e)
{
    if (dynamic_cast<const IsolationError*>(&e) != nullptr) {
        return e.what();
    }
    return fmt::format("pool {}: {}", pool, e.what());
}

}  // namespace

void Supervisor::answer(ReloadDone done, std::vector<std::string> errors)
{
    answers_.emplace_back(std::move(done), std::move(errors));
    event_active(answerEvent_.get(), EV_TIMEOUT, 0);
}

void Supervisor::onAnswer(int, short, void* self)
{
    auto* supervisor = static_cast<Supervisor*>(self);
    auto answers = std::move(supervisor->answers_);
    supervisor->answers_.clear();
    for (auto& [done, errors] : answers) {
        if (done) {
            // May destroy the Supervisor only if it is the last thing done.
            done(std::move(errors));
        }
    }
}

void Supervisor::reload(const std::vector<PoolConfig>& pools, ReloadDone done)
{
    if (!started_ || stopRequested_) {
        answer(std::move(done), {"the process manager is not running; reload ignored"});
        return;
    }
    if (reload_) {
        answer(std::move(done), {"a reload is already under way; reload ignored"});
        return;
    }
    std::vector<PoolConfig> running;
    for (const auto& pool : pools_) {
        running.push_back(pool->config());
    }
    ReloadPlan plan = planReload(running, pools);
    if (!plan.errors.empty()) {
        answer(std::move(done), std::move(plan.errors));
        return;
    }
    spdlog::info("reload: {} new, {} removed, {} changed, {} unchanged pools", plan.added.size(), plan.removed.size(),
                 plan.changed.size(), plan.unchanged.size());
    reload_.emplace();
    reload_->done = std::move(done);

    // Removed pools first: a new pool on a removed pool's address takes
    // its socket over (socketFor) instead of failing to bind.
    for (const auto& name : plan.removed) {
        const auto found =
            std::find_if(pools_.begin(), pools_.end(), [&](const auto& pool) { return pool->name() == name; });
        std::unique_ptr<Pool> pool = std::move(*found);
        pools_.erase(found);
        spdlog::info("[pool {}] removed from the configuration: its workers finish their requests and exit", name);
        const auto ladder = drainLadder(pool->config());
        retire(std::move(pool), ladder);
    }
    for (const auto& config : plan.added) {
        startAdded(config);
    }
    for (const auto& config : plan.changed) {
        startReplacement(config);
    }
    const timeval tv = toTimeval(options_.reloadReadyTimeout);
    evtimer_add(reloadTimer_.get(), &tv);
    checkReload();
}

SharedListenSocket Supervisor::socketFor(const PoolConfig& config)
{
    for (const auto& pool : pools_) {
        if (pool->name() != config.name && sameListenAddress(pool->config().listen, config.listen)) {
            throw ListenError(fmt::format("listen {}: pool {} listens there", config.listen.toString(), pool->name()));
        }
    }
    // A pool removed now or in an earlier reload, still draining: same
    // address, same socket.
    for (const auto& pool : retiring_) {
        if (pool->socket() && sameListenAddress(pool->config().listen, config.listen)) {
            SharedListenSocket socket = pool->socket();
            adoptPoolSocket(*socket, config);
            return socket;
        }
    }
    return openPoolSocket(config);
}

void Supervisor::startAdded(const PoolConfig& config)
{
    try {
        auto pool = makePool(config, socketFor(config));
        spdlog::info("[pool {}] added by the reload", config.name);
        pool->start();
        pool->setChannelListener(channelListener_);
        pools_.push_back(std::move(pool));
    } catch (const std::exception& e) {
        reload_->errors.push_back(poolError(config.name, e) + "; the pool is not started");
        spdlog::error("reload: {}", reload_->errors.back());
    }
}

void Supervisor::startReplacement(const PoolConfig& config)
{
    Pool* old = findPool(config.name);
    try {
        SharedListenSocket socket;
        if (sameListenAddress(old->config().listen, config.listen) && old->socket()) {
            // The very same socket: connections queued for the old workers
            // are accepted by the new ones. Its listen_* settings change at
            // the switch (switchTo), so the old pool keeps them if the new
            // workers fail.
            socket = old->socket();
        } else {
            socket = socketFor(config);
        }
        auto candidate = makePool(config, std::move(socket));
        spdlog::info("[pool {}] configuration changed: starting {}; the running ones serve until they are "
                     "ready",
                     config.name, countOf(initialWorkers(config), "new worker"));
        candidate->start();
        reload_->candidates.push_back(std::move(candidate));
    } catch (const std::exception& e) {
        reload_->errors.push_back(poolError(config.name, e) + "; the running workers stay");
        spdlog::error("reload: {}", reload_->errors.back());
    }
}

void Supervisor::onReloadCheck(int, short, void* self)
{
    static_cast<Supervisor*>(self)->checkReload();
}

void Supervisor::onReloadTimeout(int, short, void* self)
{
    auto* supervisor = static_cast<Supervisor*>(self);
    if (supervisor->reload_) {
        supervisor->reload_->expired = true;
        supervisor->checkReload();
    }
}

void Supervisor::checkReload()
{
    if (!reload_) {
        return;
    }
    auto& candidates = reload_->candidates;
    for (std::size_t i = 0; i < candidates.size();) {
        Pool& candidate = *candidates[i];
        const bool ready = candidate.provenWorkers() >= initialWorkers(candidate.config()) &&
                           candidate.state() != PoolState::Failing;
        std::string failure;
        if (!ready && candidate.state() == PoolState::Failing) {
            const PoolStatus status = candidate.status();
            failure = status.lastFailure;
            if (!status.lastFailureOutput.empty()) {
                failure += ": " + status.lastFailureOutput.back();
            }
        } else if (!ready && reload_->expired) {
            failure = fmt::format("{} of {} ready after {}", candidate.provenWorkers(),
                                  initialWorkers(candidate.config()), formatDuration(options_.reloadReadyTimeout));
        }
        if (!ready && failure.empty()) {
            ++i;
            continue;
        }
        std::unique_ptr<Pool> pool = std::move(candidates[i]);
        candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(i));
        if (ready) {
            switchTo(std::move(pool));
        } else {
            abandon(std::move(pool), failure);
        }
    }
    if (candidates.empty()) {
        finishReload();
    }
}

void Supervisor::switchTo(std::unique_ptr<Pool> candidate)
{
    const auto found = std::find_if(pools_.begin(), pools_.end(),
                                    [&](const auto& pool) { return pool->name() == candidate->name(); });
    std::unique_ptr<Pool> old = std::move(*found);
    *found = std::move(candidate);
    Pool& now = **found;
    now.setChannelListener(channelListener_);
    if (now.socket() && now.socket() == old->socket()) {
        try {
            adoptPoolSocket(*now.socket(), now.config());
        } catch (const std::exception& e) {
            reload_->errors.push_back(poolError(now.name(), e) + "; the socket keeps its previous listen settings");
            spdlog::error("reload: {}", reload_->errors.back());
        }
    }
    const auto pids = now.livePids();
    spdlog::info("[pool {}] {} ready ({}); the old ones ({}) finish their requests and exit", old->name(),
                 countOf(static_cast<long long>(pids.size()), "new worker"), fmt::join(pids, ", "),
                 fmt::join(old->livePids(), ", "));
    const auto ladder = drainLadder(old->config());
    retire(std::move(old), ladder);
}

void Supervisor::abandon(std::unique_ptr<Pool> candidate, const std::string& why)
{
    reload_->errors.push_back(
        fmt::format("pool {}: the new workers did not become ready ({}); the running workers stay", candidate->name(),
                    why));
    spdlog::error("reload: {}", reload_->errors.back());
    retire(std::move(candidate), std::vector<StopStep>(options_.stopLadder.begin(), options_.stopLadder.end()));
}

void Supervisor::finishReload()
{
    evtimer_del(reloadTimer_.get());
    PendingReload finished = std::move(*reload_);
    reload_.reset();
    if (finished.errors.empty()) {
        spdlog::info("reload: applied");
    } else {
        spdlog::error("reload: applied with {} error(s)", finished.errors.size());
    }
    answer(std::move(finished.done), std::move(finished.errors));
}

std::vector<StopStep> Supervisor::drainLadder(const PoolConfig& config) const
{
    // SIGTERM: each worker finishes its current request, which may take up
    // to request_timeout (the pool's tick stops one that takes longer);
    // then SIGKILL for anything left.
    const milliseconds longest = config.request_timeout.count() > 0 ? config.request_timeout : milliseconds(60'000);
    return {
        {SIGTERM, longest + options_.killGrace, StopStep::Target::Worker},
        {SIGKILL, milliseconds(1000), StopStep::Target::ProcessGroup},
    };
}

void Supervisor::retire(std::unique_ptr<Pool> pool, std::vector<StopStep> ladder)
{
    Pool& retired = *pool;
    retiring_.push_back(std::move(pool));
    retired.stop(std::move(ladder), [this] {
        if (!stopRequested_) {
            event_active(collectEvent_.get(), EV_TIMEOUT, 0);
        }
    });
}

void Supervisor::onCollect(int, short, void* self)
{
    auto* supervisor = static_cast<Supervisor*>(self);
    if (supervisor->stopRequested_) {
        return;  // stop() accounts for every pool until it completes
    }
    auto& retiring = supervisor->retiring_;
    retiring.erase(std::remove_if(retiring.begin(), retiring.end(), [](const auto& pool) { return pool->stopped(); }),
                   retiring.end());
}

}  // namespace pyfpm::manager
