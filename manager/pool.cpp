#include "manager/pool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <event2/event.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "manager/command_policy.hpp"
#include "manager/describe.hpp"
#include "manager/isolation.hpp"
#include "manager/recycling.hpp"
#include "manager/scaling.hpp"
#include "manager/timeval.hpp"
#include "manager/worker_contract.hpp"
#include "manager/worker_output.hpp"

namespace pyfpm::manager {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::size_t index(WorkerState state)
{
    return static_cast<std::size_t>(state);
}

// A contract message without its "\n": LineReader hands over lines without it.
std::string_view withoutNewline(std::string_view message)
{
    message.remove_suffix(1);
    return message;
}

// libfcgi's accept loop gives up on EAGAIN, so a command pool's socket must
// block. pyfpm-worker makes the pool socket non-blocking, a flag of the
// open file description that every process holding the socket shares: a
// reload that turned a Python pool into a command pool on the same address
// hands the command the flag too. Returns whether it was set.
bool makeBlocking(int fd)
{
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || (flags & O_NONBLOCK) == 0) {
        return false;
    }
    return ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
}

// Room for every worker of a full pool plus as many replacements: recycles
// and workers stopped over request_timeout overlap their successors.
std::size_t scoreboardSlots(const PoolConfig& config)
{
    return static_cast<std::size_t>(2 * std::max(config.max_children, 1) + 2);
}

}  // namespace

Pool::Pool(event_base* base, PoolConfig config, SharedListenSocket socket, std::filesystem::path workerBinary,
           const Environment& environment, PoolOptions options)
    : base_(base),
      config_(std::move(config)),
      options_(options),
      socket_(std::move(socket)),
      scoreboard_(scoreboardSlots(config_), config_.name),
      random_(std::random_device{}()),
      backoffTimer_(evtimer_new(base, &Pool::onBackoffTimer, this), &event_free),
      emergency_(options.emergencyRestartThreshold, options.emergencyRestartInterval),
      tickTimer_(event_new(base, -1, EV_PERSIST, &Pool::onTickTimer, this), &event_free),
      tickNow_(event_new(base, -1, 0, &Pool::onTickNow, this), &event_free),
      listenWatch_(nullptr, &event_free),
      stopTimer_(evtimer_new(base, &Pool::onStopTimer, this), &event_free),
      stoppedEvent_(event_new(base, -1, 0, &Pool::onStoppedEvent, this), &event_free)
{
    edgeTriggered_ = (event_base_get_features(base) & EV_FEATURE_ET) != 0;
    listenWatch_.reset(event_new(base, socket_->fd(), edgeTriggered_ ? EV_READ | EV_PERSIST | EV_ET : EV_READ,
                                 &Pool::onListenReadable, this));
    if (!backoffTimer_ || !tickTimer_ || !tickNow_ || !listenWatch_ || !stopTimer_ || !stoppedEvent_) {
        throw std::runtime_error("libevent: cannot create the pool's events");
    }
    listen_ = socket_->address();
    if (listen_.kind == ListenAddress::Kind::Tcp) {
        listen_.port = socket_->port();
    }
    request_.binary = workerProgram(config_, workerBinary);
    request_.arguments = workerArguments(config_);
    request_.environment = workerEnvironment(config_, environment);
    request_.workingDir = config_.working_dir;
    request_.listenFd = socket_->fd();
    // A command pool's program gets fds 0, 1 and 2 only. Its workers still
    // take a scoreboard slot each, unwritten: the slots bound how many
    // workers a pool may have alive at once, for every kind of pool.
    request_.notifyPipe = keepsWorkerContract(config_);
    request_.scoreboardFd = request_.notifyPipe ? scoreboard_.fd() : -1;
    request_.isolation = resolveIsolation(config_, ::geteuid() == 0);
}

Pool::~Pool() = default;

