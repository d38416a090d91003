// Shared pieces of the daemon's integration tests.
#pragma once

#include <string>
#include <vector>

#include "test/support/daemon.hpp"
#include "test/support/http_client.hpp"

namespace pyfpm::test {

// A pool `web` running test/daemon/apps/bridge_app.py with two workers,
// its socket in the daemon's dir, routes for the app at / and /mounted/, and
// a static root in {{dir}}/static.
inline const char* const kBridgeConfig = R"(
stop_timeout: 10s
http:
  listen: 127.0.0.1:{{port}}
  routes:
    - {prefix: /, pool: web}
    - {prefix: /mounted/, pool: web}
    - {prefix: /static/, root: static}
pools:
  web:
    app: bridge_app:app
    python_path: ["{{source}}/test/daemon/apps"]
    listen: web.sock
    pm: static
    max_children: 2
    env: {PYFPM_TEST_DIR: "{{dir}}"}
    request_timeout: 20s
)";

// A config with one pool `web` running test/daemon/apps/bridge_app.py on
// web.sock, routed from / when `withHttp`, plus `poolKeys` (lines indented
// four spaces: pm, max_children, env, ...).
std::string webPoolConfig(const std::string& poolKeys, bool withHttp = true);

// Sends `request` verbatim over a fresh connection to 127.0.0.1:port and
// returns everything the server sent until it closed (bounded by `timeout`).
// For requests a well-behaved client library refuses to send (dot segments,
// bad escapes).
std::string rawHttp(int port, const std::string& request,
                    std::chrono::milliseconds timeout = 10s);

// The status code of a raw HTTP response ("HTTP/1.1 404 Not Found" → 404).
int rawStatus(const std::string& response);

// True while a process with this pid exists (and is not a zombie).
bool processAlive(pid_t pid);

}  // namespace pyfpm::test
