#include "src/pyfpm/config/keys.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "src/pyfpm/config/accounts.hpp"
#include "src/pyfpm/config/log_format.hpp"
#include "src/pyfpm/config/readers.hpp"
#include "src/pyfpm/config/values.hpp"

namespace pyfpm::config {

namespace {

using manager::ListenAddress;
using manager::PoolConfig;
using manager::ProcessManager;

// sockaddr_un.sun_path holds the path and its terminating NUL.
constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;
// Bounds that catch a stray digit, far above anything one host runs.
constexpr long long kMaxWorkers = 10000;
constexpr long long kMaxRequests = 1'000'000'000;
// The kernel's ceiling for fs.nr_open, so RLIMIT_NOFILE can never be set
// higher (fs/file.c, sysctl_nr_open_max on 64-bit).
constexpr long long kMaxOpenFiles = 1073741816;

bool hasKey(const YAML::Node& map, std::string_view name) {
    return std::any_of(map.begin(), map.end(), [&](const auto& entry) {
        return entry.first.IsScalar() && entry.first.Scalar() == name;
    });
}

bool isRoutePrefix(std::string_view prefix) {
    return prefix.starts_with('/') && std::none_of(prefix.begin(), prefix.end(), [](char c) {
        return c == '?' || c == '#' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
    });
}

enum class Account { User, Group };

// `user`, `group`, `listen_owner`, `listen_group`: a name the system knows,
// or a numeric id. Kept as written; the spawn side resolves it again.
Reader<PoolConfig> account(std::string PoolConfig::*member, Account kind) {
    return [member, kind](const Field& field, PoolConfig& pool) {
        const bool user = kind == Account::User;
        const std::string_view noun = user ? "user" : "group";
        const auto what = fmt::format("a {} name or a numeric id", noun);
        auto text = field.scalar(what);
        if (!text) return;
        if (text->empty() || text->find('\0') != std::string::npos)
            return field.fail(expectedGot(what, field.node()));
        auto found = user ? lookupUser(*text) : lookupGroup(*text);
        if (found.error != 0)
            return field.fail(fmt::format("{}(3) \"{}\": {}", user ? "getpwnam" : "getgrnam", *text,
                                          std::strerror(found.error)));
        if (!found.id) return field.fail(fmt::format("no {} named \"{}\" on this system", noun, *text));
        pool.*member = *text;
    };
}

// php-fpm's rlimit_core: a size in bytes, or "unlimited".
void readRlimitCore(const Field& field, PoolConfig& pool) {
    constexpr std::string_view what = "a size such as 0 or 512MiB, or unlimited";
    auto text = field.scalar(what);
    if (!text) return;
    if (*text == "unlimited") {
        pool.rlimit_core = PoolConfig::kUnlimited;
        return;
    }
    auto bytes = parseSize(*text);
    if (!bytes || *bytes > static_cast<std::uint64_t>(std::numeric_limits<long>::max()))
        return field.fail(expectedGot(what, field.node()));
    pool.rlimit_core = static_cast<long>(*bytes);
}

// umask(2) takes permission bits only; setuid and friends make no sense.
void readUmask(const Field& field, PoolConfig& pool) {
    constexpr std::string_view what = "an octal umask from 0000 to 0777 such as \"0027\"";
    auto text = field.scalar(what);
    if (!text) return;
    auto mode = parseFileMode(*text);
    if (!mode || *mode > 0777) return field.fail(expectedGot(what, field.node()));
    pool.umask = static_cast<int>(*mode);
}

void readPoolListen(const Field& field, PoolConfig& pool) {
    constexpr std::string_view what = "a unix socket path or host:port";
    auto text = field.scalar(what);
    if (!text) return;
    auto address = parseListenAddress(*text);
    if (!address) return field.fail(expectedGot(what, field.node()));
    if (address->kind == ListenAddress::Kind::Unix) {
        address->path = field.resolve(address->path);
        auto length = address->path.native().size();
        if (length > kMaxUnixPath)
            return field.fail(fmt::format("unix socket path {} is {} bytes long; the limit is {}",
                                          address->path.string(), length, kMaxUnixPath));
        auto folder = address->path.parent_path();
        if (!checkPath(field, folder, PathCheck::Directory)) return;
    }
    pool.listen = std::move(*address);
}

void readEnv(const Field& field, PoolConfig& pool) {
    forEachEntry(field, "a mapping of variable names to values",
                 [&](const Field& value, const std::string& name) {
        readAccepting(value, [&] {
            if (!isEnvName(name))
                return value.fail("expected a variable name of letters, digits and _");
            // Numbers and booleans are kept as written: the environment is text.
            auto text = value.scalar("a string (write \"\" for an empty one)");
            if (!text) return;
            if (text->find('\0') != std::string::npos)
                return value.fail("a value cannot contain a NUL character");
            pool.env[name] = *text;
        });
    });
}

// `scripts: {root: DIR, extensions: [.py]}`.
std::span<const Key<manager::ScriptsConfig>> scriptsKeys() {
    static const std::vector<Key<manager::ScriptsConfig>> keys{
        {"root", Presence::Required, path(&manager::ScriptsConfig::root, PathCheck::Directory)},
        {"extensions", Presence::Optional,
         [](const Field& field, manager::ScriptsConfig& scripts) {
             scripts.extensions.clear();
             constexpr std::string_view what = "a file extension such as .py";
             forEachOfListOrOne(field, "an extension or a list of them", [&](const Field& element) {
                 auto text = element.scalar(what);
                 if (!text) return;
                 const bool valid = text->size() > 1 && text->front() == '.' &&
                                    text->find_first_of(std::string_view("/\0", 2)) == std::string::npos;
                 if (!valid) return element.fail(expectedGot(what, element.node()));
                 scripts.extensions.push_back(*text);
             });
             if (field.node().IsSequence() && field.node().size() == 0)
                 field.fail("expected at least one extension");
         }},
    };
    return keys;
}

void readScripts(const Field& field, PoolConfig& pool) {
    pool.kind = manager::PoolKind::Scripts;
    readMap(field, scriptsKeys(), pool.scripts);
}

// An executable file, as execve(2) will find it: a name with a '/' is
// resolved against the configuration file's folder, a bare name through
// the daemon's PATH (as a shell would), once, at load.
std::optional<std::filesystem::path> findExecutable(const Field& field, const std::string& name) {
    if (name.find('/') != std::string::npos) {
        auto resolved = field.resolve(name);
        if (::access(resolved.c_str(), X_OK) != 0) {
            field.fail(fmt::format("{}: not an executable file: {}", resolved.string(),
                                   std::strerror(errno)));
            return std::nullopt;
        }
        return resolved;
    }
    const char* searchPath = std::getenv("PATH");
    std::string_view dirs = searchPath != nullptr ? searchPath : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const auto colon = dirs.find(':');
        const std::string_view dir = dirs.substr(0, colon);
        if (!dir.empty()) {
            std::filesystem::path candidate = std::filesystem::path(dir) / name;
            std::error_code ec;
            if (candidate.is_absolute() && std::filesystem::is_regular_file(candidate, ec) &&
                ::access(candidate.c_str(), X_OK) == 0)
                return candidate;
        }
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    field.fail(fmt::format("no executable named \"{}\" in PATH; write its full path", name));
    return std::nullopt;
}

// `command: [argv...]`, or one string that is argv[0] alone.
void readCommand(const Field& field, PoolConfig& pool) {
    pool.kind = manager::PoolKind::Command;
    pool.command.clear();
    forEachOfListOrOne(field, "a program and its arguments, as a list", [&](const Field& element) {
        auto text = element.scalar("a string");
        if (!text) return;
        if (text->find('\0') != std::string::npos)
            return element.fail("an argument cannot contain a NUL character");
        if (pool.command.empty()) {
            if (text->empty()) return element.fail("expected a program, got an empty string");
            auto program = findExecutable(element, *text);
            if (!program) return;
            pool.command.push_back(program->string());
            return;
        }
        pool.command.push_back(*text);
    });
    if (field.node().IsSequence() && field.node().size() == 0)
        field.fail("expected a program and its arguments");
}

// A pool's keys, named after php-fpm's pool directives. A new key is a
// PoolConfig field and one row here; a rule between two keys goes in
// pool_checks.cpp, and pyfpm.yaml(5) documents both. Keys a pm does not use
// (the spare servers under static) are read and ignored, as php-fpm does.
std::span<const Key<PoolConfig>> poolKeys() {
    static const std::vector<Key<PoolConfig>> keys{
        // Exactly one of app, scripts and command (pool_checks.cpp).
        {"app", Presence::Optional,
         text(&PoolConfig::app, isAppSpec,
              "a WSGI application as module:callable, such as app:application")},
        {"scripts", Presence::Optional, readScripts},
        {"command", Presence::Optional, readCommand},
        {"python_path", Presence::Optional, pathList(&PoolConfig::python_path, PathCheck::Exists)},
        {"virtualenv", Presence::Optional, path(&PoolConfig::virtualenv, PathCheck::Directory)},
        {"listen", Presence::Required, readPoolListen},
        {"listen_backlog", Presence::Optional, integerIn(&PoolConfig::listen_backlog, 1, 65535)},
        {"listen_mode", Presence::Optional, fileMode(&PoolConfig::listen_mode)},
        {"listen_owner", Presence::Optional, account(&PoolConfig::listen_owner, Account::User)},
        {"listen_group", Presence::Optional, account(&PoolConfig::listen_group, Account::Group)},
        {"pm", Presence::Optional,
         oneOf(&PoolConfig::pm, {{"static", ProcessManager::Static},
                                 {"dynamic", ProcessManager::Dynamic},
                                 {"ondemand", ProcessManager::Ondemand}})},
        {"max_children", Presence::Optional, integerIn(&PoolConfig::max_children, 1, kMaxWorkers)},
        {"start_servers", Presence::Optional, integerIn(&PoolConfig::start_servers, 1, kMaxWorkers)},
        {"min_spare_servers", Presence::Optional,
         integerIn(&PoolConfig::min_spare_servers, 1, kMaxWorkers)},
        {"max_spare_servers", Presence::Optional,
         integerIn(&PoolConfig::max_spare_servers, 1, kMaxWorkers)},
        {"max_spawn_rate", Presence::Optional, integerIn(&PoolConfig::max_spawn_rate, 1, kMaxWorkers)},
        {"process_idle_timeout", Presence::Optional,
         durationAtLeast(&PoolConfig::process_idle_timeout, std::chrono::milliseconds{1})},
        {"max_requests", Presence::Optional, integerIn(&PoolConfig::max_requests, 0, kMaxRequests)},
        {"max_requests_jitter", Presence::Optional,
         integerIn(&PoolConfig::max_requests_jitter, 0, kMaxRequests)},
        {"max_rss", Presence::Optional, size(&PoolConfig::max_rss)},
        {"env", Presence::Optional, readEnv},
        {"clear_env", Presence::Optional, boolean(&PoolConfig::clear_env)},
        {"working_dir", Presence::Optional, path(&PoolConfig::working_dir, PathCheck::Directory)},
        {"request_timeout", Presence::Optional,
         durationAtLeast(&PoolConfig::request_timeout, std::chrono::milliseconds{1})},
        {"slowlog_timeout", Presence::Optional,
         durationAtLeast(&PoolConfig::slowlog_timeout, std::chrono::milliseconds{0})},
        {"slowlog", Presence::Optional, path(&PoolConfig::slowlog, PathCheck::FileInDirectory)},
        {"user", Presence::Optional, account(&PoolConfig::user, Account::User)},
        {"group", Presence::Optional, account(&PoolConfig::group, Account::Group)},
        {"rlimit_files", Presence::Optional, integerIn(&PoolConfig::rlimit_files, 1, kMaxOpenFiles)},
        {"rlimit_core", Presence::Optional, readRlimitCore},
        {"umask", Presence::Optional, readUmask},
    };
    return keys;
}

void readPools(const Field& field, Config& config) {
    forEachEntry(field, "a mapping of pool names to pools",
                 [&](const Field& value, const std::string& name) {
        readAccepting(value, [&] {
            if (!isPoolName(name))
                value.fail("expected a pool name of letters, digits, '_', '.' and '-'");
            PoolConfig pool;
            pool.name = name;
            pool.working_dir = value.context().baseDir();
            readMap(value, poolKeys(), pool);
            if (value.node().IsMap()) {
                int kinds = 0;
                for (auto key : {"app", "scripts", "command"}) kinds += hasKey(value.node(), key) ? 1 : 0;
                if (kinds != 1)
                    value.fail(fmt::format("expected exactly one of app (a WSGI application), "
                                           "scripts (a folder of Python files) or command (a "
                                           "FastCGI program), got {}",
                                           kinds == 0 ? "none" : "several"));
            }
            // php-fpm's default: halfway between the spare bounds.
            if (!hasKey(value.node(), "start_servers"))
                pool.start_servers = pool.min_spare_servers +
                                     (pool.max_spare_servers - pool.min_spare_servers) / 2;
            config.pools.push_back(std::move(pool));
        });
    });
    if (field.node().IsMap() && field.node().size() == 0) field.fail("expected at least one pool");
}

std::span<const Key<Route>> routeKeys() {
    static const std::vector<Key<Route>> keys{
        {"prefix", Presence::Required,
         text(&Route::prefix, isRoutePrefix, "a path prefix starting with /")},
        {"root", Presence::Optional, path(&Route::root, PathCheck::Directory)},
        {"pool", Presence::Optional,
         text(&Route::pool, isPoolName, "a pool name")},
        {"fallback", Presence::Optional,
         text(&Route::pool, isPoolName, "a pool name")},
        {"index", Presence::Optional,
         [](const Field& field, Route& route) {
             route.index.clear();
             constexpr std::string_view what = "a file name such as index.html";
             forEachOfListOrOne(field, "a file name or a list of them", [&](const Field& element) {
                 auto text = element.scalar(what);
                 if (!text) return;
                 if (text->empty() || text->find_first_of(std::string_view("/\0", 2)) != std::string::npos ||
                     *text == "." || *text == "..")
                     return element.fail(expectedGot(what, element.node()));
                 route.index.push_back(*text);
             });
         }},
        {"cache_control", Presence::Optional,
         text(&Route::cache_control, isHeaderValue, "a header value such as \"public, max-age=3600\"")},
        {"gzip_static", Presence::Optional, boolean(&Route::gzip_static)},
        {"max_body_size", Presence::Optional,
         [](const Field& field, Route& route) {
             auto text = field.scalar(kSizeSyntax);
             if (!text) return;
             auto bytes = parseSize(*text);
             if (!bytes) return field.fail(expectedGot(kSizeSyntax, field.node()));
             route.max_body_size = *bytes;
         }},
    };
    return keys;
}

void readRoutes(const Field& field, HttpConfig& http) {
    forEachElement(field, "a list of routes", [&](const Field& element) {
        Route route;
        readMap(element, routeKeys(), route);
        if (element.node().IsMap()) {
            bool root = hasKey(element.node(), "root");
            bool pool = hasKey(element.node(), "pool");
            bool fallback = hasKey(element.node(), "fallback");
            if (root == pool)
                element.fail(fmt::format("expected exactly one of root (static files) or pool, "
                                         "got {}", root ? "both" : "neither"));
            if (fallback && (!root || pool))
                element.fail("fallback goes with root: files are served from root, and the "
                             "request goes to the fallback pool when none exists");
            for (const char* fileKey : {"index", "cache_control", "gzip_static"}) {
                if (!root && hasKey(element.node(), fileKey))
                    element.fail(fmt::format("{} goes with root: it is about the files a route "
                                             "serves, and a pool route serves none",
                                             fileKey));
            }
            route.kind = root ? Route::Kind::Static : Route::Kind::Pool;
        }
        http.routes.push_back(std::move(route));
    });
    if (field.node().IsSequence() && field.node().size() == 0)
        field.fail("expected at least one route");
}

void readHttpListen(const Field& field, HttpConfig& http) {
    constexpr std::string_view what = "host:port such as 127.0.0.1:8080 or [::1]:8080";
    forEachOfListOrOne(field, "host:port or a list of them", [&](const Field& element) {
        // Kept even when invalid, so that indexes match key paths.
        auto& listen = http.listen.emplace_back();
        auto text = element.scalar(what);
        if (!text) return;
        auto parsed = parseHostPort(*text);
        if (!parsed) return element.fail(expectedGot(what, element.node()));
        listen = std::move(*parsed);
    });
    if (field.node().IsSequence() && field.node().size() == 0)
        field.fail("expected at least one host:port");
}

// A path the daemon answers itself: an exact path, no query.
bool isDaemonPath(std::string_view path) {
    return isRoutePrefix(path) && path.size() > 1;
}

void readStatusListen(const Field& field, HttpConfig& http) {
    constexpr std::string_view what = "host:port such as 127.0.0.1:9001 or [::1]:9001";
    auto text = field.scalar(what);
    if (!text) return;
    auto parsed = parseHostPort(*text);
    if (!parsed) return field.fail(expectedGot(what, field.node()));
    http.status_listen = std::move(*parsed);
}

void readCidrList(const Field& field, std::vector<Cidr>& into) {
    constexpr std::string_view what = "an address or a CIDR range such as 10.0.0.0/8 or ::1/128";
    into.clear();
    forEachOfListOrOne(field, "an address range or a list of them", [&](const Field& element) {
        auto text = element.scalar(what);
        if (!text) return;
        auto cidr = parseCidr(*text);
        if (!cidr) return element.fail(expectedGot(what, element.node()));
        into.push_back(*cidr);
    });
}

void readStatusAllow(const Field& field, HttpConfig& http) { readCidrList(field, http.status_allow); }

void readTrustedProxies(const Field& field, HttpConfig& http) {
    readCidrList(field, http.trusted_proxies);
}

// "stdout", or a file the daemon appends to.
void readAccessLog(const Field& field, HttpConfig& http) {
    auto text = field.scalar("a path or stdout");
    if (!text) return;
    if (text->empty()) return field.fail(expectedGot("a path or stdout", field.node()));
    if (*text == "stdout") {
        http.access_log = *text;
        return;
    }
    auto resolved = field.resolve(*text);
    if (checkPath(field, resolved, PathCheck::FileInDirectory)) http.access_log = resolved.string();
}

void readAccessLogFormat(const Field& field, HttpConfig& http) {
    auto text = field.scalar("a log format such as \"$remote_addr $status $request_time\"");
    if (!text) return;
    std::string error;
    if (!parseLogFormat(*text, error)) return field.fail(error);
    http.access_log_format = *text;
}

std::span<const Key<HttpConfig>> httpKeys() {
    static const std::vector<Key<HttpConfig>> keys{
        {"listen", Presence::Required, readHttpListen},
        {"routes", Presence::Required, readRoutes},
        {"status_path", Presence::Optional,
         text(&HttpConfig::status_path, isDaemonPath, "a path such as /status")},
        {"ping_path", Presence::Optional, text(&HttpConfig::ping_path, isDaemonPath, "a path such as /ping")},
        {"metrics_path", Presence::Optional,
         text(&HttpConfig::metrics_path, isDaemonPath, "a path such as /metrics")},
        {"status_listen", Presence::Optional, readStatusListen},
        {"status_allow", Presence::Optional, readStatusAllow},
        {"access_log", Presence::Optional, readAccessLog},
        {"access_log_format", Presence::Optional, readAccessLogFormat},
        {"max_header_size", Presence::Optional, size(&HttpConfig::max_header_size)},
        {"max_body_size", Presence::Optional, size(&HttpConfig::max_body_size)},
        {"client_header_timeout", Presence::Optional,
         durationAtLeast(&HttpConfig::client_header_timeout, std::chrono::milliseconds{1})},
        {"client_body_timeout", Presence::Optional,
         durationAtLeast(&HttpConfig::client_body_timeout, std::chrono::milliseconds{1})},
        {"send_timeout", Presence::Optional,
         durationAtLeast(&HttpConfig::send_timeout, std::chrono::milliseconds{1})},
        {"keepalive_timeout", Presence::Optional,
         durationAtLeast(&HttpConfig::keepalive_timeout, std::chrono::milliseconds{0})},
        {"max_connections", Presence::Optional, integerIn(&HttpConfig::max_connections, 1, 1'000'000)},
        {"trusted_proxies", Presence::Optional, readTrustedProxies},
        {"client_body_temp_path", Presence::Optional,
         path(&HttpConfig::client_body_temp_path, PathCheck::Directory)},
    };
    return keys;
}

void readHttp(const Field& field, Config& config) {
    readMap(field, httpKeys(), config.http.emplace());
}

// control.socket: a unix socket path the daemon creates (pyfpmctl(8)).
void readControlSocket(const Field& field, Config& config) {
    auto text = field.scalar("a unix socket path");
    if (!text) return;
    if (text->empty()) return field.fail("expected a unix socket path, got an empty string");
    auto socket = field.resolve(*text);
    auto length = socket.native().size();
    if (length > kMaxUnixPath)
        return field.fail(fmt::format("unix socket path {} is {} bytes long; the limit is {}",
                                      socket.string(), length, kMaxUnixPath));
    if (!checkPath(field, socket, PathCheck::FileInDirectory)) return;
    config.control_socket = std::move(socket);
}

std::span<const Key<Config>> controlKeys() {
    static const std::vector<Key<Config>> keys{
        {"socket", Presence::Optional, readControlSocket},
    };
    return keys;
}

void readControl(const Field& field, Config& config) {
    readMap(field, controlKeys(), config);
}

std::span<const Key<Config>> daemonKeys() {
    static const std::vector<Key<Config>> keys{
        {"stop_timeout", Presence::Optional,
         durationAtLeast(&Config::stop_timeout, std::chrono::milliseconds{0})},
        {"emergency_restart_threshold", Presence::Optional,
         integerIn(&Config::emergency_restart_threshold, 0, 1'000'000)},
        {"emergency_restart_interval", Presence::Optional,
         durationAtLeast(&Config::emergency_restart_interval, std::chrono::milliseconds{1})},
        {"error_log", Presence::Optional, path(&Config::error_log, PathCheck::FileInDirectory)},
        {"log_level", Presence::Optional,
         oneOf(&Config::log_level, {{"error", LogLevel::Error},
                                    {"warning", LogLevel::Warning},
                                    {"notice", LogLevel::Notice},
                                    {"info", LogLevel::Info},
                                    {"debug", LogLevel::Debug}})},
        {"http", Presence::Optional, readHttp},
        {"control", Presence::Optional, readControl},
        {"pools", Presence::Required, readPools},
    };
    return keys;
}

}  // namespace

Config readConfig(const YAML::Node& root, Context& context) {
    Config config;
    config.control_socket = context.baseDir() / kDefaultControlSocket;
    readMap(Field{context, root, "", locationOf(root.Mark())}, daemonKeys(), config);
    return config;
}

}  // namespace pyfpm::config
