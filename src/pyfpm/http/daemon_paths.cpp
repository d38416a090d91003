#include "src/pyfpm/http/daemon_paths.hpp"

#include <event2/buffer.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "src/pyfpm/http/reply.hpp"
#include "src/pyfpm/status/format.hpp"

namespace pyfpm::http {

namespace {

bool allowed(evhttp_request* request, const std::vector<config::Cidr>& allow) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    const sockaddr* peer = connection != nullptr ? evhttp_connection_get_addr(connection) : nullptr;
    return std::any_of(allow.begin(), allow.end(), [peer](const config::Cidr& range) { return range.contains(peer); });
}

void send(evhttp_request* request, std::string_view contentType, const std::string& body) {
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", std::string(contentType).c_str());
    // A status page is always now: never from a cache.
    evhttp_add_header(headers, "Cache-Control", "no-cache, no-store, must-revalidate");
    evbuffer* out = evbuffer_new();
    if (evhttp_request_get_command(request) != EVHTTP_REQ_HEAD) evbuffer_add(out, body.data(), body.size());
    evhttp_send_reply(request, 200, "OK", out);
    evbuffer_free(out);
}

}  // namespace

DaemonPaths DaemonPaths::from(const config::HttpConfig& http) {
    return DaemonPaths{http.status_path, http.ping_path, http.metrics_path, http.status_allow};
}

bool answerDaemonPath(evhttp_request* request, const std::string& path, const DaemonPaths& paths,
                      const StatusSource* source) {
    if (!paths.matches(path)) return false;
    const evhttp_cmd_type method = evhttp_request_get_command(request);
    if (!allowed(request, paths.allow)) {
        evhttp_connection* connection = evhttp_request_get_connection(request);
        char* peer = nullptr;
        ev_uint16_t port = 0;
        if (connection != nullptr) evhttp_connection_get_peer(connection, &peer, &port);
        spdlog::info("[http] {} from {}: 403: not in http.status_allow", path, peer != nullptr ? peer : "?");
        sendPlainText(request, 403, "403 Forbidden\n");
        return true;
    }
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(request), "Allow", "GET, HEAD");
        sendPlainText(request, 405, "405 Method Not Allowed\n");
        return true;
    }
    if (path == paths.ping) {
        send(request, "text/plain; charset=utf-8", "pong\n");
        return true;
    }
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
    status::Query wanted = status::parseQuery(query != nullptr ? query : "");
    if (path == paths.metrics) wanted.format = status::Format::Prometheus;

    std::vector<manager::PoolStatus> pools = source != nullptr ? source->poolStatus() : std::vector<manager::PoolStatus>{};
    if (wanted.pool) {
        std::erase_if(pools, [&](const manager::PoolStatus& pool) { return pool.name != *wanted.pool; });
        if (pools.empty()) {
            sendPlainText(request, 404, "404 Not Found: no such pool\n");
            return true;
        }
    }
    send(request, status::contentType(wanted.format),
         status::format(pools, wanted.format, wanted.full, status::Now::current()));
    return true;
}

}  // namespace pyfpm::http
