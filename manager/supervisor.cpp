#include "manager/supervisor.hpp"

#include <csignal>
#include <stdexcept>
#include <unordered_set>

#include <event2/event.h>
#include <spdlog/spdlog.h>

#include "manager/describe.hpp"
#include "manager/pool.hpp"

namespace pyfpm::manager {

namespace {

timeval toTimeval(std::chrono::milliseconds delay)
{
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(delay.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((delay.count() % 1000) * 1000);
    return tv;
}

}  // namespace

Supervisor::Supervisor(event_base* base, std::filesystem::path workerBinary, SupervisorOptions options)
    : base_(base),
      workerBinary_(std::move(workerBinary)),
      options_(std::move(options)),
      reaper_(base, [this](pid_t pid, int status) { onExit(pid, status); }),
      stopTimer_(evtimer_new(base, &Supervisor::onStopTimer, this), &event_free),
      stoppedEvent_(event_new(base, -1, 0, &Supervisor::onStopped, this), &event_free)
{
    if (!stopTimer_ || !stoppedEvent_) {
        throw std::runtime_error("libevent: cannot create the stop events");
    }
}

Supervisor::~Supervisor()
{
    // A daemon leaving without stop() (an exception, a failed test) must
    // still not leave workers behind.
    for (auto& pool : pools_) {
        pool->beginStop();
        const auto pids = pool->livePids();
        if (pids.empty()) {
            continue;
        }
        pool->signalWorkers(StopStep{SIGKILL, std::chrono::milliseconds(0), StopStep::Target::ProcessGroup});
        for (const pid_t pid : pids) {
            reaper_.reapBlocking(pid);
        }
    }
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
    // Every socket before any worker: a daemon that cannot listen somewhere
    // exits without having started anything.
    std::vector<ListenSocket> sockets;
    sockets.reserve(pools.size());
    for (const auto& pool : pools) {
        sockets.push_back(ListenSocket::open(pool.listen, pool.listen_backlog, pool.listen_mode));
    }
    started_ = true;
    for (std::size_t i = 0; i < pools.size(); ++i) {
        pools_.push_back(std::make_unique<Pool>(base_, pools[i], std::move(sockets[i]), workerBinary_,
                                                options_.environment));
    }
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
    if (found == nullptr) {
        throw std::out_of_range("no pool named " + pool);
    }
    return found->status();
}

bool Supervisor::poolAvailable(const std::string& pool) const
{
    const Pool* found = findPool(pool);
    return found != nullptr && acceptsRequests(found->state());
}

void Supervisor::onExit(pid_t pid, int status)
{
    for (auto& pool : pools_) {
        if (pool->owns(pid)) {
            pool->onWorkerExit(pid, status);
            if (stopRequested_ && !stopFinished_ && allReaped()) {
                finishStop();
            }
            return;
        }
    }
    // Not a worker: nothing else in the daemon forks, so this is a child a
    // library started. Reaped here all the same, or it would stay a zombie.
    spdlog::debug("reaped process {} ({}), not a worker", pid, describeWaitStatus(status));
}

bool Supervisor::allReaped() const
{
    for (const auto& pool : pools_) {
        if (pool->liveWorkers() > 0) {
            return false;
        }
    }
    return true;
}

void Supervisor::stop(std::function<void()> done)
{
    if (stopRequested_) {
        spdlog::warn("stop requested again while stopping; ignored");
        return;
    }
    stopRequested_ = true;
    done_ = std::move(done);
    for (auto& pool : pools_) {
        pool->beginStop();
    }
    runStopStep(0);
}

void Supervisor::runStopStep(std::size_t step)
{
    if (allReaped() || step >= options_.stopLadder.size()) {
        finishStop();
        return;
    }
    stopStep_ = step;
    const StopStep& current = options_.stopLadder[step];
    for (auto& pool : pools_) {
        pool->signalWorkers(current);
    }
    const timeval tv = toTimeval(current.wait);
    evtimer_add(stopTimer_.get(), &tv);
}

void Supervisor::onStopTimer(int, short, void* self)
{
    auto* supervisor = static_cast<Supervisor*>(self);
    const std::size_t next = supervisor->stopStep_ + 1;
    if (next < supervisor->options_.stopLadder.size()) {
        supervisor->runStopStep(next);
        return;
    }
    for (const auto& pool : supervisor->pools_) {
        pool->logStragglers(supervisor->options_.stopLadder.back().wait);
    }
    supervisor->finishStop();
}

void Supervisor::finishStop()
{
    if (stopFinished_) {
        return;
    }
    stopFinished_ = true;
    evtimer_del(stopTimer_.get());
    for (auto& pool : pools_) {
        pool->closeSocket();
    }
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
