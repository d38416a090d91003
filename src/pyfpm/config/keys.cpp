#include "src/pyfpm/config/keys.hpp"

#include <sys/un.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "src/pyfpm/config/readers.hpp"
#include "src/pyfpm/config/values.hpp"

namespace pyfpm::config {

namespace {

using manager::ListenAddress;
using manager::PoolConfig;
using manager::ProcessManager;

// sockaddr_un.sun_path holds the path and its terminating NUL.
constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;

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

Reader<PoolConfig> processManager() {
    auto read = oneOf(&PoolConfig::pm, {{"static", ProcessManager::Static},
                                        {"dynamic", ProcessManager::Dynamic},
                                        {"ondemand", ProcessManager::Ondemand}});
    return [read](const Field& field, PoolConfig& pool) {
        auto before = field.context().errorCount();
        read(field, pool);
        if (field.context().errorCount() != before || pool.pm == ProcessManager::Static) return;
        field.fail(fmt::format("{} is not implemented in this release; use static",
                               describe(field.node())));
        pool.pm = ProcessManager::Static;
    };
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

// A pool's keys, named after php-fpm's pool directives. A new key is a
// PoolConfig field and one row here; a rule between two keys goes in
// checks.cpp, and pyfpm.yaml(5) documents both.
std::span<const Key<PoolConfig>> poolKeys() {
    static const std::vector<Key<PoolConfig>> keys{
        {"app", Presence::Required,
         text(&PoolConfig::app, isAppSpec,
              "a WSGI application as module:callable, such as app:application")},
        {"python_path", Presence::Optional, pathList(&PoolConfig::python_path, PathCheck::Exists)},
        {"virtualenv", Presence::Optional, path(&PoolConfig::virtualenv, PathCheck::Directory)},
        {"listen", Presence::Required, readPoolListen},
        {"listen_backlog", Presence::Optional, integerIn(&PoolConfig::listen_backlog, 1, 65535)},
        {"listen_mode", Presence::Optional, fileMode(&PoolConfig::listen_mode)},
        {"pm", Presence::Optional, processManager()},
        {"max_children", Presence::Optional, integerIn(&PoolConfig::max_children, 1, 10000)},
        {"env", Presence::Optional, readEnv},
        {"clear_env", Presence::Optional, boolean(&PoolConfig::clear_env)},
        {"working_dir", Presence::Optional, path(&PoolConfig::working_dir, PathCheck::Directory)},
        {"request_timeout", Presence::Optional,
         durationAtLeast(&PoolConfig::request_timeout, std::chrono::milliseconds{1})},
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
            if (root == pool)
                element.fail(fmt::format("expected exactly one of root (static files) or pool, "
                                         "got {}", root ? "both" : "neither"));
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

std::span<const Key<HttpConfig>> httpKeys() {
    static const std::vector<Key<HttpConfig>> keys{
        {"listen", Presence::Required, readHttpListen},
        {"routes", Presence::Required, readRoutes},
    };
    return keys;
}

void readHttp(const Field& field, Config& config) {
    readMap(field, httpKeys(), config.http.emplace());
}

std::span<const Key<Config>> daemonKeys() {
    static const std::vector<Key<Config>> keys{
        {"stop_timeout", Presence::Optional,
         durationAtLeast(&Config::stop_timeout, std::chrono::milliseconds{0})},
        {"http", Presence::Optional, readHttp},
        {"pools", Presence::Required, readPools},
    };
    return keys;
}

}  // namespace

Config readConfig(const YAML::Node& root, Context& context) {
    Config config;
    readMap(Field{context, root, "", locationOf(root.Mark())}, daemonKeys(), config);
    return config;
}

}  // namespace pyfpm::config
