// What the HTTP bridge asks the process manager before it sends a request to
// a pool. The bridge does not know the manager's types: the daemon's main
// implements this interface over the manager, tests implement it with a
// table.
#pragma once

#include <sys/types.h>

#include <string>

namespace pyfpm::http {

struct PoolAvailability {
    bool available = true;
    // Why not, for the log ("in backoff after 3 failed starts; next try in
    // 4s"). Never sent to the client.
    std::string reason;
};

class PoolDirectory {
public:
    virtual ~PoolDirectory() = default;

    // Called on the daemon's event loop thread, once per request routed to
    // `pool`, before any connection is made. Must not block. A pool that is
    // not available is answered 503 with Retry-After, as nginx answers a
    // failed upstream: typically a pool in restart backoff with no live
    // worker. A pool with live but busy workers is available: its listen
    // queue is the request queue.
    virtual PoolAvailability availability(const std::string& pool) const = 0;

    // Requests for `pool` wait in the bridge because every worker channel
    // is busy (channels.hpp): the manager should look at its queue now
    // (pm ondemand and dynamic spawn on it). Called when the first one
    // starts to wait; must not block or call back into the bridge.
    virtual void demand(const std::string& pool) const { (void)pool; }

    // The pool's scoreboard says worker `pid` serves a request, which for a
    // worker whose channel is idle means one from the pool socket (nginx).
    // Called per request; must be cheap.
    virtual bool workerBusy(const std::string& pool, pid_t pid) const {
        (void)pool;
        (void)pid;
        return false;
    }
};

}  // namespace pyfpm::http
