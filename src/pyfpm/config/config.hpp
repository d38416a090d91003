// The daemon's configuration, as loaded from pyfpm.yaml (pyfpm.yaml(5)).
// Plain data: the loader (loader.hpp) fills and validates it; the HTTP bridge
// and the manager read it. Paths are absolute (relative ones in the file
// resolve against the file's folder).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "manager/pool_config.hpp"
#include "src/pyfpm/config/cidr.hpp"

namespace pyfpm::config {

struct HttpListen {
    std::string host;  // numeric IPv4 or IPv6 (without brackets), or a name
    std::uint16_t port = 0;
};

struct Route {
    enum class Kind { Static, Pool };
    // Matched against the request path; longest prefix wins. A prefix ending
    // in '/' also matches the path without it ("/static/" matches "/static").
    std::string prefix;
    Kind kind = Kind::Pool;
    // Kind::Static: absolute. With `pool` also set on a Static route (written
    // `fallback:`), a file under root is served when it exists and the request
    // goes to the pool otherwise, nginx's `try_files $uri $uri/ @pool`. On a
    // scripts pool's route, root is where SCRIPT_FILENAME points.
    std::filesystem::path root;
    std::string pool;            // Kind::Pool, or the fallback: a key of Config::pools
    // Static: files tried, in order, for a path naming a directory (nginx's
    // `index`). Empty: a directory is 403.
    std::vector<std::string> index{"index.html"};
    // Static: the Cache-Control header of every file answer (200, 206,
    // 304); empty = none.
    std::string cache_control;
    // Static: serve FILE.gz with Content-Encoding: gzip when it exists and
    // the client accepts gzip (nginx's gzip_static).
    bool gzip_static = false;
    // Request body bound in bytes for this route; nullopt = http.max_body_size.
    std::optional<std::uint64_t> max_body_size;
};

// The access log's default: the combined log format, then the request
// time, the worker's time, the pool and the worker's pid (tokens in
// pyfpm.yaml(5), http.access_log_format).
inline constexpr const char* kDefaultAccessLogFormat =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\" $request_time $upstream_response_time $pool $worker_pid";

// The error log's threshold, php-fpm's log_level. spdlog has no level
// between info and warning, so notice and info show the same lines.
enum class LogLevel { Error, Warning, Notice, Info, Debug };

struct HttpConfig {
    std::vector<HttpListen> listen;
    std::vector<Route> routes;  // in file order
    // Answered by the daemon itself, never by a pool, so they work while
    // every worker is busy (pyfpm(8), STATUS PAGE). Empty = not served.
    std::string status_path;   // php-fpm's pm.status_path
    std::string ping_path;     // php-fpm's ping.path; answers "pong"
    std::string metrics_path;  // the status in Prometheus text format
    // Serve those paths on this address only, instead of on http.listen.
    std::optional<HttpListen> status_listen;
    // Clients allowed on those paths; others get 403.
    std::vector<Cidr> status_allow = defaultStatusAllow();
    // "" = off, "stdout", or an absolute file path; reopened on SIGUSR1.
    std::string access_log;
    std::string access_log_format = kDefaultAccessLogFormat;

    // Limits and timeouts for clients, nginx's directives and defaults where
    // nginx has one (pyfpm.yaml(5)).
    // Request line and headers; 431 beyond it (a request line alone: 414).
    std::uint64_t max_header_size = 32 * 1024;
    // Request body; 413 before anything reaches a worker. 0 = no bound.
    std::uint64_t max_body_size = 64ull * 1024 * 1024;
    // Whole head must arrive within client_header_timeout; each read of the
    // body within client_body_timeout: else 408 and the connection closed.
    std::chrono::milliseconds client_header_timeout{60'000};
    std::chrono::milliseconds client_body_timeout{60'000};
    // A client that takes nothing of the response for this long is cut off.
    std::chrono::milliseconds send_timeout{60'000};
    // An idle keep-alive connection is closed after this; 0 = no keep-alive.
    std::chrono::milliseconds keepalive_timeout{75'000};
    // Open client connections at most, over every listener; a connection
    // beyond it gets 503 and is closed.
    int max_connections = 512;
    // Peers whose X-Forwarded-For / X-Forwarded-Proto are believed for
    // REMOTE_ADDR / HTTPS (nginx's set_real_ip_from). Empty: nobody's.
    std::vector<Cidr> trusted_proxies;
    // Where bodies without Content-Length are spooled (nginx's
    // client_body_temp_path); empty = $TMPDIR or /tmp.
    std::filesystem::path client_body_temp_path;

    static std::vector<Cidr> defaultStatusAllow();
};

// control.socket when the file has none, relative to the file's folder.
inline constexpr const char* kDefaultControlSocket = "pyfpm.sock";

struct Config {
    std::filesystem::path file;  // absolute path of the YAML file
    // Absent: pyfpm only manages pools (the php-fpm way).
    std::optional<HttpConfig> http;
    std::vector<manager::PoolConfig> pools;  // in file order, names unique
    // SIGTERM/SIGINT: how long in-flight requests may take to finish before
    // workers are told to stop.
    std::chrono::milliseconds stop_timeout{10'000};
    // php-fpm's emergency_restart_threshold / _interval: when this many
    // workers of one pool die of SIGSEGV or SIGBUS within the interval, the
    // pool is restarted from scratch. 0 = off.
    int emergency_restart_threshold = 0;
    std::chrono::milliseconds emergency_restart_interval{60'000};
    // php-fpm's error_log: the daemon's log file, reopened on SIGUSR1.
    // Empty = standard error.
    std::filesystem::path error_log;
    LogLevel log_level = LogLevel::Notice;
    // control.socket: the unix socket pyfpmctl(8) talks to (mode 0600).
    // Default: pyfpm.sock in the configuration file's folder.
    std::filesystem::path control_socket;

    const manager::PoolConfig* findPool(const std::string& name) const;
};

}  // namespace pyfpm::config
