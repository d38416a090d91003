// The state of a pool, derived from its workers: what the HTTP bridge asks
// before forwarding a request, and what status pages show.
#pragma once

#include <string_view>

namespace pyfpm::manager {

// Starting: workers spawned, none ready yet, no failure so far. Requests may
//   be forwarded: they wait in the socket's accept queue.
// Running: at least one worker is ready, or the pool may have none by
//   design (pm ondemand) and nothing failed: a request spawns one.
// Failing: workers died before becoming ready and none is ready; restarts
//   are in backoff. The bridge answers 503 (issue 3).
// Stopping: stop() was called; workers are being signalled.
// Stopped: stop() was called and every worker is reaped. (The socket closes
//   when the whole stop completes, Supervisor::stop.)
enum class PoolState { Starting, Running, Failing, Stopping, Stopped };

std::string_view toString(PoolState state);

// True when a request sent to the pool's socket can expect a worker.
bool acceptsRequests(PoolState state);

// The facts a pool's state follows from.
struct PoolFacts {
    bool stopping = false;       // stop() was called
    int liveWorkers = 0;         // spawned and not yet reaped
    int readyWorkers = 0;
    int startFailures = 0;       // consecutive deaths before ready (Backoff)
    bool scalesToZero = false;   // pm ondemand: no worker is normal
};

// Precedence, highest first: Stopped (stopping, nobody left), Stopping,
// Running (a ready worker serves even while others crash-loop), Failing,
// Running for a pool that scales to zero, Starting.
PoolState derivePoolState(const PoolFacts& facts);

}  // namespace pyfpm::manager
