// One pool: keeps its workers accepting on the pool's socket as its `pm`
// asks (manager/scaling.hpp), with a scoreboard slot each; recycles them,
// stops those over request_timeout, writes the slowlog, restarts the pool
// when workers keep crashing (emergency_restart_threshold), replaces the
// dead and backs off when they die before becoming ready.
//
// A command pool (PoolKind::Command) runs a foreign FastCGI responder
// instead of pyfpm-worker: no notify pipe, no scoreboard, so its workers
// are ready at exec, scale on the accept queue alone
// (manager/command_policy.hpp), and are neither recycled nor watched for
// request_timeout or slowlog_timeout.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "manager/backoff.hpp"
#include "manager/channel_listener.hpp"
#include "manager/emergency.hpp"
#include "manager/pool_config.hpp"
#include "manager/pool_socket.hpp"
#include "manager/pool_state.hpp"
#include "manager/pool_status.hpp"
#include "manager/scoreboard.hpp"
#include "manager/spawn.hpp"
#include "manager/stop_ladder.hpp"
#include "manager/worker.hpp"

struct event;
struct event_base;

namespace pyfpm::manager {

// How a pool runs; the Supervisor fills it from SupervisorOptions.
struct PoolOptions {
    // The maintenance tick: scaling, request_timeout, slowlog, recycling
    // queue (php-fpm ticks once a second too).
    std::chrono::milliseconds maintenanceInterval{1000};
    // SIGTERM to SIGKILL for a worker over request_timeout or stopped by an
    // emergency restart.
    std::chrono::milliseconds killGrace{1000};
    // At most one "max_children reached" warning per pool per interval.
    std::chrono::milliseconds maxChildrenWarningInterval{10'000};
    // Daemon-wide emergency_restart_threshold (0 = off) and _interval.
    int emergencyRestartThreshold = 0;
    std::chrono::milliseconds emergencyRestartInterval{60'000};
};

// Lives on the event loop `base` and is used only from its thread; the
// Supervisor owns it and routes the Reaper's exits to it. Not movable:
// libevent callbacks hold its address.
//
// Log lines start with "[pool NAME] worker PID" and say what happens next.
class Pool {
public:
    // `socket` is listening and may be shared with another Pool of the same
    // address (a reload). `environment` is the daemon's (clear_env decides
    // what of it the workers see). Resolves user and group, creates the
    // scoreboard (2 * max_children + 2 slots: room for replacements while
    // workers recycle or are stopped); spawns nothing yet. Throws
    // IsolationError (unknown user or group), std::system_error (the
    // scoreboard) or std::runtime_error (libevent).
    Pool(event_base* base, PoolConfig config, SharedListenSocket socket, std::filesystem::path workerBinary,
         const Environment& environment, PoolOptions options);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    const std::string& name() const { return config_.name; }
    const PoolConfig& config() const { return config_; }
    PoolState state() const { return state_; }
    // Reads the scoreboard: a few hundred bytes per worker, no system call.
    PoolStatus status() const;
    // Ready and Recycling workers: those that accept.
    int readyWorkers() const;
    // Ready workers that proved their program works: readyWorkers(), but
    // for a command pool only those that have run kCommandSettleTime
    // (command_policy.hpp). A reload switches to a new pool on these, so
    // a command that exits at once leaves the old workers serving.
    int provenWorkers() const;
    // Null once the stop completed.
    const SharedListenSocket& socket() const { return socket_; }

    // A command pool: its workers keep no worker contract (command_policy.hpp).
    bool commandPool() const { return config_.kind == PoolKind::Command; }

    // Called after the pool's state or its number of ready workers changed.
    // It runs inside the pool's own callbacks: it may only schedule work
    // (the Supervisor activates an event), never destroy or stop the pool.
    void setObserver(std::function<void()> observer) { observer_ = std::move(observer); }

    // Who hears about the workers' channels (channel_listener.hpp); set
    // when the pool starts serving (the Supervisor does, at start or at a
    // reload's switch), which announces the workers ready so far. Null:
    // nobody. The listener must outlive the pool or be unset first.
    void setChannelListener(WorkerChannelListener* listener);
    // The bridge holds requests for this pool: run the maintenance tick
    // soon (pm ondemand and dynamic scale on the queue).
    void demand() { requestTick(); }
    // Its scoreboard says worker `pid` serves a request (one atomic load);
    // false for an unknown pid and in a command pool.
    bool workerBusy(pid_t pid) const;

    // Spawns initialWorkers(config) and starts the maintenance tick (and,
    // for pm ondemand, the watch on the listening socket). Warns once when
    // the workers will run as root. Call once.
    void start();

    bool owns(pid_t pid) const { return workers_.count(pid) != 0; }
    // The Reaper collected `pid` (one of ours) with wait status `status`.
    void onWorkerExit(pid_t pid, int status);

    // From now on nothing is spawned; then the ladder: each step signals
    // every live worker and waits. Once every worker is reaped, or the last
    // wait passed (stragglers are logged), the pool lets go of its socket
    // (the last owner closes it and removes a unix socket file) and calls
    // `onStopped` from the loop. A second call replaces the ladder and the
    // callback and starts the ladder over; after the stop completed it only
    // calls the new callback.
    void stop(std::vector<StopStep> ladder, std::function<void()> onStopped);
    bool stopping() const { return stopping_; }
    bool stopped() const { return stopped_; }
    // Teardown: SIGKILL to every worker's process group, no waiting.
    void killAll();
    int liveWorkers() const { return static_cast<int>(workers_.size()); }
    std::vector<pid_t> livePids() const;

private:
    using Clock = std::chrono::steady_clock;
    using EventPtr = std::unique_ptr<event, void (*)(event*)>;
    enum class Trigger { Timer, Now, ListenSocket };

    static void onBackoffTimer(int, short, void* self);
    static void onTickTimer(int, short, void* self);
    static void onTickNow(int, short, void* self);
    static void onListenReadable(int, short, void* self);
    static void onStopTimer(int, short, void* self);
    static void onStoppedEvent(int, short, void* self);

    // Lifecycle (pool.cpp).
    // The new worker's pid, or 0 when none was spawned (the failure is
    // handled: backoff scheduled, or no scoreboard slot until a worker
    // leaves).
    pid_t spawnOne();
    Worker* find(pid_t pid);
    void onNotifyLine(pid_t pid, std::string_view line);
    void onOutputLine(pid_t pid, std::string_view line);
    void onReady(Worker& worker);
    void forgetWorker(Worker& worker);
    // A start failed (`failure` says how; `output`: the worker's last lines;
    // `lifetime`: how long it lived, empty when no process existed). Arms
    // the backoff timer unless a start is already pending.
    void scheduleRestart(const std::string& failure, const std::deque<std::string>& output,
                         std::string_view lifetime);
    // SIGTERM now and Stopping; SIGKILL to its process group after
    // `killAfter` when given.
    void stopWorker(Worker& worker, StopReason reason, std::optional<std::chrono::milliseconds> killAfter);
    void runStopStep(std::size_t step);
    void finishStop();
    void setWorkerState(Worker& worker, WorkerState state);
    void setState(PoolState state);
    void updateState();
    void notifyObserver();
    // A maintenance tick soon, from the loop (never re-entering the caller).
    void requestTick();

    // The maintenance tick (pool_maintenance.cpp).
    void maintain(Trigger trigger);
    void readSlots();
    void checkRequests();
    void reportSlow(Worker& worker, const SlotSnapshot& slot, std::chrono::milliseconds elapsed);
    void escalateKills(Clock::time_point now);
    void measureQueue();
    // `connectionPending`: the tick was woken by the listening socket.
    void scale(Clock::time_point now, bool connectionPending);
    // scale() for a command pool: the accept queue is all it knows.
    void scaleCommand(Clock::time_point now, bool connectionPending);
    // A command pool in backoff: the backoff starts over once a worker has
    // run for kCommandSettleTime.
    void settleCommandWorkers(Clock::time_point now);
    // `oldestRequest`: how long the longest-running request has run;
    // nullopt when nobody knows (a command pool).
    void noteMaxChildrenReached(bool reached, std::optional<std::chrono::milliseconds> oldestRequest,
                                Clock::time_point now);
    void watchListenSocket();
    void emergencyRestart(int crashes);

    // Recycling (pool_recycle.cpp).
    void onRecycleRequest(Worker& worker, std::string_view what);
    void pumpRecycles();
    void finishRecycle(Worker& replacement);
    int recyclesInProgress() const;

    event_base* base_;
    PoolConfig config_;
    PoolOptions options_;
    SharedListenSocket socket_;
    ListenAddress listen_;  // as bound: a tcp port 0 replaced by the kernel's choice
    SpawnRequest request_;  // what every worker shares; spawnOne adds the slot
    Scoreboard scoreboard_;
    std::mt19937_64 random_;
    std::function<void()> observer_;
    WorkerChannelListener* channels_ = nullptr;

    std::map<pid_t, std::unique_ptr<Worker>> workers_;
    std::array<int, kWorkerStates> workerCounts_{};  // indexed by WorkerState
    PoolState state_ = PoolState::Starting;
    bool stopping_ = false;
    bool stopped_ = false;

    Backoff backoff_;
    EventPtr backoffTimer_;
    std::optional<Clock::time_point> nextStartAt_;
    std::string lastFailure_;
    std::vector<std::string> lastFailureOutput_;
    EmergencyRestart emergency_;

    EventPtr tickTimer_;     // persistent, maintenanceInterval
    EventPtr tickNow_;       // activated by requestTick()
    // pm ondemand: EV_READ on the listening socket. Edge-triggered where
    // the backend can (epoll): one wake-up per new connection, never a spin
    // on one that waits. Elsewhere level-triggered and one-shot, armed
    // again only when a worker is ready or gone, or at the next tick.
    EventPtr listenWatch_;
    bool edgeTriggered_ = false;
    bool listenWatchArmed_ = false;
    int spawnRate_ = 1;      // pm dynamic: ScaleDecision::nextSpawnRate
    int lastIdle_ = 0;       // idle workers at the last tick (plus those ready since)
    // A command pool: the last time demand showed (a non-empty queue, a
    // spawn, the start); it shrinks after process_idle_timeout without.
    Clock::time_point lastDemand_;
    std::deque<pid_t> recycleQueue_;  // Recycling workers waiting for a replacement, oldest first

    std::vector<StopStep> stopLadder_;
    std::size_t stopStep_ = 0;
    std::function<void()> onStopped_;
    EventPtr stopTimer_;
    EventPtr stoppedEvent_;

    // Status counters (pool_status.hpp).
    std::chrono::system_clock::time_point startTime_;
    int listenQueue_ = -1;
    int maxListenQueue_ = 0;
    int listenBacklog_ = 0;
    std::uint64_t reapedRequests_ = 0;
    DurationHistogram reapedDurations_;
    std::uint64_t maxChildrenReached_ = 0;
    bool maxChildrenEpisode_ = false;  // demand met a full pool at the last tick
    std::optional<Clock::time_point> lastMaxChildrenWarning_;
    std::uint64_t slowRequests_ = 0;
    std::map<std::string, std::uint64_t> recycles_;
    std::uint64_t restarts_ = 0;
    std::uint64_t timeoutKills_ = 0;
    std::uint64_t emergencyRestarts_ = 0;
    int maxActive_ = 0;
};

}  // namespace pyfpm::manager
