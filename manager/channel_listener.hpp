// What the HTTP bridge hears from the manager about the workers' private
// channels (worker_contract.hpp, "The bridge's channel"), and what the
// manager asks it back. The daemon's wiring implements it over the bridge;
// the manager does not know the bridge's types.
//
// Everything runs on the daemon's event loop thread. Calls come from inside
// a Pool's own callbacks: an implementation may change its own state but
// must not call back into the Pool or the Supervisor.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace pyfpm::manager {

class WorkerChannelListener {
public:
    virtual ~WorkerChannelListener() = default;

    // Worker `pid` of serving pool `pool` is ready and listens on the
    // abstract unix socket `channel` (the name after "ready @"). Also
    // called for the ready workers of a pool when it starts serving (at
    // start, or when a reload switches to it).
    virtual void workerReady(const std::string& pool, pid_t pid, const std::string& channel) = 0;
    // Worker `pid` was told to stop, or is gone: send it nothing more, and
    // close its channel once the request on it (if any) ended, so that it
    // exits at once. Called for every worker that was announced ready, and
    // possibly again (the second call is a no-op).
    virtual void workerLeaving(const std::string& pool, pid_t pid) = 0;
    // Requests the bridge holds for `pool` because every channel is busy:
    // part of the pool's queue for scaling and for the status page, next to
    // the pool socket's accept queue.
    virtual std::size_t queued(const std::string& pool) const = 0;
};

}  // namespace pyfpm::manager
