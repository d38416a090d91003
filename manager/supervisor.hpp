// The manager's face to the daemon: starts every pool, reaps and replaces
// workers, answers "can this pool take a request?", reloads a changed
// configuration without dropping requests, stops everything.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "manager/channel_listener.hpp"
#include "manager/listen_socket.hpp"
#include "manager/pool_config.hpp"
#include "manager/pool_socket.hpp"
#include "manager/pool_status.hpp"
#include "manager/reaper.hpp"
#include "manager/spawn.hpp"
#include "manager/stop_ladder.hpp"

struct event;
struct event_base;

namespace pyfpm::manager {

class Pool;
struct PoolOptions;

struct SupervisorOptions {
    // How stop() escalates; tests shorten the waits.
    StopLadder stopLadder = kStopLadder;
    // The daemon's environment, filtered per pool by clear_env.
    Environment environment = currentEnvironment();
    // php-fpm's emergency_restart_threshold (0 = off) and
    // emergency_restart_interval: that many workers of one pool killed by
    // SIGSEGV or SIGBUS within the interval restart the pool from scratch.
    int emergencyRestartThreshold = 0;
    std::chrono::milliseconds emergencyRestartInterval{60'000};
    // Every pool's maintenance tick (scaling, request_timeout, slowlog);
    // php-fpm's is 1 s too.
    std::chrono::milliseconds maintenanceInterval{1000};
    // From SIGTERM to SIGKILL for a worker over request_timeout.
    std::chrono::milliseconds killGrace{1000};
    // Reload: how long a changed pool's new workers have to become ready
    // before the old ones are kept and the new ones stopped.
    std::chrono::milliseconds reloadReadyTimeout{30'000};
};

// Everything runs on the daemon's single event loop `base`: construct, call
// and destroy the Supervisor on the loop's thread; `base` must outlive it.
// The constructor takes over SIGCHLD for the process (Reaper): nothing else
// in the process may wait for children.
//
// A pool whose workers keep dying is retried forever with backoff and never
// stops the daemon or the other pools.
class Supervisor {
public:
    using ReloadDone = std::function<void(std::vector<std::string> errors)>;

    // `workerBinary`: pyfpm-worker's path (locateWorkerBinary), or any
    // program that keeps worker_contract.hpp. Throws std::runtime_error when
    // libevent cannot watch SIGCHLD.
    Supervisor(event_base* base, std::filesystem::path workerBinary, SupervisorOptions options = {});
    // Without a completed stop(): SIGKILLs every worker's process group and
    // waits for each (blocking), then removes the unix socket files.
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Creates every pool's listening socket first, then spawns each pool's
    // initial workers (initialWorkers: max_children, start_servers, or none
    // for pm ondemand); readiness arrives later on the loop. Throws
    // ListenError when a socket cannot be created, IsolationError for an
    // unknown user or group (nothing is spawned then, and sockets already
    // created are closed and their files removed), and
    // std::invalid_argument for two pools with one name. Call once.
    void start(const std::vector<PoolConfig>& pools);

    // Applies a new list of pools, by name: new pools start; removed pools
    // drain (SIGTERM: in-flight requests finish, bounded by their
    // request_timeout) and stop, their unix socket files removed; changed
    // pools (any PoolConfig difference) are replaced: a new pool object
    // starts its workers and takes over once they are all ready (a command
    // pool's: once they have run kCommandSettleTime, command_policy.hpp),
    // then the old workers are told to finish their current request and
    // exit. A changed pool that keeps its `listen` address shares the very
    // same listening socket between old and new workers, so no connection
    // in the accept queue is lost. If the new workers fail (the new pool goes
    // failing) or are not ready within reloadReadyTimeout, they are stopped
    // and the old workers keep serving. Unchanged pools are left alone.
    //
    // `done` runs from the loop (never inside reload()) once every changed
    // pool has switched or failed, with one log-ready line per problem
    // ("pool web: ..."); empty when everything applied. Until a pool
    // switches, status() and poolAvailable() answer for the old one. A
    // reload while another is under way, or after stop(), only calls
    // `done` with an error.
    void reload(const std::vector<PoolConfig>& pools, ReloadDone done);
    bool reloading() const { return reload_.has_value(); }

    // `pyfpmctl restart POOL`: replaces every worker of the serving pool
    // `pool` by a rolling reload of that one pool with its configuration as
    // it is: the new workers share the listening socket and take over once
    // all are ready; the old ones then finish their current request and
    // exit. `done` as for reload() (it runs at the switch, not when the old
    // workers are gone). Throws std::out_of_range for a name that is not a
    // serving pool; a reload or restart under way, or a stop, is reported
    // through `done`.
    void restart(const std::string& pool, ReloadDone done);
    // `pyfpmctl scale POOL N`: as restart(), with the pool's configuration
    // changed by withMaxChildren(config, maxChildren) (pool_resize.hpp).
    // The change lasts until the next reload, which compares the file with
    // the scaled configuration and so puts the file's value back.
    void scale(const std::string& pool, int maxChildren, ReloadDone done);

    // The serving pools: those passed to start(), then as reloads changed
    // them (a replaced pool keeps its place, new ones come last).
    std::vector<std::string> poolNames() const;
    // A serving pool's status; for a pool a reload removed, its status
    // while it drains (state stopping or stopped) until it is gone. Throws
    // std::out_of_range for any other name.
    PoolStatus status(const std::string& pool) const;
    // False while the pool is failing (backoff, no ready worker) or stopping,
    // and for an unknown name: the bridge answers 503 then.
    bool poolAvailable(const std::string& pool) const;

    // The bridge's side of the workers' channels (channel_listener.hpp):
    // every serving pool reports to `listener`, now and as reloads switch
    // pools (a draining pool keeps reporting its leaving workers). Null
    // unsets it everywhere; do that before the listener is destroyed.
    void setChannelListener(WorkerChannelListener* listener);
    // The bridge holds requests for serving pool `pool` (unknown names are
    // ignored): its maintenance tick runs soon, so that pm ondemand and
    // dynamic see the queue.
    void demand(const std::string& pool);
    // Serving pool `pool`'s scoreboard says worker `pid` is busy.
    bool workerBusy(const std::string& pool, pid_t pid) const;

    // Stops every pool (also those draining after a reload, and the new
    // pools of a reload under way, which then reports an error): no more
    // spawns, then the stop ladder (SIGTERM, wait, SIGKILL to the process
    // group, wait) until every worker is reaped or the last wait passed;
    // each pool's socket closes when its last pool let go (removing the
    // unix socket file this Supervisor created), and `done` is called from
    // the loop, never from inside stop(). The daemon calls it once in-flight
    // HTTP requests are finished or its stop timeout passed. Later calls
    // are ignored.
    void stop(std::function<void()> done);
    bool stopping() const { return stopRequested_; }

private:
    using EventPtr = std::unique_ptr<event, void (*)(event*)>;

    struct PendingReload {
        std::vector<std::unique_ptr<Pool>> candidates;  // changed pools' replacements, not serving yet
        std::vector<std::string> errors;
        ReloadDone done;
        bool expired = false;  // reloadReadyTimeout passed
    };

    static void onStopped(int, short, void* self);
    static void onReloadCheck(int, short, void* self);
    static void onReloadTimeout(int, short, void* self);
    static void onAnswer(int, short, void* self);
    static void onCollect(int, short, void* self);

    PoolOptions poolOptions() const;
    std::unique_ptr<Pool> makePool(const PoolConfig& config, SharedListenSocket socket);
    Pool* findPool(const std::string& name) const;
    void onExit(pid_t pid, int status);
    template <class F>
    void forEachPool(F&& f) const;

    // Reload steps.
    SharedListenSocket socketFor(const PoolConfig& config);
    void startAdded(const PoolConfig& config);
    void startReplacement(const PoolConfig& config);
    // restart() and scale(): a reload of one pool to `config`.
    void replace(PoolConfig config, ReloadDone done);
    void checkReload();
    void switchTo(std::unique_ptr<Pool> candidate);
    void abandon(std::unique_ptr<Pool> candidate, const std::string& why);
    void finishReload();
    void retire(std::unique_ptr<Pool> pool, std::vector<StopStep> ladder);
    std::vector<StopStep> drainLadder(const PoolConfig& config) const;
    // `done` with `errors`, from the loop.
    void answer(ReloadDone done, std::vector<std::string> errors);

    void onPoolStopped();

    event_base* base_;
    std::filesystem::path workerBinary_;
    SupervisorOptions options_;
    Reaper reaper_;
    WorkerChannelListener* channelListener_ = nullptr;
    std::vector<std::unique_ptr<Pool>> pools_;     // serving, in order
    std::vector<std::unique_ptr<Pool>> retiring_;  // draining after a reload
    std::optional<PendingReload> reload_;
    std::vector<std::pair<ReloadDone, std::vector<std::string>>> answers_;

    bool started_ = false;
    bool stopRequested_ = false;
    bool stopFinished_ = false;
    std::function<void()> done_;
    EventPtr stoppedEvent_;
    EventPtr reloadCheck_;
    EventPtr reloadTimer_;
    EventPtr answerEvent_;
    EventPtr collectEvent_;
};

// Serving pools, then a reload's new pools, then draining ones. Defined
// here for the two .cpp files of the Supervisor, where Pool is complete.
template <class F>
void Supervisor::forEachPool(F&& f) const
{
    for (const auto& pool : pools_) {
        f(*pool);
    }
    if (reload_) {
        for (const auto& pool : reload_->candidates) {
            f(*pool);
        }
    }
    for (const auto& pool : retiring_) {
        f(*pool);
    }
}

}  // namespace pyfpm::manager
