// Loading pyfpm.yaml(5): good files, and every kind of error with the exact
// message a user sees from `pyfpm -t`, position included.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "src/pyfpm/config/loader.hpp"
#include "test/config/config_folder.hpp"
#include "test/support/process.hpp"

namespace pyfpm::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using manager::ListenAddress;
using manager::ProcessManager;
using testing_support::ConfigFolder;
using testing_support::ErrorCase;

// The smallest valid file: one pool, no HTTP.
constexpr const char* kMinimal = R"(pools:
  web:
    app: app:app
    listen: web.sock
)";

TEST(LoadConfig, minimal_file_gets_documented_defaults) {
    ConfigFolder folder;
    auto result = folder.load(kMinimal);
    ASSERT_TRUE(result.config) << testing::PrintToString(result.errors.size());
    const auto& config = *result.config;
    EXPECT_EQ(config.file, folder.file());
    EXPECT_FALSE(config.http);
    EXPECT_EQ(config.stop_timeout, 10s);
    ASSERT_EQ(config.pools.size(), 1u);
    const auto& pool = config.pools[0];
    EXPECT_EQ(pool.name, "web");
    EXPECT_EQ(pool.app, "app:app");
    EXPECT_TRUE(pool.python_path.empty());
    EXPECT_TRUE(pool.virtualenv.empty());
    EXPECT_EQ(pool.listen.kind, ListenAddress::Kind::Unix);
    EXPECT_EQ(pool.listen.path, folder.dir() / "web.sock");
    EXPECT_EQ(pool.listen_backlog, 511);
    EXPECT_EQ(pool.listen_mode, mode_t{0660});
    EXPECT_EQ(pool.pm, ProcessManager::Static);
    EXPECT_EQ(pool.max_children, 5);
    EXPECT_TRUE(pool.env.empty());
    EXPECT_TRUE(pool.clear_env);
    EXPECT_EQ(pool.working_dir, folder.dir());
    EXPECT_EQ(pool.request_timeout, 60s);
}

TEST(LoadConfig, every_key_of_this_release) {
    ConfigFolder folder;
    folder.mkdir("static");
    folder.mkdir("venv");
    folder.mkdir("app/lib");
    auto result = folder.load(R"(stop_timeout: 2500ms
http:
  listen: [127.0.0.1:8080, "[::1]:8081"]
  routes:
    - {prefix: /static/, root: static}
    - {prefix: /, pool: web}
pools:
  web:
    app: pkg.wsgi:application
    python_path: [app, app/lib]
    virtualenv: venv
    listen: unix:/tmp/pyfpm-web.sock
    listen_backlog: 64
    listen_mode: "0600"
    pm: static
    max_children: 2
    env: {GREETING: hello, WORKERS: 4, DEBUG: false, EMPTY: ""}
    clear_env: false
    working_dir: app
    request_timeout: 5m
  api:
    app: api:app
    listen: 127.0.0.1:9000
    listen_mode: 0660
)");
    ASSERT_TRUE(result.config) << result.errors.front().toString();
    const auto& config = *result.config;
    EXPECT_EQ(config.stop_timeout, 2500ms);

    ASSERT_TRUE(config.http);
    ASSERT_EQ(config.http->listen.size(), 2u);
    EXPECT_EQ(config.http->listen[0].host, "127.0.0.1");
    EXPECT_EQ(config.http->listen[0].port, 8080);
    EXPECT_EQ(config.http->listen[1].host, "::1");
    EXPECT_EQ(config.http->listen[1].port, 8081);
    ASSERT_EQ(config.http->routes.size(), 2u);
    EXPECT_EQ(config.http->routes[0].prefix, "/static/");
    EXPECT_EQ(config.http->routes[0].kind, Route::Kind::Static);
    EXPECT_EQ(config.http->routes[0].root, folder.dir() / "static");
    EXPECT_EQ(config.http->routes[1].prefix, "/");
    EXPECT_EQ(config.http->routes[1].kind, Route::Kind::Pool);
    EXPECT_EQ(config.http->routes[1].pool, "web");

    ASSERT_EQ(config.pools.size(), 2u);
    const auto& web = config.pools[0];
    EXPECT_EQ(web.name, "web");
    EXPECT_EQ(web.app, "pkg.wsgi:application");
    EXPECT_EQ(web.python_path,
              (std::vector<fs::path>{folder.dir() / "app", folder.dir() / "app/lib"}));
    EXPECT_EQ(web.virtualenv, folder.dir() / "venv");
    EXPECT_EQ(web.listen.kind, ListenAddress::Kind::Unix);
    EXPECT_EQ(web.listen.path, "/tmp/pyfpm-web.sock");
    EXPECT_EQ(web.listen_backlog, 64);
    EXPECT_EQ(web.listen_mode, mode_t{0600});
    EXPECT_EQ(web.max_children, 2);
    EXPECT_EQ(web.env, (std::map<std::string, std::string>{
                           {"DEBUG", "false"}, {"EMPTY", ""}, {"GREETING", "hello"},
                           {"WORKERS", "4"}}));
    EXPECT_FALSE(web.clear_env);
    EXPECT_EQ(web.working_dir, folder.dir() / "app");
    EXPECT_EQ(web.request_timeout, 5min);

    const auto& api = config.pools[1];
    EXPECT_EQ(api.name, "api");
    EXPECT_EQ(api.listen.kind, ListenAddress::Kind::Tcp);
    EXPECT_EQ(api.listen.host, "127.0.0.1");
    EXPECT_EQ(api.listen.port, 9000);
    EXPECT_EQ(api.listen_mode, mode_t{0660});  // a plain 0660 is octal too
    EXPECT_EQ(config.findPool("api"), &api);
    EXPECT_EQ(config.findPool("web"), &web);
    EXPECT_EQ(config.findPool("nope"), nullptr);
}

