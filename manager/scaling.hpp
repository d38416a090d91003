// Scaling decisions, php-fpm's `pm` modes (static, dynamic, ondemand) with
// php-fpm's semantics, plus the listen queue: a pool scales up when
// connections wait in its accept queue, not only when few workers are idle.
//
// Pure functions of (pool config, what the scoreboard and the socket say,
// now): no processes, no clock, no I/O. The Pool applies the decision (spawns,
// signals). Unit-tested over scripted scenarios in test/manager.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <vector>

#include "manager/pool_config.hpp"

namespace pyfpm::manager {

using Clock = std::chrono::steady_clock;

// One maintenance tick's view of a pool (workers being stopped or recycled
// are not counted: they do not serve new requests).
struct ScalingInput {
    struct IdleWorker {
        pid_t pid = 0;
        Clock::time_point idleSince;
    };
    int starting = 0;                   // spawned, not ready yet
    int busy = 0;
    std::vector<IdleWorker> idle;       // in any order
    int listenQueue = 0;                // connections waiting to be accepted; < 0 unknown
    int spawnRate = 1;                  // dynamic: this tick's rate (ScaleDecision::nextSpawnRate)
};

struct ScaleDecision {
    int spawn = 0;                      // workers to start now
    std::vector<pid_t> stop;            // idle workers to stop gracefully
    // Demand exceeds max_children: the queue is non-empty (or no worker is
    // idle while dynamic wants spares) and the pool is full. The Pool counts
    // it and logs it at most once per interval.
    bool maxChildrenReached = false;
    int nextSpawnRate = 1;              // dynamic: doubles while spawning, back to 1 otherwise
};

// static: keep max_children. dynamic: keep idle within [min_spare_servers,
// max_spare_servers] (spawning at most spawnRate per tick, stopping at most
// one idle worker per tick, the one idle longest), never above max_children.
// ondemand: spawn while connections wait and no worker is idle; stop workers
// idle longer than process_idle_timeout, down to zero. In every mode a
// non-empty listen queue with no idle worker asks for workers (bounded by
// max_children and the spawn rate).
//
// Details the tests pin down:
// - Workers still starting count as spares (dynamic) and as taking one
//   waiting connection each (every mode), so a slow application import does
//   not spawn the same workers again on the next tick.
// - No worker is stopped while connections wait in the queue.
// - dynamic: each tick that spawns doubles the rate (capped at
//   max_spawn_rate); any other tick resets it to 1. Queue-driven spawns use
//   the same rate.
// - ondemand: spawns min(waiting connections, room, max_spawn_rate) at once;
//   stops every idle worker whose idle time is longer than (not equal to)
//   process_idle_timeout. With listenQueue unknown (< 0) it never spawns: the
//   Pool should pass 1 when its socket polls readable, php-fpm's own signal.
// - static: never spawns or stops (the supervisor replaces dead workers,
//   with its backoff); only reports maxChildrenReached.
// - maxChildrenReached: connections wait, no worker is idle and the pool is
//   at max_children; or (dynamic) fewer spares than min_spare_servers and the
//   pool is at max_children, as php-fpm reports it.
ScaleDecision decideScale(const PoolConfig& config, const ScalingInput& input, Clock::time_point now);

// How many workers a pool starts with: max_children (static), start_servers
// (dynamic), 0 (ondemand).
int initialWorkers(const PoolConfig& config);

}  // namespace pyfpm::manager
