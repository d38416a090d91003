// The Server's operational side: the access log record of each request and
// the separate status listener (http.status_listen). Request routing and
// proxying are in server.cpp.
#include <spdlog/spdlog.h>

#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "src/pyfpm/http/reply.hpp"
#include "src/pyfpm/http/server.hpp"

namespace pyfpm::http {

namespace {

bool sameAddress(const config::HttpListen& a, const config::HttpListen& b) {
    return a.host == b.host && a.port == b.port;
}

}  // namespace

bool Server::openAccessLog(const config::HttpConfig* http, std::unique_ptr<AccessLog>& log,
                           std::string& error) const {
    log.reset();
    if (http == nullptr || http->access_log.empty()) return true;
    if (access_log_ && access_log_->target() == http->access_log &&
        access_log_->formatText() == http->access_log_format) {
        return true;  // keep the one that is open
    }
    std::string why;
    log = AccessLog::open(http->access_log, http->access_log_format, why);
    if (!log) {
        error = fmt::format("http.access_log {}: {}", http->access_log, why);
        return false;
    }
    return true;
}

bool Server::reopenAccessLog(std::string& error) {
    if (!access_log_) return true;
    return access_log_->reopen(error);
}

std::optional<config::HttpListen> Server::statusListening() const {
    if (status_listeners_.empty()) return std::nullopt;
    return status_listeners_.front()->address;
}

bool Server::reconfigureStatusListen(const std::optional<config::HttpListen>& address, std::string& error) {
    if (address && status_listen_ && sameAddress(*address, *status_listen_)) return true;
    if (!address && !status_listen_) return true;
    std::vector<std::unique_ptr<Listener>> bound;
    if (address && !bindOne(*address, true, bound, error)) return false;
    for (const auto& listener : status_listeners_) {
        spdlog::info("[http] no longer listening on {}:{} (status_listen)", listener->address.host,
                     listener->address.port);
    }
    status_listeners_ = std::move(bound);
    status_listen_ = address;
    return true;
}

}  // namespace pyfpm::http
