// The paths the daemon answers itself, before any route (pyfpm.yaml(5):
// http.status_path, http.ping_path, http.metrics_path): the status page in
// its formats (src/pyfpm/status), "pong", and the Prometheus metrics.
// Clients outside http.status_allow get 403; methods other than GET and
// HEAD get 405.
//
// On the daemon's event loop thread.
#pragma once


#include <string>
#include <vector>

#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/http/connection.hpp"
#include "src/pyfpm/http/status_source.hpp"

namespace pyfpm::http {

struct DaemonPaths {
    std::string status;   // "" = not served
    std::string ping;
    std::string metrics;
    std::vector<config::Cidr> allow;

    static DaemonPaths from(const config::HttpConfig& http);
    bool any() const { return !status.empty() || !ping.empty() || !metrics.empty(); }
    bool matches(std::string_view path) const {
        return !path.empty() && (path == status || path == ping || path == metrics);
    }
};

// Answers the connection's request if `path` (decoded, without the query)
// is one of `paths`, and returns true; returns false, touching nothing,
// otherwise. `query` (undecoded) picks the format and pool. `source` may be
// null (no pools to show: the status page is then empty).
bool answerDaemonPath(ClientConnection& connection, const std::string& path, std::string_view query,
                      const DaemonPaths& paths, const StatusSource* source);

}  // namespace pyfpm::http
