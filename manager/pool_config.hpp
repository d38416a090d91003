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
#include <string_view>
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

    // Field by field, as written in the configuration (a reload reuses the
    // socket of an unchanged address).
    friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// php-fpm's `pm`, with php-fpm's semantics (manager/scaling.hpp).
enum class ProcessManager { Static, Dynamic, Ondemand };

// "static", "dynamic", "ondemand": as the configuration spells them.
std::string_view toString(ProcessManager pm);

// `scripts:`: php-fpm's model for Python files. The worker runs the file
// named by SCRIPT_FILENAME when it lies below `root` (after resolving
// symlinks) and ends in one of `extensions`.
struct ScriptsConfig {
    std::filesystem::path root;                  // absolute, a directory
    std::vector<std::string> extensions{".py"};  // each starts with '.'

    friend bool operator==(const ScriptsConfig&, const ScriptsConfig&) = default;
};

// What a pool runs: exactly one of `app`, `scripts` and `command` is set.
enum class PoolKind { App, Scripts, Command };

struct PoolConfig {
    std::string name;

    PoolKind kind = PoolKind::App;
    // `app: "module:callable"`, a WSGI application (PEP 3333).
    std::string app;
    // `scripts: {root: DIR, extensions: [.py]}`: Python files under a root.
    ScriptsConfig scripts;
    // `command: [argv...]`: any FastCGI responder that accepts on fd 0
    // (FCGI_LISTENSOCK_FILENO, spawn-fcgi's contract). command[0] is an
    // absolute path (the loader resolves a bare name through PATH). Such a
    // worker has no notify or scoreboard descriptor: it counts as ready once
    // started, and the status shows it without per-request detail.
    std::vector<std::string> command;
    // `python_path`: prepended to sys.path, in order; absolute.
    std::vector<std::filesystem::path> python_path;
    // `virtualenv`: optional; its site-packages are added like a venv's python.
    std::filesystem::path virtualenv;

    ListenAddress listen;
    int listen_backlog = 511;  // listen(2) backlog, php-fpm's default
    mode_t listen_mode = 0660;

    // listen_owner / listen_group: applied to a unix socket when the daemon
    // runs as root; empty = the daemon's.
    std::string listen_owner;
    std::string listen_group;

    ProcessManager pm = ProcessManager::Static;
    int max_children = 5;
    // pm dynamic. php-fpm's default start_servers is
    // min_spare_servers + (max_spare_servers - min_spare_servers) / 2; the
    // loader fills it in when the key is absent.
    int start_servers = 2;
    int min_spare_servers = 1;
    int max_spare_servers = 3;
    // pm dynamic: at most this many spawns per maintenance tick (php-fpm's
    // pm.max_spawn_rate, default 32); the rate doubles per tick up to it.
    int max_spawn_rate = 32;
    // pm ondemand: an idle worker older than this is stopped (php-fpm's
    // pm.process_idle_timeout, default 10s).
    std::chrono::milliseconds process_idle_timeout{10'000};

    // Recycling. 0 = off. A worker leaves after max_requests ± a random
    // jitter of at most max_requests_jitter requests, or after a request
    // that leaves its RSS above max_rss (bytes).
    long max_requests = 0;
    long max_requests_jitter = 0;
    std::uint64_t max_rss = 0;

    // 0 = off. A request running longer than slowlog_timeout gets its
    // Python stack written to `slowlog` (absolute path).
    std::chrono::milliseconds slowlog_timeout{0};
    std::filesystem::path slowlog;

    // Isolation, applied in the worker before exec. user/group only when the
    // daemon runs as root (empty = unchanged).
    static constexpr long kUnchanged = -1;
    static constexpr long kUnlimited = -2;  // RLIM_INFINITY ("unlimited")
    std::string user;
    std::string group;
    long rlimit_files = kUnchanged;
    long rlimit_core = kUnchanged;  // bytes
    int umask = -1;                 // < 0 = unchanged

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

    // Every field: a reload replaces a pool whose configuration differs in
    // anything (manager/reload_plan.hpp).
    friend bool operator==(const PoolConfig&, const PoolConfig&) = default;
};

}  // namespace pyfpm::manager
