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
    std::filesystem::path root;  // Kind::Static: absolute
    std::string pool;            // Kind::Pool: a key of Config::pools
};

struct HttpConfig {
    std::vector<HttpListen> listen;
    std::vector<Route> routes;  // in file order
};

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

    const manager::PoolConfig* findPool(const std::string& name) const;
};

}  // namespace pyfpm::config