void Pool::start()
{
    startTime_ = std::chrono::system_clock::now();
    const bool root = ::geteuid() == 0;
    if (runsWorkersAsRoot(config_, root)) {
        spdlog::warn("[pool {}] no user set: its workers run as root (set user and group to run them "
                     "unprivileged)",
                     name());
    } else if (!root && (!config_.user.empty() || !config_.group.empty())) {
        spdlog::warn("[pool {}] user and group need the daemon to run as root; its workers run as the "
                     "daemon's user",
                     name());
    }
    if (commandPool()) {
        const std::vector<std::string> ignored = ignoredCommandKeys(config_);
        if (!ignored.empty()) {
            std::string keys;
            for (const auto& key : ignored) {
                keys += keys.empty() ? key : ", " + key;
            }
            spdlog::warn("[pool {}] {} ignored: a command pool's program keeps no scoreboard and cannot be asked "
                         "to recycle itself or to write a Python stack",
                         name(), keys);
        }
    }
    lastDemand_ = Clock::now();
    const int initial = initialWorkers(config_);
    spdlog::info("[pool {}] listening on {}; pm {}; starting {}{}", name(), listen_.toString(), toString(config_.pm),
                 countOf(initial, "worker"),
                 commandPool() ? fmt::format(" of {}", request_.binary.string()) : std::string());
    for (int i = 0; i < initial; ++i) {
        if (spawnOne() == 0) {
            break;
        }
    }
    const timeval interval = toTimeval(options_.maintenanceInterval);
    evtimer_add(tickTimer_.get(), &interval);
    updateState();
    watchListenSocket();
}

pid_t Pool::spawnOne()
{
    const std::optional<std::size_t> slot = scoreboard_.claim();
    if (!slot) {
        spdlog::warn("[pool {}] no free scoreboard slot for a new worker ({} live); trying again when one "
                     "leaves",
                     name(), workers_.size());
        return 0;
    }
    if (commandPool() && makeBlocking(request_.listenFd)) {
        spdlog::warn("[pool {}] the pool socket was non-blocking (set by pyfpm-worker processes that share it, from "
                     "before a reload); made it blocking again for {}",
                     name(), request_.binary.string());
    }
    SpawnRequest request = request_;
    long requestLimit = 0;
    if (!commandPool()) {
        requestLimit = requestLimitFor(config_, random_);
        const auto slotArguments = workerSlotArguments(*slot, requestLimit);
        request.arguments.insert(request.arguments.end(), slotArguments.begin(), slotArguments.end());
    }

    SpawnedWorker spawned = spawnWorker(request);
    if (spawned.pid <= 0) {
        scoreboard_.release(*slot);
        scheduleRestart(fmt::format("cannot spawn a worker: {}", spawned.error), {}, {});
        return 0;
    }

    const pid_t pid = spawned.pid;
    scoreboard_.assign(*slot, pid);
    auto owned = std::make_unique<Worker>();
    Worker& worker = *owned;
    worker.pid = pid;
    worker.startedAt = Clock::now();
    worker.slot = *slot;
    worker.requestLimit = requestLimit;
    workers_.emplace(pid, std::move(owned));
    ++workerCounts_[index(worker.state)];

    try {
        if (spawned.notifyRead) {
            worker.notify = std::make_unique<LineReader>(
                base_, std::move(spawned.notifyRead), [this, pid](std::string_view line) { onNotifyLine(pid, line); });
        }
        worker.output = std::make_unique<LineReader>(base_, std::move(spawned.outputRead),
                                                     [this, pid](std::string_view line) { onOutputLine(pid, line); });
    } catch (const std::exception& e) {
        // Without its pipes the worker could never be seen ready: end it,
        // and its exit goes down the failed-start path.
        spdlog::error("[pool {}] worker {}: {}; killing it", name(), pid, e.what());
        worker.remember(e.what());
        ::kill(pid, SIGKILL);
        return pid;
    }

    if (!spawned.error.empty()) {
        // The forked child exits by itself; its exit carries this reason.
        spdlog::error("[pool {}] worker {} could not start: {}", name(), pid, spawned.error);
        worker.remember(spawned.error);
    } else if (commandPool()) {
        // exec(2) succeeded: all a command worker will ever say.
        onReady(worker);
    } else {
        spdlog::debug("[pool {}] worker {} spawned in slot {}{}", name(), pid, *slot,
                      requestLimit > 0 ? fmt::format(", max_requests {}", requestLimit) : std::string());
    }
    return pid;
}

