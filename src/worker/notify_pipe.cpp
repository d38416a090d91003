#include "src/worker/notify_pipe.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "manager/worker_contract.hpp"

namespace pyfpm::worker {

std::optional<RecycleRequest> recycleDue(std::uint64_t maxRequests, std::uint64_t maxRssBytes,
                                         std::uint64_t requests, std::uint64_t rssBytes)
{
    if (maxRequests > 0 && requests >= maxRequests) {
        return RecycleRequest{"max_requests", maxRequests};
    }
    if (maxRssBytes > 0 && rssBytes > maxRssBytes) {
        return RecycleRequest{"max_rss", rssBytes};
    }
    return std::nullopt;
}

std::string recycleMessage(const RecycleRequest& request)
{
    return fmt::format("{}{} {}\n", manager::contract::kRecyclePrefix, request.reason, request.value);
}

bool NotifyPipe::send(std::string_view message) const
{
    if (!fd_) {
        return false;
    }
    while (!message.empty()) {
        const ssize_t written = ::write(*fd_, message.data(), message.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            // SIGPIPE is ignored: a daemon that went away shows up as EPIPE.
            spdlog::warn("[pool {}] worker {}: write(2) to notify fd {}: {}; serving anyway", pool_,
                         ::getpid(), *fd_, std::strerror(errno));
            return false;
        }
        message.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

}  // namespace pyfpm::worker
