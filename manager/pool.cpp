#include "manager/pool.hpp"

#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <event2/event.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "manager/describe.hpp"
#include "manager/worker_output.hpp"
#include "manager/worker_contract.hpp"

namespace pyfpm::manager {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::size_t index(WorkerState state)
{
    return static_cast<std::size_t>(state);
}

std::string_view readyLine()
{
    // kReadyMessage without its "\n": LineReader hands over lines without it.
    std::string_view message = contract::kReadyMessage;
    message.remove_suffix(1);
    return message;
}

std::string signalName(int sig)
{
    const char* name = ::sigabbrev_np(sig);
    return name != nullptr ? fmt::format("SIG{}", name) : fmt::format("signal {}", sig);
}

timeval toTimeval(milliseconds delay)
{
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(delay.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((delay.count() % 1000) * 1000);
    return tv;
}

}  // namespace

Pool::Pool(event_base* base, PoolConfig config, ListenSocket socket, std::filesystem::path workerBinary,
           Environment environment)
    : base_(base),
      config_(std::move(config)),
      socket_(std::move(socket)),
      backoffTimer_(evtimer_new(base, &Pool::onBackoffTimer, this), &event_free)
{
    request_.binary = std::move(workerBinary);
    request_.arguments = workerArguments(config_);
    request_.environment = workerEnvironment(config_, environment);
    request_.workingDir = config_.working_dir;
    request_.listenFd = socket_.fd();
    if (!backoffTimer_) {
        throw std::runtime_error("libevent: cannot create a timer");
    }
}

Pool::~Pool() = default;

void Pool::start()
{
    spdlog::info("[pool {}] listening on {}; starting {} workers", name(), status().listen.toString(),
                 config_.max_children);
    fill();
    updateState();
}

void Pool::fill()
{
    while (!stopping_ &&
           workerCounts_[index(WorkerState::Starting)] + workerCounts_[index(WorkerState::Ready)] <
               config_.max_children) {
        if (!spawnOne()) {
            return;
        }
    }
}

bool Pool::spawnOne()
{
    SpawnedWorker spawned = spawnWorker(request_);
    if (spawned.pid <= 0) {
        scheduleRestart(fmt::format("cannot spawn a worker: {}", spawned.error), {}, {});
        return false;
    }

    const pid_t pid = spawned.pid;
    auto owned = std::make_unique<Worker>();
    Worker& worker = *owned;
    worker.pid = pid;
    worker.startedAt = Clock::now();
    workers_.emplace(pid, std::move(owned));
    ++workerCounts_[index(worker.state)];

    try {
        worker.notify = std::make_unique<LineReader>(base_, std::move(spawned.notifyRead),
                                                     [this, pid](std::string_view line) { onNotifyLine(pid, line); });
        worker.output = std::make_unique<LineReader>(base_, std::move(spawned.outputRead),
                                                     [this, pid](std::string_view line) { onOutputLine(pid, line); });
    } catch (const std::exception& e) {
        // Without its pipes the worker could never be seen ready: end it,
        // and its exit goes down the failed-start path.
        spdlog::error("[pool {}] worker {}: {}; killing it", name(), pid, e.what());
        worker.remember(e.what());
        ::kill(pid, SIGKILL);
        return true;
    }

    if (!spawned.error.empty()) {
        // The forked child exits by itself; its exit carries this reason.
        spdlog::error("[pool {}] worker {} could not start: {}", name(), pid, spawned.error);
        worker.remember(spawned.error);
    } else {
        spdlog::debug("[pool {}] worker {} spawned", name(), pid);
    }
    return true;
}

void Pool::onNotifyLine(pid_t pid, std::string_view line)
{
    const auto found = workers_.find(pid);
    assert(found != workers_.end());
    Worker& worker = *found->second;
    if (line != readyLine()) {
        spdlog::warn("[pool {}] worker {} wrote {:?} on its notify fd; ignored", name(), pid, std::string(line));
        return;
    }
    if (worker.state != WorkerState::Starting) {
        return;
    }
    setWorkerState(worker, WorkerState::Ready);
    backoff_.reset();
    spdlog::info("[pool {}] worker {} ready after {}", name(), pid,
                 formatDuration(duration_cast<milliseconds>(Clock::now() - worker.startedAt)));
    updateState();
}

void Pool::onOutputLine(pid_t pid, std::string_view line)
{
    const auto found = workers_.find(pid);
    assert(found != workers_.end());
    const WorkerOutputLine output = classifyWorkerOutput(line);
    if (output.fromWorker) {
        spdlog::log(output.level, "{}", output.message);
    } else {
        spdlog::log(output.level, "[pool {}] worker {}: {}", name(), pid, output.message);
    }
    found->second->remember(std::string(line));
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
    const std::string lifetime = formatDuration(duration_cast<milliseconds>(Clock::now() - worker.startedAt));
    const std::string how = describeWaitStatus(status);
    const std::deque<std::string> output = std::move(worker.recentOutput);
    --workerCounts_[index(stateAtExit)];
    workers_.erase(found);

    switch (decideAfterExit(stateAtExit, stopping_)) {
    case AfterExit::Forget:
        spdlog::info("[pool {}] worker {} {} after {}", name(), pid, how, lifetime);
        break;
    case AfterExit::RestartNow:
        spdlog::warn("[pool {}] worker {} {} after {}; restarting", name(), pid, how, lifetime);
        spawnOne();
        break;
    case AfterExit::RestartAfterBackoff:
        scheduleRestart(fmt::format("worker {} {} before it was ready", pid, how), output, lifetime);
        break;
    }
    updateState();
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
    pool->fill();
    pool->updateState();
}

void Pool::beginStop()
{
    stopping_ = true;
    evtimer_del(backoffTimer_.get());
    nextStartAt_.reset();
    updateState();
}

void Pool::signalWorkers(const StopStep& step)
{
    if (workers_.empty()) {
        return;
    }
    spdlog::info("[pool {}] sending {} to {} workers", name(), signalName(step.signal), workers_.size());
    for (auto& [pid, worker] : workers_) {
        setWorkerState(*worker, WorkerState::Stopping);
        // Each worker leads its own process group (spawn.hpp), which exists
        // as long as the worker is unreaped, so -pid cannot hit a stranger.
        const bool sent = step.target == StopStep::Target::ProcessGroup ? ::kill(-pid, step.signal) == 0 : false;
        if (!sent && ::kill(pid, step.signal) != 0 && errno != ESRCH) {
            spdlog::error("[pool {}] worker {}: kill(2) {}: {}", name(), pid, signalName(step.signal),
                          std::strerror(errno));
        }
    }
    updateState();
}

std::vector<pid_t> Pool::livePids() const
{
    std::vector<pid_t> pids;
    for (const auto& [pid, worker] : workers_) {
        pids.push_back(pid);
    }
    return pids;
}

void Pool::logStragglers(milliseconds waited) const
{
    for (const auto& [pid, worker] : workers_) {
        spdlog::error("[pool {}] worker {} still running {} after the last stop signal; giving up on it", name(),
                      pid, formatDuration(waited));
    }
}

void Pool::closeSocket()
{
    socket_.close();
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
}

void Pool::setState(PoolState state)
{
    if (state_ == state) {
        return;
    }
    spdlog::info("[pool {}] pool {} (was {})", name(), toString(state), toString(state_));
    state_ = state;
}

void Pool::updateState()
{
    setState(derivePoolState(PoolFacts{
        .stopping = stopping_,
        .liveWorkers = liveWorkers(),
        .readyWorkers = workerCounts_[index(WorkerState::Ready)],
        .startFailures = backoff_.failures(),
    }));
}

PoolStatus Pool::status() const
{
    PoolStatus status;
    status.name = name();
    status.state = state_;
    status.listen = socket_.address();
    if (status.listen.kind == ListenAddress::Kind::Tcp) {
        status.listen.port = socket_.port();
    }
    status.maxChildren = config_.max_children;
    status.startingWorkers = workerCounts_[index(WorkerState::Starting)];
    status.readyWorkers = workerCounts_[index(WorkerState::Ready)];
    status.stoppingWorkers = workerCounts_[index(WorkerState::Stopping)];
    for (const auto& [pid, worker] : workers_) {
        status.workers.push_back(WorkerStatus{pid, worker->state, worker->startedAt});
    }
    status.startFailures = backoff_.failures();
    status.nextStartAt = nextStartAt_;
    status.lastFailure = lastFailure_;
    status.lastFailureOutput = lastFailureOutput_;
    return status;
}

}  // namespace pyfpm::manager