Worker* Pool::find(pid_t pid)
{
    const auto found = workers_.find(pid);
    return found != workers_.end() ? found->second.get() : nullptr;
}

void Pool::onNotifyLine(pid_t pid, std::string_view line)
{
    Worker* worker = find(pid);
    assert(worker != nullptr);
    if (line == withoutNewline(contract::kReadyMessage)) {
        onReady(*worker);
        return;
    }
    const std::string_view channel = contract::kReadyChannelPrefix;
    if (line.substr(0, channel.size()) == channel && line.size() > channel.size()) {
        worker->channel = std::string(line.substr(channel.size()));
        onReady(*worker);
        return;
    }
    const std::string_view recycle = contract::kRecyclePrefix;
    if (line.substr(0, recycle.size()) == recycle) {
        onRecycleRequest(*worker, line.substr(recycle.size()));
        return;
    }
    spdlog::warn("[pool {}] worker {} wrote {:?} on its notify fd; ignored", name(), pid, std::string(line));
}

void Pool::onReady(Worker& worker)
{
    if (worker.state != WorkerState::Starting) {
        return;
    }
    setWorkerState(worker, WorkerState::Ready);
    worker.readyAt = Clock::now();
    if (channels_ != nullptr && !worker.channel.empty()) {
        channels_->workerReady(name(), worker.pid, worker.channel);
    }
    if (commandPool()) {
        // Ready at exec; the backoff waits for it to last
        // (settleCommandWorkers), and nobody knows whether it is idle.
        spdlog::info("[pool {}] worker {} started", name(), worker.pid);
    } else {
        backoff_.reset();
        spdlog::info("[pool {}] worker {} ready after {}", name(), worker.pid,
                     formatDuration(duration_cast<milliseconds>(worker.readyAt - worker.startedAt)));
        // Idle until a tick sees it busy: no need to watch the socket for it.
        ++lastIdle_;
    }
    finishRecycle(worker);
    updateState();
    notifyObserver();
    watchListenSocket();
}

void Pool::onOutputLine(pid_t pid, std::string_view line)
{
    Worker* worker = find(pid);
    assert(worker != nullptr);
    // A command pool's program is never pyfpm-worker: a line of its own
    // that happens to read "info: ..." still gets the pool and pid.
    const WorkerOutputLine output =
        commandPool() ? WorkerOutputLine{spdlog::level::warn, line, false} : classifyWorkerOutput(line);
    if (output.fromWorker) {
        spdlog::log(output.level, "{}", output.message);
    } else {
        spdlog::log(output.level, "[pool {}] worker {}: {}", name(), pid, output.message);
    }
    worker->remember(std::string(line));
}

void Pool::forgetWorker(Worker& worker)
{
    if (channels_ != nullptr && !worker.channel.empty()) {
        channels_->workerLeaving(name(), worker.pid);
    }
    // Requests it served count towards accepted connections after it is
    // gone; the slot as it left it, or as the last tick saw it.
    const std::optional<SlotSnapshot> last = scoreboard_.read(worker.slot);
    if (last && last->pid == worker.pid) {
        reapedRequests_ += last->requests;
        reapedDurations_ += last->durations;
    } else if (worker.lastSlot) {
        reapedRequests_ += worker.lastSlot->requests;
        reapedDurations_ += worker.lastSlot->durations;
    }
    scoreboard_.release(worker.slot);

    // Recycling links: a replacement that died hands the recycle back to
    // the queue; a recycled worker that died leaves its replacement as an
    // ordinary worker.
    if (worker.replaces != 0) {
        if (Worker* old = find(worker.replaces); old != nullptr && old->replacement == worker.pid) {
            old->replacement = 0;
            if (old->state == WorkerState::Recycling) {
                recycleQueue_.push_front(old->pid);
            }
        }
    }
    if (worker.replacement != 0) {
        if (Worker* successor = find(worker.replacement); successor != nullptr) {
            successor->replaces = 0;
        }
    }
    --workerCounts_[index(worker.state)];
}

