#include "src/pyfpm/http/daemon_paths.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "src/pyfpm/http/reply.hpp"
#include "src/pyfpm/status/format.hpp"

namespace pyfpm::http {

namespace {

bool allowed(const ClientConnection& connection, const std::vector<config::Cidr>& allow) {
    const auto* peer = reinterpret_cast<const sockaddr*>(&connection.peer().raw);
    return std::any_of(allow.begin(), allow.end(), [peer](const config::Cidr& range) { return range.contains(peer); });
}

void send(ClientConnection& connection, std::string_view contentType, const std::string& body) {
    // A status page is always now: never from a cache.
    const HeaderList headers{{"Content-Type", std::string(contentType)},
                             {"Cache-Control", "no-cache, no-store, must-revalidate"}};
    connection.sendHead(200, {}, headers, body.size());
    connection.sendBody(body);
    connection.endResponse();
}

}  // namespace

DaemonPaths DaemonPaths::from(const config::HttpConfig& http) {
    return DaemonPaths{http.status_path, http.ping_path, http.metrics_path, http.status_allow};
}

bool answerDaemonPath(ClientConnection& connection, const std::string& path, std::string_view query,
                      const DaemonPaths& paths, const StatusSource* source) {
    if (!paths.matches(path)) return false;
    const std::string& method = connection.request().method;
    if (!allowed(connection, paths.allow)) {
        spdlog::info("[http] {} from {}: 403: not in http.status_allow", path, connection.peer().address);
        connection.sendText(403, "403 Forbidden\n");
        return true;
    }
    if (method != "GET" && method != "HEAD") {
        connection.sendText(405, "405 Method Not Allowed\n", {{"Allow", "GET, HEAD"}});
        return true;
    }
    if (path == paths.ping) {
        send(connection, "text/plain; charset=utf-8", "pong\n");
        return true;
    }
    status::Query wanted = status::parseQuery(std::string(query));
    if (path == paths.metrics) wanted.format = status::Format::Prometheus;

    std::vector<manager::PoolStatus> pools = source != nullptr ? source->poolStatus() : std::vector<manager::PoolStatus>{};
    if (wanted.pool) {
        std::erase_if(pools, [&](const manager::PoolStatus& pool) { return pool.name != *wanted.pool; });
        if (pools.empty()) {
            connection.sendText(404, "404 Not Found: no such pool\n");
            return true;
        }
    }
    send(connection, status::contentType(wanted.format),
         status::format(pools, wanted.format, wanted.full, status::Now::current()));
    return true;
}

}  // namespace pyfpm::http
