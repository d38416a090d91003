#include "manager/supervisor.hpp"

#include <csignal>
#include <stdexcept>
#include <unordered_set>

#include <event2/event.h>
#include <spdlog/spdlog.h>

#include "manager/describe.hpp"
#include "manager/pool.hpp"

namespace pyfpm::manager {

Supervisor::Supervisor(event_base* base, std::filesystem::path workerBinary, SupervisorOptions options)
    : base_(base),
      workerBinary_(std::move(workerBinary)),
      options_(std::move(options)),
      reaper_(base, [this](pid_t pid, int status) { onExit(pid, status); }),
      stoppedEvent_(event_new(base, -1, 0, &Supervisor::onStopped, this), &event_free),
      reloadCheck_(event_new(base, -1, 0, &Supervisor::onReloadCheck, this), &event_free),
      reloadTimer_(evtimer_new(base, &Supervisor::onReloadTimeout, this), &event_free),
      answerEvent_(event_new(base, -1, 0, &Supervisor::onAnswer, this), &event_free),
      collectEvent_(event_new(base, -1, 0, &Supervisor::onCollect, this), &event_free)
{
    if (!stoppedEvent_ || !reloadCheck_ || !reloadTimer_ || !answerEvent_ || !collectEvent_) {
        throw std::runtime_error("libevent: cannot create the supervisor's events");
    }
}

Supervisor::~Supervisor()
{
    // A daemon leaving without stop() (an exception, a failed test) must
    // still not leave workers behind.
    std::vector<pid_t> pids;
    forEachPool([&](Pool& pool) {
        const auto live = pool.livePids();
        pids.insert(pids.end(), live.begin(), live.end());
        pool.killAll();
    });
    for (const pid_t pid : pids) {
        reaper_.reapBlocking(pid);
    }
}

PoolOptions Supervisor::poolOptions() const
{
    PoolOptions options;
    options.maintenanceInterval = options_.maintenanceInterval;
    options.killGrace = options_.killGrace;
    options.emergencyRestartThreshold = options_.emergencyRestartThreshold;
    options.emergencyRestartInterval = options_.emergencyRestartInterval;
    return options;
}

std::unique_ptr<Pool> Supervisor::makePool(const PoolConfig& config, SharedListenSocket socket)
{
    auto pool = std::make_unique<Pool>(base_, config, std::move(socket), workerBinary_, options_.environment,
                                       poolOptions());
    // Readiness and failures of a reload's new pools are judged from the
    // loop, outside the pool's own callbacks.
    pool->setObserver([this] {
        if (reload_) {
            event_active(reloadCheck_.get(), EV_TIMEOUT, 0);
        }
    });
    return pool;
}

void Supervisor::start(const std::vector<PoolConfig>& pools)
{
    if (started_ || stopRequested_) {
        throw std::logic_error("Supervisor::start called twice or after stop");
    }
    std::unordered_set<std::string> names;
    for (const auto& pool : pools) {
        if (!names.insert(pool.name).second) {
            throw std::invalid_argument("pool " + pool.name + " is defined twice");
        }
    }
    // Every socket and every pool before any worker: a daemon that cannot
    // listen somewhere, or names a user that does not exist, exits without
    // having started anything.
    std::vector<SharedListenSocket> sockets;
    sockets.reserve(pools.size());
    for (const auto& pool : pools) {
        sockets.push_back(openPoolSocket(pool));
    }
    std::vector<std::unique_ptr<Pool>> created;
    for (std::size_t i = 0; i < pools.size(); ++i) {
        created.push_back(makePool(pools[i], std::move(sockets[i])));
    }
    started_ = true;
    pools_ = std::move(created);
    for (auto& pool : pools_) {
        pool->start();
    }
}

std::vector<std::string> Supervisor::poolNames() const
{
    std::vector<std::string> names;
    for (const auto& pool : pools_) {
        names.push_back(pool->name());
    }
    return names;
}

Pool* Supervisor::findPool(const std::string& name) const
{
    for (const auto& pool : pools_) {
        if (pool->name() == name) {
            return pool.get();
        }
    }
    return nullptr;
}

PoolStatus Supervisor::status(const std::string& pool) const
{
    const Pool* found = findPool(pool);
    // A pool a reload removed is still there while it drains.
    for (auto it = retiring_.rbegin(); found == nullptr && it != retiring_.rend(); ++it) {
        if ((*it)->name() == pool) {
            found = it->get();
        }
    }
    if (found == nullptr) {
        throw std::out_of_range("no pool named " + pool);
    }
    return found->status();
}

void Supervisor::setChannelListener(WorkerChannelListener* listener)
{
    channelListener_ = listener;
    for (auto& pool : pools_) {
        pool->setChannelListener(listener);
    }
    if (listener == nullptr) {
        for (auto& pool : retiring_) {
            pool->setChannelListener(nullptr);
        }
    }
}

void Supervisor::demand(const std::string& pool)
{
    if (Pool* found = findPool(pool); found != nullptr) {
        found->demand();
    }
}

bool Supervisor::workerBusy(const std::string& pool, pid_t pid) const
{
    const Pool* found = findPool(pool);
    return found != nullptr && found->workerBusy(pid);
}

bool Supervisor::poolAvailable(const std::string& pool) const
{
    const Pool* found = findPool(pool);
    return found != nullptr && acceptsRequests(found->state());
}

void Supervisor::onExit(pid_t pid, int status)
{
    Pool* owner = nullptr;
    forEachPool([&](Pool& pool) {
        if (owner == nullptr && pool.owns(pid)) {
            owner = &pool;
        }
    });
    if (owner != nullptr) {
        owner->onWorkerExit(pid, status);
        return;
    }
    // Not a worker: nothing else in the daemon forks, so this is a child a
    // library started, or a worker a stop gave up on. Reaped here all the
    // same, or it would stay a zombie.
    spdlog::debug("reaped process {} ({}), not a current worker", pid, describeWaitStatus(status));
}

void Supervisor::stop(std::function<void()> done)
{
    if (stopRequested_) {
        spdlog::warn("stop requested again while stopping; ignored");
        return;
    }
    stopRequested_ = true;
    done_ = std::move(done);
    if (reload_) {
        for (auto& candidate : reload_->candidates) {
            reload_->errors.push_back("pool " + candidate->name() + ": stopped before its new workers were ready");
            retiring_.push_back(std::move(candidate));
        }
        reload_->candidates.clear();
        finishReload();
    }
    const std::vector<StopStep> ladder(options_.stopLadder.begin(), options_.stopLadder.end());
    bool any = false;
    forEachPool([&](Pool& pool) {
        any = true;
        pool.stop(ladder, [this] { onPoolStopped(); });
    });
    if (!any) {
        onPoolStopped();
    }
}

void Supervisor::onPoolStopped()
{
    if (stopFinished_) {
        return;
    }
    bool all = true;
    forEachPool([&](Pool& pool) { all = all && pool.stopped(); });
    if (!all) {
        return;
    }
    stopFinished_ = true;
    spdlog::info("all pools stopped");
    // From the loop, so `done` may destroy this Supervisor.
    event_active(stoppedEvent_.get(), EV_TIMEOUT, 0);
}

void Supervisor::onStopped(int, short, void* self)
{
    auto* supervisor = static_cast<Supervisor*>(self);
    auto done = std::move(supervisor->done_);
    supervisor->done_ = nullptr;
    if (done) {
        done();
    }
}

}  // namespace pyfpm::manager
