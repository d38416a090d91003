// The process-manager keys of pyfpm.yaml(5): scaling (pm, spare servers,
// spawn rate, idle timeout), recycling, slow requests, isolation, and the
// daemon's emergency restart and error log. Defaults, every key read, each
// per-key error and each rule across keys, with the exact message and
// position a user sees from `pyfpm -t`.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "src/pyfpm/config/loader.hpp"
#include "test/config/config_folder.hpp"
#include "test/support/process.hpp"

namespace pyfpm::config {
namespace {

using namespace std::chrono_literals;
using manager::PoolConfig;
using manager::ProcessManager;
using testing_support::ConfigFolder;
using testing_support::ErrorCase;

// A valid pool to append lines to; its keys end on line 4.
const std::string kPool = "pools:\n  web:\n    app: app:app\n    listen: web.sock\n";

TEST(ProcessManagerKeys, defaults_follow_php_fpm)
{
    ConfigFolder folder;
    auto result = folder.load(kPool);
    ASSERT_TRUE(result.config) << result.errors.front().toString();
    const auto& config = *result.config;
    EXPECT_EQ(config.emergency_restart_threshold, 0);
    EXPECT_EQ(config.emergency_restart_interval, 1min);
    EXPECT_TRUE(config.error_log.empty());

    const auto& pool = config.pools.at(0);
    EXPECT_EQ(pool.pm, ProcessManager::Static);
    EXPECT_EQ(pool.min_spare_servers, 1);
    EXPECT_EQ(pool.max_spare_servers, 3);
    EXPECT_EQ(pool.start_servers, 2);  // 1 + (3 - 1) / 2
    EXPECT_EQ(pool.max_spawn_rate, 32);
    EXPECT_EQ(pool.process_idle_timeout, 10s);
    EXPECT_EQ(pool.max_requests, 0);
    EXPECT_EQ(pool.max_requests_jitter, 0);
    EXPECT_EQ(pool.max_rss, 0u);
    EXPECT_EQ(pool.slowlog_timeout, 0ms);
    EXPECT_TRUE(pool.slowlog.empty());
    EXPECT_TRUE(pool.user.empty());
    EXPECT_TRUE(pool.group.empty());
    EXPECT_TRUE(pool.listen_owner.empty());
    EXPECT_TRUE(pool.listen_group.empty());
    EXPECT_EQ(pool.rlimit_files, PoolConfig::kUnchanged);
    EXPECT_EQ(pool.rlimit_core, PoolConfig::kUnchanged);
    EXPECT_LT(pool.umask, 0);
}

TEST(ProcessManagerKeys, every_key_is_read)
{
    ConfigFolder folder;
    folder.mkdir("log");
    auto result = folder.load(R"(emergency_restart_threshold: 10
emergency_restart_interval: 30s
error_log: log/pyfpm.log
pools:
  web:
    app: app:app
    listen: web.sock
    listen_owner: root
    listen_group: "0"
    pm: dynamic
    max_children: 40
    start_servers: 6
    min_spare_servers: 4
    max_spare_servers: 9
    max_spawn_rate: 8
    process_idle_timeout: 1500ms
    max_requests: 1000
    max_requests_jitter: 50
    max_rss: 256MiB
    request_timeout: 30s
    slowlog_timeout: 5s
    slowlog: log/slow.log
    user: "0"
    group: root
    rlimit_files: 4096
    rlimit_core: 64MiB
    umask: "0027"
  api:
    app: api:app
    listen: api.sock
    pm: ondemand
    user: "54321"
    rlimit_core: unlimited
    umask: 0
)");
    ASSERT_TRUE(result.config) << result.errors.front().toString();
    const auto& config = *result.config;
    EXPECT_EQ(config.emergency_restart_threshold, 10);
    EXPECT_EQ(config.emergency_restart_interval, 30s);
    EXPECT_EQ(config.error_log, folder.dir() / "log/pyfpm.log");

    const auto& web = config.pools.at(0);
    EXPECT_EQ(web.listen_owner, "root");
    EXPECT_EQ(web.listen_group, "0");
    EXPECT_EQ(web.pm, ProcessManager::Dynamic);
    EXPECT_EQ(web.max_children, 40);
    EXPECT_EQ(web.start_servers, 6);
    EXPECT_EQ(web.min_spare_servers, 4);
    EXPECT_EQ(web.max_spare_servers, 9);
    EXPECT_EQ(web.max_spawn_rate, 8);
    EXPECT_EQ(web.process_idle_timeout, 1500ms);
    EXPECT_EQ(web.max_requests, 1000);
    EXPECT_EQ(web.max_requests_jitter, 50);
    EXPECT_EQ(web.max_rss, 256u << 20);
    EXPECT_EQ(web.slowlog_timeout, 5s);
    EXPECT_EQ(web.slowlog, folder.dir() / "log/slow.log");
    EXPECT_EQ(web.user, "0");
    EXPECT_EQ(web.group, "root");
    EXPECT_EQ(web.rlimit_files, 4096);
    EXPECT_EQ(web.rlimit_core, 64L << 20);
    EXPECT_EQ(web.umask, 027);

    const auto& api = config.pools.at(1);
    EXPECT_EQ(api.pm, ProcessManager::Ondemand);
    EXPECT_EQ(api.user, "54321") << "a numeric id needs no passwd entry";
    EXPECT_EQ(api.rlimit_core, PoolConfig::kUnlimited);
    EXPECT_EQ(api.umask, 0);
}

TEST(ProcessManagerKeys, start_servers_defaults_to_halfway_between_the_spare_bounds)
{
    ConfigFolder folder;
    auto result = folder.load(kPool + "    pm: dynamic\n    max_children: 20\n"
                                      "    min_spare_servers: 4\n    max_spare_servers: 9\n");
    ASSERT_TRUE(result.config) << result.errors.front().toString();
    EXPECT_EQ(result.config->pools.at(0).start_servers, 6);  // 4 + (9 - 4) / 2
}

TEST(ProcessManagerKeys, spare_keys_are_ignored_outside_dynamic)
{
    // php-fpm accepts and ignores them too: switching pm must not force
    // deleting lines.
    ConfigFolder folder;
    for (const char* pm : {"static", "ondemand"}) {
        auto result = folder.load(kPool + "    pm: " + pm + "\n    max_children: 2\n"
                                  "    start_servers: 9\n    min_spare_servers: 50\n"
                                  "    max_spare_servers: 10\n    process_idle_timeout: 1s\n");
        EXPECT_TRUE(result.config) << pm << ": " << result.errors.at(0).toString();
    }
}

TEST(ProcessManagerKeys, a_dynamic_pool_with_every_default_is_valid)
{
    ConfigFolder folder;
    auto result = folder.load(kPool + "    pm: dynamic\n");
    ASSERT_TRUE(result.config) << result.errors.front().toString();
    EXPECT_EQ(result.config->pools.at(0).start_servers, 2);
}

class ProcessManagerKeyErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(ProcessManagerKeyErrors, reports_exactly)
{
    ConfigFolder folder;
    folder.mkdir("log");
    EXPECT_EQ(folder.errors(GetParam().yaml), folder.expand(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(Scaling, ProcessManagerKeyErrors, testing::Values(
    ErrorCase{"start_servers_zero", kPool + "    start_servers: 0\n", {
        "pyfpm.yaml:5:5: pools.web.start_servers: expected an integer from 1 to 10000, got \"0\""}},
    ErrorCase{"min_spare_servers_negative", kPool + "    min_spare_servers: -2\n", {
        "pyfpm.yaml:5:5: pools.web.min_spare_servers: expected an integer from 1 to 10000, got \"-2\""}},
    ErrorCase{"max_spare_servers_word", kPool + "    max_spare_servers: many\n", {
        "pyfpm.yaml:5:5: pools.web.max_spare_servers: expected an integer from 1 to 10000, got \"many\""}},
    ErrorCase{"max_spawn_rate_zero", kPool + "    max_spawn_rate: 0\n", {
        "pyfpm.yaml:5:5: pools.web.max_spawn_rate: expected an integer from 1 to 10000, got \"0\""}},
    ErrorCase{"process_idle_timeout_zero", kPool + "    process_idle_timeout: 0s\n", {
        "pyfpm.yaml:5:5: pools.web.process_idle_timeout: expected a duration of at least 1ms, got \"0s\""}},
    ErrorCase{"process_idle_timeout_without_unit", kPool + "    process_idle_timeout: 10\n", {
        "pyfpm.yaml:5:5: pools.web.process_idle_timeout: expected a duration such as 250ms, 30s, 5m or 1h, got \"10\""}},
    ErrorCase{"php_fpm_spelling_of_a_spare_key", kPool + "    pm.min_spare_servers: 2\n", {
        "pyfpm.yaml:5:5: pools.web.pm.min_spare_servers: unknown key; did you mean min_spare_servers?"}}),
    [](const auto& info) { return std::string{info.param.name}; });

INSTANTIATE_TEST_SUITE_P(Recycling, ProcessManagerKeyErrors, testing::Values(
    ErrorCase{"max_requests_negative", kPool + "    max_requests: -1\n", {
        "pyfpm.yaml:5:5: pools.web.max_requests: expected an integer from 0 to 1000000000, got \"-1\""}},
    ErrorCase{"max_requests_jitter_fraction", kPool + "    max_requests_jitter: 1.5\n", {
        "pyfpm.yaml:5:5: pools.web.max_requests_jitter: expected an integer from 0 to 1000000000, got \"1.5\""}},
    ErrorCase{"max_rss_decimal_unit", kPool + "    max_rss: 512MB\n", {
        "pyfpm.yaml:5:5: pools.web.max_rss: expected a size such as 0, 4096, 64KiB or 512MiB, got \"512MB\""}},
    ErrorCase{"slowlog_timeout_without_unit", kPool + "    slowlog_timeout: 5\n", {
        "pyfpm.yaml:5:5: pools.web.slowlog_timeout: expected a duration such as 250ms, 30s, 5m or 1h, got \"5\""}},
    ErrorCase{"slowlog_folder_missing", kPool + "    slowlog: nowhere/slow.log\n", {
        "pyfpm.yaml:5:5: pools.web.slowlog: DIR/nowhere does not exist"}},
    ErrorCase{"slowlog_is_a_directory", kPool + "    slowlog: log\n", {
        "pyfpm.yaml:5:5: pools.web.slowlog: DIR/log is a directory; expected a file name"}}),
    [](const auto& info) { return std::string{info.param.name}; });

INSTANTIATE_TEST_SUITE_P(Isolation, ProcessManagerKeyErrors, testing::Values(
    ErrorCase{"user_unknown", kPool + "    user: pyfpm-no-such-user\n", {
        "pyfpm.yaml:5:5: pools.web.user: no user named \"pyfpm-no-such-user\" on this system"}},
    ErrorCase{"group_unknown", kPool + "    group: pyfpm-no-such-group\n", {
        "pyfpm.yaml:5:5: pools.web.group: no group named \"pyfpm-no-such-group\" on this system"}},
    ErrorCase{"listen_owner_unknown", kPool + "    listen_owner: pyfpm-no-such-user\n", {
        "pyfpm.yaml:5:5: pools.web.listen_owner: no user named \"pyfpm-no-such-user\" on this system"}},
    ErrorCase{"listen_group_unknown", kPool + "    listen_group: pyfpm-no-such-group\n", {
        "pyfpm.yaml:5:5: pools.web.listen_group: no group named \"pyfpm-no-such-group\" on this system"}},
    ErrorCase{"user_list", kPool + "    user: [www-data]\n", {
        "pyfpm.yaml:5:5: pools.web.user: expected a user name or a numeric id, got a list"}},
    ErrorCase{"group_empty", kPool + "    group: \"\"\n", {
        "pyfpm.yaml:5:5: pools.web.group: expected a group name or a numeric id, got \"\""}},
    ErrorCase{"rlimit_files_zero", kPool + "    rlimit_files: 0\n", {
        "pyfpm.yaml:5:5: pools.web.rlimit_files: expected an integer from 1 to 1073741816, got \"0\""}},
    ErrorCase{"rlimit_files_unlimited", kPool + "    rlimit_files: unlimited\n", {
        "pyfpm.yaml:5:5: pools.web.rlimit_files: expected an integer from 1 to 1073741816, got \"unlimited\""}},
    ErrorCase{"rlimit_core_word", kPool + "    rlimit_core: infinite\n", {
        "pyfpm.yaml:5:5: pools.web.rlimit_core: expected a size such as 0 or 512MiB, or unlimited, got \"infinite\""}},
    ErrorCase{"umask_with_setuid_bits", kPool + "    umask: \"4022\"\n", {
        "pyfpm.yaml:5:5: pools.web.umask: expected an octal umask from 0000 to 0777 such as \"0027\", got \"4022\""}},
    ErrorCase{"umask_not_octal", kPool + "    umask: \"0089\"\n", {
        "pyfpm.yaml:5:5: pools.web.umask: expected an octal umask from 0000 to 0777 such as \"0027\", got \"0089\""}}),
    [](const auto& info) { return std::string{info.param.name}; });

INSTANTIATE_TEST_SUITE_P(Daemon, ProcessManagerKeyErrors, testing::Values(
    ErrorCase{"emergency_restart_threshold_negative", "emergency_restart_threshold: -1\n" + kPool, {
        "pyfpm.yaml:1:1: emergency_restart_threshold: expected an integer from 0 to 1000000, got \"-1\""}},
    ErrorCase{"emergency_restart_interval_zero", "emergency_restart_interval: 0\n" + kPool, {
        "pyfpm.yaml:1:1: emergency_restart_interval: expected a duration of at least 1ms, got \"0\""}},
    ErrorCase{"error_log_folder_missing", "error_log: /nonexistent-pyfpm/pyfpm.log\n" + kPool, {
        "pyfpm.yaml:1:1: error_log: /nonexistent-pyfpm does not exist"}},
    ErrorCase{"error_log_is_a_directory", "error_log: log\n" + kPool, {
        "pyfpm.yaml:1:1: error_log: DIR/log is a directory; expected a file name"}}),
    [](const auto& info) { return std::string{info.param.name}; });

INSTANTIATE_TEST_SUITE_P(AcrossKeys, ProcessManagerKeyErrors, testing::Values(
    ErrorCase{"min_spare_servers_above_max_children",
              kPool + "    pm: dynamic\n    max_children: 4\n    min_spare_servers: 5\n    max_spare_servers: 4\n", {
        "pyfpm.yaml:7:5: pools.web: min_spare_servers (5) > max_children (4)",
        "pyfpm.yaml:8:5: pools.web: max_spare_servers (4) < min_spare_servers (5)"}},
    ErrorCase{"max_spare_servers_above_max_children",
              kPool + "    pm: dynamic\n    max_children: 4\n    max_spare_servers: 6\n", {
        "pyfpm.yaml:7:5: pools.web: max_spare_servers (6) > max_children (4)"}},
    ErrorCase{"a_default_is_shown_as_such",
              kPool + "    pm: dynamic\n    max_children: 2\n", {
        "pyfpm.yaml:6:5: pools.web: max_spare_servers (3, the default) > max_children (2)"}},
    ErrorCase{"max_children_default_is_shown_as_such",
              kPool + "    pm: dynamic\n    max_spare_servers: 6\n", {
        "pyfpm.yaml:6:5: pools.web: max_spare_servers (6) > max_children (5, the default)"}},
    ErrorCase{"max_spare_servers_below_min_spare_servers",
              kPool + "    pm: dynamic\n    min_spare_servers: 3\n    max_spare_servers: 2\n", {
        "pyfpm.yaml:7:5: pools.web: max_spare_servers (2) < min_spare_servers (3)"}},
    ErrorCase{"start_servers_below_min_spare_servers",
              kPool + "    pm: dynamic\n    max_children: 8\n    min_spare_servers: 2\n"
              "    max_spare_servers: 6\n    start_servers: 1\n", {
        "pyfpm.yaml:9:5: pools.web: start_servers (1) < min_spare_servers (2)"}},
    ErrorCase{"start_servers_above_max_spare_servers",
              kPool + "    pm: dynamic\n    max_children: 8\n    min_spare_servers: 2\n"
              "    max_spare_servers: 6\n    start_servers: 7\n", {
        "pyfpm.yaml:9:5: pools.web: start_servers (7) > max_spare_servers (6)"}},
    ErrorCase{"start_servers_above_max_children",
              kPool + "    pm: dynamic\n    max_children: 8\n    min_spare_servers: 2\n"
              "    max_spare_servers: 6\n    start_servers: 9\n", {
        "pyfpm.yaml:9:5: pools.web: start_servers (9) > max_children (8)"}},
    ErrorCase{"max_requests_jitter_above_max_requests",
              kPool + "    max_requests: 100\n    max_requests_jitter: 200\n", {
        "pyfpm.yaml:6:5: pools.web: max_requests_jitter (200) > max_requests (100)"}},
    ErrorCase{"max_requests_jitter_without_max_requests",
              kPool + "    max_requests_jitter: 10\n", {
        "pyfpm.yaml:5:5: pools.web: max_requests_jitter (10) > max_requests (0, the default)"}},
    ErrorCase{"slowlog_timeout_without_slowlog",
              kPool + "    slowlog_timeout: 5s\n", {
        "pyfpm.yaml:5:5: pools.web: slowlog_timeout (5s) needs slowlog, the file the stacks are written to"}},
    ErrorCase{"rules_skip_values_pass_one_rejected",
              kPool + "    pm: dynamic\n    max_children: x\n    min_spare_servers: 50\n"
              "    max_spare_servers: 60\n    slowlog_timeout: 1s\n    slowlog: nowhere/slow.log\n", {
        "pyfpm.yaml:6:5: pools.web.max_children: expected an integer from 1 to 10000, got \"x\"",
        "pyfpm.yaml:10:5: pools.web.slowlog: DIR/nowhere does not exist"}},
    ErrorCase{"each_pool_is_checked_on_its_own",
              "pools:\n  web: {app: app:app, listen: a.sock, pm: dynamic, max_children: 2}\n"
              "  api: {app: app:app, listen: b.sock, pm: dynamic, max_children: 3}\n", {
        "pyfpm.yaml:2:52: pools.web: max_spare_servers (3, the default) > max_children (2)"}}),
    [](const auto& info) { return std::string{info.param.name}; });

}  // namespace
}  // namespace pyfpm::config
