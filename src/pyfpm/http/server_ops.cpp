// The Server's operational side: the access log record of each request and
// the separate status listener (http.status_listen). Request routing and
// proxying are in server.cpp.
#include <event2/keyvalq_struct.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "src/pyfpm/http/reply.hpp"
#include "src/pyfpm/http/server.hpp"

namespace pyfpm::http {

namespace {

std::string headerOrEmpty(evkeyvalq* headers, const char* name) {
    const char* value = evhttp_find_header(headers, name);
    return value != nullptr ? value : "";
}

bool sameAddress(const config::HttpListen& a, const config::HttpListen& b) {
    return a.host == b.host && a.port == b.port;
}

}  // namespace

void Server::begin(evhttp_request* request) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    InFlight record{request, nullptr, {}};
    if (access_log_) {
        AccessRecord& access = record.access;
        access.receivedWall = std::chrono::system_clock::now();
        access.received = std::chrono::steady_clock::now();
        char* peer = nullptr;
        ev_uint16_t port = 0;
        evhttp_connection_get_peer(connection, &peer, &port);
        access.remoteAddr = peer != nullptr ? peer : "";
        access.method = std::string(methodName(evhttp_request_get_command(request)));
        const char* uri = evhttp_request_get_uri(request);
        access.uri = uri != nullptr ? uri : "";
        const HttpVersion version = httpVersion(request);
        access.protocol = fmt::format("HTTP/{}.{}", version.major, version.minor);
        evkeyvalq* headers = evhttp_request_get_input_headers(request);
        access.host = headerOrEmpty(headers, "Host");
        access.referer = headerOrEmpty(headers, "Referer");
        access.userAgent = headerOrEmpty(headers, "User-Agent");
    }
    in_flight_[connection] = std::move(record);
}

void Server::noteUpstream(evhttp_connection* connection, const UpstreamNote& note) {
    const auto found = in_flight_.find(connection);
    if (found == in_flight_.end()) return;
    AccessRecord& access = found->second.access;
    access.pool = note.pool;
    access.workerPid = note.workerPid;
    access.upstreamTime = note.elapsed;
    access.bodyBytes = note.bodyBytes;
}

void Server::logAccess(const InFlight& record, evhttp_request* request, int status) {
    if (!access_log_) return;
    AccessRecord access = record.access;
    access.status = status;
    // A response the bridge framed with a length says how much body went
    // out; a streamed one was counted by its Exchange.
    if (request != nullptr && evhttp_request_get_command(request) != EVHTTP_REQ_HEAD) {
        const char* length = evhttp_find_header(evhttp_request_get_output_headers(request), "Content-Length");
        std::uint64_t bytes = 0;
        if (length != nullptr) {
            const std::string_view text(length);
            if (std::from_chars(text.data(), text.data() + text.size(), bytes).ec == std::errc()) {
                access.bodyBytes = bytes;
            }
        }
    } else if (request != nullptr) {
        access.bodyBytes = 0;
    }
    access_log_->write(access);
}

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
    return status_listeners_.front().address;
}

bool Server::reconfigureStatusListen(const std::optional<config::HttpListen>& address, std::string& error) {
    if (address && status_listen_ && sameAddress(*address, *status_listen_)) return true;
    if (!address && !status_listen_) return true;
    std::vector<Listener> bound;
    if (address && !bindOne(*address, status_http_.get(), bound, error)) return false;
    for (const Listener& listener : status_listeners_) {
        spdlog::info("[http] no longer listening on {}:{} (status_listen)", listener.address.host,
                     listener.address.port);
        evhttp_del_accept_socket(status_http_.get(), listener.socket);
    }
    status_listeners_ = std::move(bound);
    status_listen_ = address;
    return true;
}

}  // namespace pyfpm::http