void Pool::onWorkerExit(pid_t pid, int status)
{
    const auto found = workers_.find(pid);
    assert(found != workers_.end());
    Worker& worker = *found->second;
    // Its last words, and perhaps a "ready" written just before dying, may
    // still sit in the pipes: SIGCHLD can overtake them.
    if (worker.notify) {
        worker.notify->drain();
    }
    if (worker.output) {
        worker.output->drain();
    }

    const WorkerState stateAtExit = worker.state;
    const StopReason reason = worker.stopReason;
    const std::string recycled = worker.recycleReason.empty()
                                     ? std::string()
                                     : fmt::format(" ({} {})", worker.recycleReason, worker.recycleValue);
    const milliseconds lived = duration_cast<milliseconds>(Clock::now() - worker.startedAt);
    const std::string lifetime = formatDuration(lived);
    const std::string how = describeWaitStatus(status);
    const std::deque<std::string> output = std::move(worker.recentOutput);
    forgetWorker(worker);
    workers_.erase(found);

    const AfterExit after = commandPool() ? decideAfterCommandExit(stateAtExit, stopping_, lived)
                                          : decideAfterExit(stateAtExit, stopping_);
    switch (after) {
    case AfterExit::Forget:
        if (reason == StopReason::None || reason == StopReason::PoolStop) {
            spdlog::info("[pool {}] worker {} {} after {}", name(), pid, how, lifetime);
        } else {
            spdlog::info("[pool {}] worker {} {}{}: {} after {}", name(), pid, toString(reason),
                         reason == StopReason::Recycled ? recycled : std::string(), how, lifetime);
        }
        break;
    case AfterExit::RestartNow:
        ++restarts_;
        if (config_.pm == ProcessManager::Static) {
            spdlog::warn("[pool {}] worker {} {} after {}; restarting", name(), pid, how, lifetime);
        } else {
            spdlog::warn("[pool {}] worker {} {} after {}; the next tick spawns what pm {} needs", name(), pid,
                         how, lifetime, toString(config_.pm));
        }
        break;
    case AfterExit::RestartAfterBackoff:
        if (commandPool() && stateAtExit != WorkerState::Starting) {
            scheduleRestart(fmt::format("worker {} {} {} after it started (a command worker must run {} to count as "
                                        "started)",
                                        pid, how, lifetime, formatDuration(kCommandSettleTime)),
                            output, {});
        } else {
            scheduleRestart(fmt::format("worker {} {} before it was ready", pid, how), output, lifetime);
        }
        break;
    }

    if (!stopping_ && isEmergencyCrash(status) && emergency_.record(Clock::now())) {
        emergencyRestart(emergency_.threshold());
    }
    if (stopping_) {
        if (workers_.empty()) {
            finishStop();
        }
    } else {
        requestTick();
    }
    updateState();
    notifyObserver();
    watchListenSocket();
}

void Pool::scheduleRestart(const std::string& failure, const std::deque<std::string>& output,
                           std::string_view lifetime)
{
    lastFailure_ = failure;
    lastFailureOutput_.assign(output.begin(), output.end());

    milliseconds wait{0};
    if (nextStartAt_) {
        // Same round as the failure that armed the timer.
        wait = duration_cast<milliseconds>(*nextStartAt_ - Clock::now());
    } else {
        wait = backoff_.nextDelay();
        nextStartAt_ = Clock::now() + wait;
        const timeval tv = toTimeval(wait);
        evtimer_add(backoffTimer_.get(), &tv);
    }

    std::string said;
    for (const auto& line : output) {
        said += said.empty() ? ": " : " | ";
        said += line;
    }
    spdlog::error("[pool {}] {}{}{}; next try in {}", name(), failure,
                  lifetime.empty() ? std::string() : fmt::format(" after {}", lifetime), said,
                  formatDuration(std::max(wait, milliseconds(0))));
}

