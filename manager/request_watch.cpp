#include "manager/request_watch.hpp"

namespace pyfpm::manager {

RequestCheck checkRequest(const PoolConfig& config, const SlotSnapshot& slot, std::int64_t nowMs,
                          std::int64_t slowReportedFor)
{
    RequestCheck check;
    if (slot.state != SlotState::Busy) {
        return check;
    }
    // A clock read before the worker's own write can be a millisecond
    // behind it; never a negative age.
    check.elapsed = std::chrono::milliseconds(nowMs > slot.requestStartedAtMs ? nowMs - slot.requestStartedAtMs : 0);
    check.slow = config.slowlog_timeout.count() > 0 && check.elapsed >= config.slowlog_timeout &&
                 slot.requestStartedAtMs != slowReportedFor;
    check.overdue = config.request_timeout.count() > 0 && check.elapsed >= config.request_timeout;
    return check;
}

}  // namespace pyfpm::manager
