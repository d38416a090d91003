// The manager's face to the daemon: starts every pool, reaps and replaces
// workers, answers "can this pool take a request?", stops everything.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "manager/listen_socket.hpp"
#include "manager/pool_config.hpp"
#include "manager/pool_status.hpp"
#include "manager/reaper.hpp"
#include "manager/spawn.hpp"
#include "manager/stop_ladder.hpp"

struct event;
struct event_base;

namespace pyfpm::manager {

class Pool;

struct SupervisorOptions {
    // How stop() escalates; tests shorten the waits.
    StopLadder stopLadder = kStopLadder;
    // The daemon's environment, filtered per pool by clear_env.
    Environment environment = currentEnvironment();
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
    // max_children workers; readiness arrives later on the loop. Throws
    // ListenError when a socket cannot be created (nothing is spawned then,
    // and sockets already created are closed and their files removed), and
    // std::invalid_argument for two pools with one name. Call once.
    void start(const std::vector<PoolConfig>& pools);

    // The pools passed to start(), in that order.
    std::vector<std::string> poolNames() const;
    // Throws std::out_of_range for a name start() did not get.
    PoolStatus status(const std::string& pool) const;
    // False while the pool is failing (backoff, no ready worker) or stopping,
    // and for an unknown name: the bridge answers 503 then.
    bool poolAvailable(const std::string& pool) const;

    // Stops every pool: no more restarts, then the stop ladder (SIGTERM,
    // wait, SIGKILL to the process group, wait) until every worker is
    // reaped or the last wait passed, then closes the sockets (removing the
    // unix socket files this Supervisor created) and calls `done` from the
    // loop, never from inside stop(). The daemon calls it once in-flight
    // HTTP requests are finished or its stop timeout passed. Later calls
    // are ignored.
    void stop(std::function<void()> done);
    bool stopping() const { return stopRequested_; }

private:
    static void onStopTimer(int, short, void* self);
    static void onStopped(int, short, void* self);

    Pool* findPool(const std::string& name) const;
    void onExit(pid_t pid, int status);
    bool allReaped() const;
    void runStopStep(std::size_t step);
    void finishStop();

    event_base* base_;
    std::filesystem::path workerBinary_;
    SupervisorOptions options_;
    Reaper reaper_;
    std::vector<std::unique_ptr<Pool>> pools_;

    bool started_ = false;
    bool stopRequested_ = false;
    bool stopFinished_ = false;
    std::size_t stopStep_ = 0;
    std::function<void()> done_;
    std::unique_ptr<event, void (*)(event*)> stopTimer_;
    std::unique_ptr<event, void (*)(event*)> stoppedEvent_;
};

}  // namespace pyfpm::manager
