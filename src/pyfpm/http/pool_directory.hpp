// What the HTTP bridge asks the process manager before it sends a request to
// a pool. The bridge does not know the manager's types: the daemon's main
// implements this interface over the manager, tests implement it with a
// table.
#pragma once

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
};

}  // namespace pyfpm::http