void Pool::onBackoffTimer(int, short, void* self)
{
    auto* pool = static_cast<Pool*>(self);
    pool->nextStartAt_.reset();
    pool->maintain(Trigger::Now);
}

void Pool::requestTick()
{
    event_active(tickNow_.get(), EV_TIMEOUT, 0);
}

void Pool::onTickTimer(int, short, void* self)
{
    static_cast<Pool*>(self)->maintain(Trigger::Timer);
}

void Pool::onTickNow(int, short, void* self)
{
    static_cast<Pool*>(self)->maintain(Trigger::Now);
}

void Pool::onListenReadable(int, short, void* self)
{
    auto* pool = static_cast<Pool*>(self);
    if (!pool->edgeTriggered_) {
        pool->listenWatchArmed_ = false;  // one-shot
    }
    pool->maintain(Trigger::ListenSocket);
}

void Pool::stopWorker(Worker& worker, StopReason reason, std::optional<milliseconds> killAfter)
{
    setWorkerState(worker, WorkerState::Stopping);
    worker.stopReason = reason;
    if (killAfter) {
        worker.killAt = Clock::now() + *killAfter;
    }
    if (::kill(worker.pid, SIGTERM) != 0 && errno != ESRCH) {
        spdlog::error("[pool {}] worker {}: kill(2) SIGTERM: {}", name(), worker.pid, std::strerror(errno));
    }
}

std::vector<pid_t> Pool::livePids() const
{
    std::vector<pid_t> pids;
    for (const auto& [pid, worker] : workers_) {
        pids.push_back(pid);
    }
    return pids;
}

int Pool::provenWorkers() const
{
    if (!commandPool()) {
        return readyWorkers();
    }
    int proven = 0;
    for (const auto& [pid, worker] : workers_) {
        const bool serving = worker->state == WorkerState::Ready || worker->state == WorkerState::Recycling;
        proven += serving && worker->settled ? 1 : 0;
    }
    return proven;
}

int Pool::readyWorkers() const
{
    return workerCounts_[index(WorkerState::Ready)] + workerCounts_[index(WorkerState::Recycling)];
}

void Pool::setWorkerState(Worker& worker, WorkerState state)
{
    if (worker.state == state) {
        return;
    }
    --workerCounts_[index(worker.state)];
    ++workerCounts_[index(state)];
    spdlog::debug("[pool {}] worker {} {} -> {}", name(), worker.pid, toString(worker.state), toString(state));
    worker.state = state;
    // Told before the signal goes out, so that the bridge sends it nothing
    // more and closes its channel, which lets it exit at once.
    if (state == WorkerState::Stopping && channels_ != nullptr && !worker.channel.empty()) {
        channels_->workerLeaving(name(), worker.pid);
    }
}

bool Pool::workerBusy(pid_t pid) const
{
    const auto found = workers_.find(pid);
    return found != workers_.end() && !commandPool() && scoreboard_.busy(found->second->slot);
}

void Pool::setChannelListener(WorkerChannelListener* listener)
{
    channels_ = listener;
    if (channels_ == nullptr) {
        return;
    }
    for (const auto& [pid, worker] : workers_) {
        if ((worker->state == WorkerState::Ready || worker->state == WorkerState::Recycling) &&
            !worker->channel.empty()) {
            channels_->workerReady(name(), pid, worker->channel);
        }
    }
}

void Pool::setState(PoolState state)
{
    if (state_ == state) {
        return;
    }
    spdlog::info("[pool {}] pool {} (was {})", name(), toString(state), toString(state_));
    state_ = state;
    notifyObserver();
}

void Pool::updateState()
{
    setState(derivePoolState(PoolFacts{
        .stopping = stopping_,
        .liveWorkers = liveWorkers(),
        .readyWorkers = readyWorkers(),
        .startFailures = backoff_.failures(),
        .scalesToZero = config_.pm == ProcessManager::Ondemand,
    }));
}

void Pool::notifyObserver()
{
    if (observer_) {
        observer_();
    }
}

}  // namespace pyfpm::manager