TEST(LoadConfig, relative_paths_resolve_against_the_file_folder_not_the_cwd) {
    ConfigFolder folder;
    folder.mkdir("conf");
    folder.mkdir("site/static");
    folder.mkdir("site/app");
    test::writeFile(folder.dir() / "conf/pyfpm.yaml", R"(http:
  listen: 127.0.0.1:8080
  routes:
    - {prefix: /static/, root: ../site/static}
    - {prefix: /, pool: web}
pools:
  web:
    app: app:app
    python_path: ../site/app
    listen: ./run/../web.sock
    working_dir: ../site/./app
)");
    auto cwd = fs::current_path();
    fs::current_path("/");
    auto result = load(fs::relative(folder.dir() / "conf/pyfpm.yaml", "/"));
    fs::current_path(cwd);
    ASSERT_TRUE(result.config) << result.errors.front().toString();
    const auto& pool = result.config->pools[0];
    EXPECT_EQ(result.config->file, folder.dir() / "conf/pyfpm.yaml");
    EXPECT_EQ(result.config->http->routes[0].root, folder.dir() / "site/static");
    EXPECT_EQ(pool.python_path, std::vector<fs::path>{folder.dir() / "site/app"});
    EXPECT_EQ(pool.listen.path, folder.dir() / "conf/web.sock");
    EXPECT_EQ(pool.working_dir, folder.dir() / "site/app");
}

// What etc/pyfpm.yaml ships: standalone HTTP in front of the example app.
TEST(LoadConfig, shipped_example_shape_loads) {
    ConfigFolder folder;
    folder.mkdir("examples/flask_app/static");
    auto result = folder.load(R"(# pyfpm.yaml(5)
stop_timeout: 10s

http:
  listen: 127.0.0.1:8080
  routes:
    - prefix: /static/
      root: examples/flask_app/static
    - prefix: /
      pool: web

pools:
  web:
    app: flask_app:app
    python_path:
      - examples
    listen: /tmp/pyfpm-web.sock
    pm: static
    max_children: 2
    env:
      FLASK_ENV: production
    working_dir: examples
    request_timeout: 60s
)");
    ASSERT_TRUE(result.config) << result.errors.front().toString();
    EXPECT_EQ(result.config->pools[0].python_path,
              std::vector<fs::path>{folder.dir() / "examples"});
}

class ConfigErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, reports_exactly) {
    ConfigFolder folder;
    folder.mkdir("static");
    test::writeFile(folder.dir() / "afile", "");
    EXPECT_EQ(folder.errors(GetParam().yaml), folder.expand(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(Syntax, ConfigErrorTest, testing::Values(
    ErrorCase{"unclosed_flow_list", "pools:\n  web: [1,\n", {
        "pyfpm.yaml:3:1: YAML syntax error: end of sequence flow not found"}},
    ErrorCase{"tab_indentation", "pools:\n\tweb: {}\n", {
        "pyfpm.yaml:2:5: YAML syntax error: illegal map value"}},
    ErrorCase{"empty_file", "", {
        "pyfpm.yaml:1:1: the file holds no YAML document; expected a mapping with pools"}},
    ErrorCase{"only_comments", "# nothing yet\n", {
        "pyfpm.yaml:1:1: the file holds no YAML document; expected a mapping with pools"}},
    ErrorCase{"two_documents", "pools: {}\n---\npools: {}\n", {
        "pyfpm.yaml:3:1: expected one YAML document, found 2"}},
    ErrorCase{"root_is_a_list", "- pools\n", {
        "pyfpm.yaml:1:1: expected a mapping with keys stop_timeout, emergency_restart_threshold, "
        "emergency_restart_interval, error_log, log_level, http, control, pools, got a list"}}),
    [](const auto& info) { return std::string{info.param.name}; });

INSTANTIATE_TEST_SUITE_P(Keys, ConfigErrorTest, testing::Values(
    ErrorCase{"unknown_key_with_suggestion",
              "pools:\n  web:\n    app: app:app\n    listen: web.sock\n    max_chidren: 4\n", {
        "pyfpm.yaml:5:5: pools.web.max_chidren: unknown key; did you mean max_children?"}},
    ErrorCase{"php_fpm_spelling_is_suggested",
              "pools:\n  web:\n    app: app:app\n    listen: web.sock\n    pm.max_children: 4\n", {
        "pyfpm.yaml:5:5: pools.web.pm.max_children: unknown key; did you mean max_children?"}},
    ErrorCase{"unknown_key_without_suggestion", "daemonize: true\npools: {}\n", {
        "pyfpm.yaml:1:1: daemonize: unknown key; expected one of stop_timeout, "
        "emergency_restart_threshold, emergency_restart_interval, error_log, log_level, http, control, pools",
        "pyfpm.yaml:2:1: pools: expected at least one pool"}},
    ErrorCase{"missing_required_keys", "pools:\n  web:\n    pm: static\n", {
        "pyfpm.yaml:2:3: pools.web.listen: required key is missing",
        "pyfpm.yaml:2:3: pools.web: expected exactly one of app (a WSGI application), scripts (a "
        "folder of Python files) or command (a FastCGI program), got none"}},
    ErrorCase{"missing_pools", "stop_timeout: 1s\n", {
        "pyfpm.yaml:1:1: pools: required key is missing"}},
    ErrorCase{"duplicate_top_level_key",
              "pools:\n  web: {app: app:app, listen: a.sock}\npools:\n  api: {app: app:app, listen: b.sock}\n", {
        "pyfpm.yaml:3:1: pools: duplicate key; the first is at line 1, column 1"}},
    ErrorCase{"duplicate_pool_key",
              "pools:\n  web:\n    app: app:app\n    listen: web.sock\n    app: other:app\n", {
        "pyfpm.yaml:5:5: pools.web.app: duplicate key; the first is at line 3, column 5"}},
    ErrorCase{"duplicate_pool_name",
              "pools:\n  web: {app: app:app, listen: a.sock}\n  web: {app: app:app, listen: b.sock}\n", {
        "pyfpm.yaml:3:3: pools.web: duplicate key; the first is at line 2, column 3"}},
    ErrorCase{"duplicate_env_name",
              "pools:\n  web:\n    app: app:app\n    listen: web.sock\n    env: {A: 1, A: 2}\n", {
        "pyfpm.yaml:5:17: pools.web.env.A: duplicate key; the first is at line 5, column 11"}},
    ErrorCase{"non_scalar_key", "pools:\n  [a, b]: {}\n", {
        "pyfpm.yaml:2:3: pools: expected a plain name as key, got a list"}}),
    [](const auto& info) { return std::string{info.param.name}; });

// A valid pool to append a bad line to.
const std::string kPool = "pools:\n  web:\n    app: app:app\n    listen: web.sock\n";

INSTANTIATE_TEST_SUITE_P(Values, ConfigErrorTest, testing::Values(
    ErrorCase{"pm_misspelt", kPool + "    pm: statc\n", {
        "pyfpm.yaml:5:5: pools.web.pm: expected one of static, dynamic, ondemand, got \"statc\""}},
    ErrorCase{"max_children_zero", kPool + "    max_children: 0\n", {
        "pyfpm.yaml:5:5: pools.web.max_children: expected an integer from 1 to 10000, got \"0\""}},
    ErrorCase{"max_children_word", kPool + "    max_children: two\n", {
        "pyfpm.yaml:5:5: pools.web.max_children: expected an integer from 1 to 10000, got \"two\""}},
    ErrorCase{"max_children_empty", kPool + "    max_children:\n", {
        "pyfpm.yaml:5:5: pools.web.max_children: expected an integer from 1 to 10000, got nothing"}},
    ErrorCase{"listen_backlog_list", kPool + "    listen_backlog: [1]\n", {
        "pyfpm.yaml:5:5: pools.web.listen_backlog: expected an integer from 1 to 65535, got a list"}},
    ErrorCase{"listen_mode_not_octal", kPool + "    listen_mode: \"0680\"\n", {
        "pyfpm.yaml:5:5: pools.web.listen_mode: expected an octal file mode such as \"0660\", got \"0680\""}},
    ErrorCase{"request_timeout_without_unit", kPool + "    request_timeout: 30\n", {
        "pyfpm.yaml:5:5: pools.web.request_timeout: expected a duration such as 250ms, 30s, 5m or 1h, got \"30\""}},
    ErrorCase{"request_timeout_zero", kPool + "    request_timeout: 0s\n", {
        "pyfpm.yaml:5:5: pools.web.request_timeout: expected a duration of at least 1ms, got \"0s\""}},
    ErrorCase{"stop_timeout_unit", "stop_timeout: 10 seconds\n" + kPool, {
        "pyfpm.yaml:1:1: stop_timeout: expected a duration such as 250ms, 30s, 5m or 1h, got \"10 seconds\""}},
    ErrorCase{"app_without_callable", "pools:\n  web:\n    app: myapp\n    listen: web.sock\n", {
        "pyfpm.yaml:3:5: pools.web.app: expected a WSGI application as module:callable, such as app:application, got \"myapp\""}},
    ErrorCase{"bad_pool_name", "pools:\n  my pool:\n    app: app:app\n    listen: web.sock\n", {
        "pyfpm.yaml:2:3: pools.my pool: expected a pool name of letters, digits, '_', '.' and '-'"}},
    ErrorCase{"pools_not_a_mapping", "pools: [web]\n", {
        "pyfpm.yaml:1:1: pools: expected a mapping of pool names to pools, got a list"}},
    ErrorCase{"pool_not_a_mapping", "pools:\n  web: app:app\n", {
        "pyfpm.yaml:2:3: pools.web: expected a mapping with keys app, scripts, command, python_path, virtualenv, "
        "listen, listen_backlog, listen_mode, listen_owner, listen_group, pm, max_children, "
        "start_servers, min_spare_servers, max_spare_servers, max_spawn_rate, "
        "process_idle_timeout, max_requests, max_requests_jitter, max_rss, env, clear_env, "
        "working_dir, request_timeout, slowlog_timeout, slowlog, user, group, rlimit_files, "
        "rlimit_core, umask, got \"app:app\""}},
    ErrorCase{"listen_bare_port", "pools:\n  web:\n    app: app:app\n    listen: 9000\n", {
        "pyfpm.yaml:4:5: pools.web.listen: expected a unix socket path or host:port, got \"9000\""}},
    ErrorCase{"listen_ipv6_without_brackets", "pools:\n  web:\n    app: app:app\n    listen: ::1:9000\n", {
        "pyfpm.yaml:4:5: pools.web.listen: expected a unix socket path or host:port, got \"::1:9000\""}},
    ErrorCase{"listen_socket_folder_missing", "pools:\n  web:\n    app: app:app\n    listen: /nonexistent-pyfpm/web.sock\n", {
        "pyfpm.yaml:4:5: pools.web.listen: /nonexistent-pyfpm does not exist"}},
    ErrorCase{"listen_socket_path_too_long", "pools:\n  web:\n    app: app:app\n    listen: "
              "/tmp/0123456789012345678901234567890123456789012345678901234567890123456789"
              "0123456789012345678901234567890123456789.sock\n", {
        "pyfpm.yaml:4:5: pools.web.listen: unix socket path /tmp/0123456789012345678901234567890"
        "1234567890123456789012345678901234567890123456789012345678901234567890123456789.sock "
        "is 120 bytes long; the limit is 107"}},
    ErrorCase{"working_dir_missing", kPool + "    working_dir: nowhere\n", {
        "pyfpm.yaml:5:5: pools.web.working_dir: DIR/nowhere does not exist"}},
    ErrorCase{"working_dir_is_a_file", kPool + "    working_dir: afile\n", {
        "pyfpm.yaml:5:5: pools.web.working_dir: DIR/afile is not a directory"}},
    ErrorCase{"python_path_entry_missing", kPool + "    python_path: [static, lib]\n", {
        "pyfpm.yaml:5:27: pools.web.python_path[1]: DIR/lib does not exist"}},
    ErrorCase{"python_path_entry_not_a_string", kPool + "    python_path: [{a: b}]\n", {
        "pyfpm.yaml:5:19: pools.web.python_path[0]: expected a path, got a mapping"}},
    ErrorCase{"python_path_empty", kPool + "    python_path:\n", {
        "pyfpm.yaml:5:5: pools.web.python_path: expected a path or a list of paths, got nothing"}},
    ErrorCase{"env_bad_name", kPool + "    env: {MY-VAR: 1}\n", {
        "pyfpm.yaml:5:11: pools.web.env.MY-VAR: expected a variable name of letters, digits and _"}},
    ErrorCase{"env_null_value", kPool + "    env:\n      DEBUG:\n", {
        "pyfpm.yaml:6:7: pools.web.env.DEBUG: expected a string (write \"\" for an empty one), got nothing"}},
    ErrorCase{"clear_env_yaml_1_1_boolean", kPool + "    clear_env: no\n", {
        "pyfpm.yaml:5:5: pools.web.clear_env: expected true or false, got \"no\""}},
    ErrorCase{"env_list", kPool + "    env: [A=1]\n", {
        "pyfpm.yaml:5:5: pools.web.env: expected a mapping of variable names to values, got a list"}}),
    [](const auto& info) { return std::string{info.param.name}; });

// The pools section under an http section.
const std::string kPools = "pools:\n  web: {app: app:app, listen: web.sock}\n";

INSTANTIATE_TEST_SUITE_P(Http, ConfigErrorTest, testing::Values(
    ErrorCase{"listen_missing", "http:\n  routes: [{prefix: /, pool: web}]\n" + kPools, {
        "pyfpm.yaml:1:1: http.listen: required key is missing"}},
    ErrorCase{"listen_without_port", "http:\n  listen: 127.0.0.1\n  routes: [{prefix: /, pool: web}]\n" + kPools, {
        "pyfpm.yaml:2:3: http.listen: expected host:port such as 127.0.0.1:8080 or [::1]:8080, got \"127.0.0.1\""}},
    ErrorCase{"listen_list_entry", "http:\n  listen: [127.0.0.1:8080, 8081]\n  routes: [{prefix: /, pool: web}]\n" + kPools, {
        "pyfpm.yaml:2:28: http.listen[1]: expected host:port such as 127.0.0.1:8080 or [::1]:8080, got \"8081\""}},
    ErrorCase{"listen_mapping", "http:\n  listen: {host: 127.0.0.1, port: 8080}\n  routes: [{prefix: /, pool: web}]\n" + kPools, {
        "pyfpm.yaml:2:3: http.listen: expected host:port or a list of them, got a mapping"}},
    ErrorCase{"routes_empty", "http:\n  listen: 127.0.0.1:8080\n  routes: []\n" + kPools, {
        "pyfpm.yaml:3:3: http.routes: expected at least one route"}},
    ErrorCase{"route_both_root_and_pool", "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {prefix: /, root: static, pool: web}\n" + kPools, {
        "pyfpm.yaml:4:7: http.routes[0]: expected exactly one of root (static files) or pool, got both"}},
    ErrorCase{"route_pool_with_file_keys", "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {prefix: /, pool: web, gzip_static: true}\n" + kPools, {
        "pyfpm.yaml:4:7: http.routes[0]: gzip_static goes with root: it is about the files a route serves, and a pool route serves none"}},
    ErrorCase{"route_neither_root_nor_pool", "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - prefix: /\n" + kPools, {
        "pyfpm.yaml:4:7: http.routes[0]: expected exactly one of root (static files) or pool, got neither"}},
    ErrorCase{"route_prefix_relative", "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {prefix: static/, root: static}\n" + kPools, {
        "pyfpm.yaml:4:8: http.routes[0].prefix: expected a path prefix starting with /, got \"static/\""}},
    ErrorCase{"route_prefix_missing", "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {pool: web}\n" + kPools, {
        "pyfpm.yaml:4:7: http.routes[0].prefix: required key is missing"}},
    ErrorCase{"route_root_missing", "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {prefix: /, root: public}\n" + kPools, {
        "pyfpm.yaml:4:19: http.routes[0].root: DIR/public does not exist"}},
    ErrorCase{"route_unknown_key", "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {prefix: /, pool: web, rot: static}\n" + kPools, {
        "pyfpm.yaml:4:30: http.routes[0].rot: unknown key; did you mean root?"}}),
    [](const auto& info) { return std::string{info.param.name}; });

INSTANTIATE_TEST_SUITE_P(AcrossKeys, ConfigErrorTest, testing::Values(
    ErrorCase{"route_to_unknown_pool",
              "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {prefix: /static/, root: static}\n"
              "    - {prefix: /, pool: wbe}\n" + kPools, {
        "pyfpm.yaml:5:19: http.routes[1].pool: no pool named \"wbe\"; pools are: web"}},
    ErrorCase{"duplicate_route_prefix",
              "http:\n  listen: 127.0.0.1:8080\n  routes:\n    - {prefix: /, root: static}\n"
              "    - {prefix: /, pool: web}\n" + kPools, {
        "pyfpm.yaml:5:8: http.routes[1].prefix: duplicate prefix \"/\"; http.routes[0] at line 4 has it already"}},
    ErrorCase{"two_pools_one_socket",
              "pools:\n  web: {app: app:app, listen: web.sock}\n  api: {app: api:app, listen: ./web.sock}\n", {
        "pyfpm.yaml:3:23: pools.api.listen: unix:DIR/web.sock is already the listen address of pool web at line 2"}},
    ErrorCase{"two_pools_one_port",
              "pools:\n  web: {app: app:app, listen: 127.0.0.1:9000}\n  api: {app: api:app, listen: 127.0.0.1:9000}\n", {
        "pyfpm.yaml:3:23: pools.api.listen: 127.0.0.1:9000 is already the listen address of pool web at line 2"}},
    ErrorCase{"http_on_a_pool_port",
              "http:\n  listen: 127.0.0.1:9000\n  routes: [{prefix: /, pool: web}]\n"
              "pools:\n  web: {app: app:app, listen: 127.0.0.1:9000}\n", {
        "pyfpm.yaml:2:3: http.listen: 127.0.0.1:9000 is already the listen address of pool web at line 5"}},
    ErrorCase{"http_listen_twice",
              "http:\n  listen: [\"[::1]:8080\", \"[::1]:8080\"]\n  routes: [{prefix: /, pool: web}]\n" + kPools, {
        "pyfpm.yaml:2:26: http.listen[1]: [::1]:8080 is already the listen address of http.listen[0] at line 2"}},
    ErrorCase{"cross_checks_skip_rejected_values",
              "http:\n  listen: 127.0.0.1:8080\n  routes: [{prefix: /, pool: \"no pool\"}]\n" + kPools, {
        "pyfpm.yaml:3:24: http.routes[0].pool: expected a pool name, got \"no pool\""}}),
    [](const auto& info) { return std::string{info.param.name}; });

TEST(LoadConfig, collects_every_error_in_file_order) {
    ConfigFolder folder;
    auto errors = folder.errors(R"(stop_timeout: soon
http:
  listen: 127.0.0.1:8080
  routes:
    - {prefix: /, pool: wbe}
pools:
  web:
    app: app
    listen: web.sock
    max_chidren: 2
    pm: dynamic
    start_servers: 9
)");
    EXPECT_EQ(errors, (std::vector<std::string>{
        "pyfpm.yaml:1:1: stop_timeout: expected a duration such as 250ms, 30s, 5m or 1h, got \"soon\"",
        "pyfpm.yaml:5:19: http.routes[0].pool: no pool named \"wbe\"; pools are: web",
        "pyfpm.yaml:8:5: pools.web.app: expected a WSGI application as module:callable, such as app:application, got \"app\"",
        "pyfpm.yaml:10:5: pools.web.max_chidren: unknown key; did you mean max_children?",
        "pyfpm.yaml:12:5: pools.web: start_servers (9) > max_children (5, the default)",
    }));
}

TEST(LoadConfig, unreadable_file_is_an_error_without_position) {
    ConfigFolder folder;
    auto missing = folder.dir() / "missing.yaml";
    auto result = load(missing);
    EXPECT_FALSE(result.config);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].toString(),
              missing.string() + ": cannot read: No such file or directory");
    EXPECT_EQ(load(folder.dir()).errors.at(0).toString(),
              folder.dir().string() + ": cannot read: Is a directory");
}

TEST(LoadConfig, load_config_throws_every_error) {
    ConfigFolder folder;
    test::writeFile(folder.file(), "pools:\n  web:\n    pm: x\n");
    try {
        loadConfig(folder.file());
        FAIL() << "loadConfig accepted an invalid file";
    } catch (const InvalidConfig& invalid) {
        ASSERT_EQ(invalid.errors().size(), 3u);
        EXPECT_EQ(std::string{invalid.what()},
                  invalid.errors()[0].toString() + "\n" + invalid.errors()[1].toString() + "\n" +
                      invalid.errors()[2].toString());
    }
    test::writeFile(folder.file(), kMinimal);
    EXPECT_EQ(loadConfig(folder.file()).pools.at(0).name, "web");
}

TEST(CheckConfig, prints_ok_or_every_error_and_returns_the_exit_status) {
    ConfigFolder folder;
    test::writeFile(folder.file(), kMinimal);
    std::ostringstream ok;
    EXPECT_EQ(checkConfig(folder.file(), ok), 0);
    EXPECT_EQ(ok.str(), folder.file().string() + ": ok\n");

    test::writeFile(folder.file(), "pools:\n  web:\n    app: app:app\n    listen: web.sock\n"
                                   "    max_children: -1\n    lsten: x\n");
    std::ostringstream bad;
    EXPECT_EQ(checkConfig(folder.file(), bad), 1);
    auto file = folder.file().string();
    EXPECT_EQ(bad.str(),
              file + ":5:5: pools.web.max_children: expected an integer from 1 to 10000, got \"-1\"\n" +
              file + ":6:5: pools.web.lsten: unknown key; did you mean listen?\n");
}

}  // namespace
}  // namespace pyfpm::config
