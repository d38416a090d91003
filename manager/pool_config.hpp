// Configuration of one pool, as the manager consumes it. The YAML loader
// (src/pyfpm/config) fills it; names follow php-fpm's pool directives so ops
// recognise them (DESIGN.md "The manager").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pyfpm::manager {

// A pool's `listen` value: a unix socket path or host:port.
struct ListenAddress {
    enum class Kind { Unix, Tcp };
    Kind kind = Kind::Unix;
    std::filesystem::path path;  // Kind::Unix: absolute path
    std::string host;            // Kind::Tcp: numeric IPv4/IPv6 or a name
    std::uint16_t port = 0;      // Kind::Tcp

    // "unix:/run/pyfpm/web.sock" or "127.0.0.1:9000" / "[::1]:9000", for logs.
    std::string toString() const;
};

// php-fpm's `pm`. This release implements Static; the loader rejects the
// others until the scaling code exists.
enum class ProcessManager { Static, Dynamic, Ondemand };

struct PoolConfig {
    std::string name;

    // `app: "module:callable"`, a WSGI application (PEP 3333).
    std::string app;
    // `python_path`: prepended to sys.path, in order; absolute.
    std::vector<std::filesystem::path> python_path;
    // `virtualenv`: optional; its site-packages are added like a venv's python.
    std::filesystem::path virtualenv;

    ListenAddress listen;
    int listen_backlog = 511;  // listen(2) backlog, php-fpm's default
    mode_t listen_mode = 0660;

    ProcessManager pm = ProcessManager::Static;
    int max_children = 5;

    // Worker environment. With clear_env (the default, like php-fpm) the
    // worker sees only these plus PATH; without it, the daemon's environment
    // with these added or replaced.
    std::map<std::string, std::string> env;
    bool clear_env = true;
    // Absolute; the worker's current directory.
    std::filesystem::path working_dir;

    // Upper bound for one request through the bridge (php-fpm's
    // request_terminate_timeout); 504 after it.
    std::chrono::milliseconds request_timeout{60'000};
};

}  // namespace pyfpm::manager
