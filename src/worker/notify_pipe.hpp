// What the worker tells the manager on the notify pipe
// (manager/worker_contract.hpp kNotifyFd): "ready\n" once, and at most one
// "recycle REASON VALUE\n".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pyfpm::worker {

// Why a worker asks to be recycled, with the number that tripped the
// limit: max_requests with the limit itself, max_rss with the RSS in bytes.
struct RecycleRequest {
    std::string_view reason;
    std::uint64_t value = 0;
};

// Pure: the recycle request due after a finished request, given the limits
// (0 = none) and the worker's counters; the request count wins when both
// limits are reached at once.
std::optional<RecycleRequest> recycleDue(std::uint64_t maxRequests, std::uint64_t maxRssBytes,
                                         std::uint64_t requests, std::uint64_t rssBytes);

// "recycle max_rss 123456789\n", as the contract spells it.
std::string recycleMessage(const RecycleRequest& request);

// The worker's end of the pipe; nullopt = started by hand, nobody listens.
// Main thread only.
class NotifyPipe {
public:
    NotifyPipe(std::optional<int> fd, std::string pool) : fd_(fd), pool_(std::move(pool)) {}

    bool connected() const { return fd_.has_value(); }
    // Writes `message` whole (retrying short writes and EINTR). On failure
    // logs a warning naming the pool, the pid and write(2)'s error and
    // returns false; the worker serves on either way.
    bool send(std::string_view message) const;

private:
    std::optional<int> fd_;
    std::string pool_;
};

}  // namespace pyfpm::worker
