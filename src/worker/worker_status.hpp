// What the worker reports about itself as it serves: its scoreboard slot
// (manager/scoreboard.hpp) and, once, a recycle request on the notify pipe
// when --max-requests or --max-rss is reached. The accept loop calls it at
// each step; everything here is cheap enough for every request: a few
// atomic stores, two CLOCK_MONOTONIC reads (vDSO, no system call), one
// pread(2) of /proc/self/statm when RSS is wanted, and no allocation.
// Main thread only; neither needs nor touches the GIL.
#pragma once

#include <fcgiapp.h>

#include <cstdint>
#include <string>

#include "manager/scoreboard.hpp"
#include "src/worker/notify_pipe.hpp"
#include "src/worker/rss.hpp"

namespace pyfpm::worker {

struct RecycleLimits {
    std::uint64_t maxRequests = 0;  // 0 = none
    std::uint64_t maxRssBytes = 0;  // 0 = none
};

class WorkerStatus {
public:
    // `slot` may be null (no scoreboard); it must outlive this object.
    // RSS is read after each request only when there is a slot to show it
    // in or a max_rss to check it against.
    WorkerStatus(manager::SlotWriter* slot, const NotifyPipe& notify, RecycleLimits limits, std::string pool);

    // The loop is about to wait for a connection or the next request on a
    // kept connection. Idempotent: a lost accept race does not move the
    // slot's idle-since time.
    void waiting();
    // FCGX_Accept_r has read FCGI_BEGIN_REQUEST and FCGI_PARAMS.
    void requestStarted(const FCGX_Request& request);
    // FCGX_Finish_r has sent FCGI_END_REQUEST. Counts the request, reads
    // RSS, and asks for a recycle the first time a limit is reached.
    void requestFinished();
    // The loop ended (stop signal or the listening socket went away).
    void stopping();

    std::uint64_t requests() const { return requests_; }

private:
    manager::SlotWriter* slot_;
    const NotifyPipe& notify_;
    RecycleLimits limits_;
    std::string pool_;
    RssReader rss_;
    std::uint64_t requests_ = 0;
    bool idle_ = false;
    bool recycleAsked_ = false;
    // The current request for the recycle log line: FCGX_GetParam's
    // pointers die in FCGX_Finish_r, before requestFinished().
    char method_[manager::kSlotMethodBytes + 1] = {};
    char uri_[manager::kSlotUriBytes + 1] = {};
};

}  // namespace pyfpm::worker
