// One pool: keeps max_children workers (pm static) accepting on the pool's
// socket, replaces the dead, backs off when they die before becoming ready.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manager/backoff.hpp"
#include "manager/listen_socket.hpp"
#include "manager/pool_config.hpp"
#include "manager/pool_state.hpp"
#include "manager/pool_status.hpp"
#include "manager/spawn.hpp"
#include "manager/stop_ladder.hpp"
#include "manager/worker.hpp"

struct event;
struct event_base;

namespace pyfpm::manager {

// Lives on the event loop `base` and is used only from its thread; the
// Supervisor owns it and routes the Reaper's exits to it. Not movable:
// libevent callbacks hold its address.
//
// Log lines start with "[pool NAME] worker PID" and say what happens next.
class Pool {
public:
    // `socket` is already listening; `environment` is the daemon's (clear_env
    // decides what of it the workers see). Spawns nothing yet. Throws
    // std::runtime_error when libevent cannot create a timer.
    Pool(event_base* base, PoolConfig config, ListenSocket socket, std::filesystem::path workerBinary,
         Environment environment);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    const std::string& name() const { return config_.name; }
    PoolState state() const { return state_; }
    PoolStatus status() const;

    // Spawns max_children workers.
    void start();

    bool owns(pid_t pid) const { return workers_.count(pid) != 0; }
    // The Reaper collected `pid` (one of ours) with wait status `status`.
    void onWorkerExit(pid_t pid, int status);

    // From now on nothing is restarted; a pending backoff start is dropped.
    void beginStop();
    // Sends `step.signal` to every live worker (marking it Stopping).
    void signalWorkers(const StopStep& step);
    int liveWorkers() const { return static_cast<int>(workers_.size()); }
    std::vector<pid_t> livePids() const;
    // Logs the workers a stop gives up on.
    void logStragglers(std::chrono::milliseconds waited) const;
    // After the last worker is reaped: closes the socket (removing a unix
    // socket file) and reaches Stopped.
    void closeSocket();

private:
    static void onBackoffTimer(int, short, void* self);

    void fill();
    // False when no process exists, i.e. the failure is already handled.
    bool spawnOne();
    void onNotifyLine(pid_t pid, std::string_view line);
    void onOutputLine(pid_t pid, std::string_view line);
    // A start failed (`failure` says how; `output`: the worker's last lines;
    // `lifetime`: how long it lived, empty when no process existed). Arms
    // the backoff timer unless a start is already pending.
    void scheduleRestart(const std::string& failure, const std::deque<std::string>& output,
                         std::string_view lifetime);
    void setWorkerState(Worker& worker, WorkerState state);
    void setState(PoolState state);
    void updateState();

    event_base* base_;
    PoolConfig config_;
    ListenSocket socket_;
    SpawnRequest request_;  // the same for every worker of the pool

    std::map<pid_t, std::unique_ptr<Worker>> workers_;
    std::array<int, 3> workerCounts_{};  // indexed by WorkerState
    PoolState state_ = PoolState::Starting;
    bool stopping_ = false;

    Backoff backoff_;
    std::unique_ptr<event, void (*)(event*)> backoffTimer_;
    std::optional<std::chrono::steady_clock::time_point> nextStartAt_;
    std::string lastFailure_;
    std::vector<std::string> lastFailureOutput_;
};

}  // namespace pyfpm::manager
