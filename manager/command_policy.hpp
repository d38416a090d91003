// Decisions for command pools (PoolKind::Command): any FastCGI responder
// that accepts on fd 0, spawn-fcgi's contract, such as a libfcgi program or
// fcgiwrap. Such a worker has no notify pipe and no scoreboard, so the
// manager knows only that it runs: it counts as ready once exec(2)
// succeeded, and whether it is idle or busy is unknown. What the kernel
// tells about the pool's socket (its accept queue, listen_queue.hpp) is the
// only measure of demand.
//
// Pure functions of (pool config, what the tick saw, now), like scaling.hpp:
// no processes, no clock, no I/O. Documented for users in pyfpm.yaml(5),
// "Command pools".
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "manager/backoff.hpp"
#include "manager/pool_config.hpp"
#include "manager/scaling.hpp"
#include "manager/worker_state.hpp"

namespace pyfpm::manager {

// A command worker counts as ready at exec, so a program that exits at once
// (a bad argument, descriptor 0 not a socket) would be restarted at once,
// forever. One that exits, unasked, sooner than this after its start is a
// failed start instead: restarted after the backoff, and the backoff starts
// over only once a worker has run this long.
inline constexpr std::chrono::milliseconds kCommandSettleTime{1000};

// decideAfterExit() for a command pool's worker that lived `lifetime`.
AfterExit decideAfterCommandExit(WorkerState stateAtExit, bool poolStopping, std::chrono::milliseconds lifetime);

// The keys a command pool has set that need pyfpm-worker's cooperation and
// are therefore ignored, in the order pyfpm.yaml(5) lists them:
// python_path, virtualenv, max_requests, max_requests_jitter, max_rss,
// slowlog_timeout, slowlog. The pool logs one warning at start naming them.
std::vector<std::string> ignoredCommandKeys(const PoolConfig& config);

// One maintenance tick's view of a command pool.
struct CommandScalingInput {
    struct RunningWorker {
        pid_t pid = 0;
        Clock::time_point startedAt;
    };
    int starting = 0;                     // spawned, exec not reported yet
    std::vector<RunningWorker> running;   // ready, not told to stop; any order
    int listenQueue = 0;                  // connections waiting; < 0 unknown
    // The tick was woken by a connection on the pool's socket (pm ondemand
    // watches it): with the queue unknown, that is the only sign of demand.
    bool connectionPending = false;
    int spawnRate = 1;                    // dynamic: this tick's rate
    // The last time demand was seen: a non-empty queue at a tick, a worker
    // spawned, or the pool started. Workers are stopped only after
    // process_idle_timeout without it.
    Clock::time_point lastDemand;
};

// static: never spawns or stops (the Pool keeps max_children, with its
// backoff); reports maxChildrenReached when connections wait at
// max_children.
//
// dynamic: keeps at least start_servers workers (refilling at most
// spawnRate per tick); while connections wait in the accept queue beyond
// the workers still starting, spawns min(spawnRate, waiting, room) per
// tick, the rate doubling per spawning tick up to max_spawn_rate and back to
// 1 on any other tick; once the queue has been empty for longer than
// process_idle_timeout, stops one worker per tick (the most recently
// started) down to start_servers. min_spare_servers and max_spare_servers
// are not used: they count idle workers, which nobody can see.
//
// ondemand: starts none; spawns min(waiting, room, max_spawn_rate) while
// connections wait (a pending connection on an unknown queue counts as one
// only while the pool has no worker at all); once the queue has been empty
// for longer than process_idle_timeout, stops one worker per tick (the most
// recently started), down to none.
//
// In every mode: no worker is stopped while connections wait or the queue
// is unknown; maxChildrenReached when connections wait and the pool is at
// max_children.
ScaleDecision decideCommandScale(const PoolConfig& config, const CommandScalingInput& input, Clock::time_point now);

}  // namespace pyfpm::manager
