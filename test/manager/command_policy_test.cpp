// Command pools' decisions (manager/command_policy.hpp) and what their
// workers are given (manager/spawn.hpp): pure, no process runs, time is
// injected.
#include <sys/types.h>

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "manager/command_policy.hpp"
#include "manager/spawn.hpp"

namespace pyfpm::manager {
namespace {

using namespace std::chrono_literals;

const Clock::time_point kT0 = Clock::time_point(1h);

PoolConfig commandPool(ProcessManager pm, int maxChildren)
{
    PoolConfig config;
    config.name = "cgi";
    config.kind = PoolKind::Command;
    config.command = {"/usr/sbin/fcgiwrap", "-f"};
    config.pm = pm;
    config.max_children = maxChildren;
    config.start_servers = 2;
    config.min_spare_servers = 1;
    config.max_spare_servers = 3;
    config.max_spawn_rate = 4;
    config.process_idle_timeout = 10s;
    return config;
}

// `count` running workers with pids 100, 101, ..., started a second apart.
CommandScalingInput running(int count, int queue, Clock::time_point lastDemand = kT0)
{
    CommandScalingInput input;
    for (int i = 0; i < count; ++i) {
        input.running.push_back({static_cast<pid_t>(100 + i), kT0 + std::chrono::seconds(i)});
    }
    input.listenQueue = queue;
    input.lastDemand = lastDemand;
    return input;
}

// --- what a command worker gets ---

TEST(CommandWorker, runs_command_0_with_the_rest_as_its_arguments)
{
    const PoolConfig config = commandPool(ProcessManager::Static, 2);
    EXPECT_EQ(workerProgram(config, "/usr/libexec/pyfpm/pyfpm-worker"), "/usr/sbin/fcgiwrap");
    EXPECT_EQ(workerArguments(config), std::vector<std::string>{"-f"});
    EXPECT_FALSE(keepsWorkerContract(config)) << "no notify fd 3, no scoreboard fd 4";
}

TEST(CommandWorker, with_argv_0_alone_gets_no_arguments)
{
    PoolConfig config = commandPool(ProcessManager::Static, 2);
    config.command = {"/usr/local/bin/responder"};
    config.python_path = {"/srv/app"};  // Python keys do not leak into its argv
    config.max_rss = 1 << 20;
    EXPECT_TRUE(workerArguments(config).empty());
}

TEST(CommandWorker, python_pools_still_run_pyfpm_worker_with_its_contract)
{
    PoolConfig config;
    config.name = "web";
    config.app = "app:app";
    EXPECT_EQ(workerProgram(config, "/usr/libexec/pyfpm/pyfpm-worker"), "/usr/libexec/pyfpm/pyfpm-worker");
    EXPECT_TRUE(keepsWorkerContract(config));
    config.kind = PoolKind::Scripts;
    EXPECT_TRUE(keepsWorkerContract(config));
}

TEST(CommandWorker, gets_the_pool_environment_like_any_worker)
{
    PoolConfig config = commandPool(ProcessManager::Static, 2);
    config.env = {{"COMMAND_TEST_VALUE", "x"}};
    const Environment env = workerEnvironment(config, {{"HOME", "/root"}, {"PATH", "/bin"}});
    EXPECT_EQ(env, (Environment{{"COMMAND_TEST_VALUE", "x"}, {"PATH", "/bin"}})) << "clear_env by default";
}

// --- keys that need pyfpm-worker ---

TEST(IgnoredCommandKeys, names_every_worker_contract_key_set_in_manual_order)
{
    PoolConfig config = commandPool(ProcessManager::Static, 2);
    EXPECT_TRUE(ignoredCommandKeys(config).empty()) << "defaults are not worth a warning";
    config.python_path = {"/srv"};
    config.virtualenv = "/srv/venv";
    config.max_requests = 500;
    config.max_requests_jitter = 50;
    config.max_rss = 1 << 20;
    config.slowlog_timeout = 5s;
    config.slowlog = "/var/log/slow.log";
    EXPECT_EQ(ignoredCommandKeys(config),
              (std::vector<std::string>{"python_path", "virtualenv", "max_requests", "max_requests_jitter", "max_rss",
                                        "slowlog_timeout", "slowlog"}));
}

TEST(IgnoredCommandKeys, are_none_for_python_pools)
{
    PoolConfig config;
    config.app = "app:app";
    config.max_requests = 500;
    EXPECT_TRUE(ignoredCommandKeys(config).empty());
}

// --- exits ---

TEST(DecideAfterCommandExit, a_worker_that_dies_unasked_within_the_settle_time_is_a_failed_start)
{
    EXPECT_EQ(decideAfterCommandExit(WorkerState::Ready, false, 0ms), AfterExit::RestartAfterBackoff);
    EXPECT_EQ(decideAfterCommandExit(WorkerState::Ready, false, kCommandSettleTime - 1ms),
              AfterExit::RestartAfterBackoff);
    EXPECT_EQ(decideAfterCommandExit(WorkerState::Ready, false, kCommandSettleTime), AfterExit::RestartNow);
    EXPECT_EQ(decideAfterCommandExit(WorkerState::Ready, false, 1h), AfterExit::RestartNow);
}

TEST(DecideAfterCommandExit, exec_failures_expected_exits_and_stopping_pools_follow_the_common_policy)
{
    EXPECT_EQ(decideAfterCommandExit(WorkerState::Starting, false, 1h), AfterExit::RestartAfterBackoff)
        << "exec(2) failed: the worker never started";
    EXPECT_EQ(decideAfterCommandExit(WorkerState::Stopping, false, 0ms), AfterExit::Forget);
    EXPECT_EQ(decideAfterCommandExit(WorkerState::Ready, true, 0ms), AfterExit::Forget);
}

// --- pm static ---

TEST(CommandScaleStatic, never_spawns_or_stops_and_reports_a_full_pool_with_a_queue)
{
    const PoolConfig config = commandPool(ProcessManager::Static, 2);
    ScaleDecision d = decideCommandScale(config, running(2, 0), kT0 + 1h);
    EXPECT_EQ(d.spawn, 0);
    EXPECT_TRUE(d.stop.empty()) << "quiet for an hour, still max_children";
    EXPECT_FALSE(d.maxChildrenReached);

    d = decideCommandScale(config, running(2, 7), kT0);
    EXPECT_EQ(d.spawn, 0);
    EXPECT_TRUE(d.maxChildrenReached);

    d = decideCommandScale(config, running(1, 7), kT0);
    EXPECT_EQ(d.spawn, 0) << "refilling a static pool is the Pool's job, under its backoff";
    EXPECT_FALSE(d.maxChildrenReached);
}

// --- pm dynamic ---

TEST(CommandScaleDynamic, refills_to_start_servers_at_the_spawn_rate)
{
    const PoolConfig config = commandPool(ProcessManager::Dynamic, 8);
    ScaleDecision d = decideCommandScale(config, running(0, 0), kT0);
    EXPECT_EQ(d.spawn, 1);
    EXPECT_EQ(d.nextSpawnRate, 2);
    EXPECT_TRUE(d.stop.empty());
    CommandScalingInput input = running(1, 0);
    input.spawnRate = d.nextSpawnRate;
    d = decideCommandScale(config, input, kT0);
    EXPECT_EQ(d.spawn, 1) << "up to start_servers 2, not the rate";
    d = decideCommandScale(config, running(2, 0), kT0);
    EXPECT_EQ(d.spawn, 0);
    EXPECT_EQ(d.nextSpawnRate, 1);
}

TEST(CommandScaleDynamic, grows_on_the_accept_queue_doubling_its_rate_up_to_max_spawn_rate)
{
    const PoolConfig config = commandPool(ProcessManager::Dynamic, 8);
    // The rate is carried by the caller, as the Pool does: each tick starts
    // from the rate the previous one returned.
    std::vector<int> spawned;
    int total = 2;
    int rate = 1;
    bool reached = false;
    for (int tick = 0; tick < 5; ++tick) {
        CommandScalingInput input = running(total, 20);
        input.spawnRate = rate;
        const ScaleDecision d = decideCommandScale(config, input, kT0);
        spawned.push_back(d.spawn);
        total += d.spawn;
        rate = d.nextSpawnRate;
        reached = reached || d.maxChildrenReached;
    }
    EXPECT_EQ(spawned, (std::vector<int>{1, 2, 3, 0, 0})) << "1, 2, then the room left under max_children 8";
    EXPECT_EQ(total, 8);
    EXPECT_TRUE(reached) << "connections still wait at max_children";
}

TEST(CommandScaleDynamic, workers_still_starting_take_waiting_connections)
{
    const PoolConfig config = commandPool(ProcessManager::Dynamic, 8);
    CommandScalingInput input = running(2, 2);
    input.starting = 2;
    input.spawnRate = 4;
    EXPECT_EQ(decideCommandScale(config, input, kT0).spawn, 0);
    input.listenQueue = 3;
    EXPECT_EQ(decideCommandScale(config, input, kT0).spawn, 1);
}

TEST(CommandScaleDynamic, shrinks_one_per_tick_to_start_servers_after_a_quiet_process_idle_timeout)
{
    const PoolConfig config = commandPool(ProcessManager::Dynamic, 8);
    EXPECT_TRUE(decideCommandScale(config, running(5, 0, kT0), kT0 + 10s).stop.empty())
        << "exactly process_idle_timeout is not longer than it";
    const ScaleDecision d = decideCommandScale(config, running(5, 0, kT0), kT0 + 11s);
    EXPECT_EQ(d.stop, std::vector<pid_t>{104}) << "one per tick, the most recently started";
    EXPECT_EQ(d.spawn, 0);
    EXPECT_TRUE(decideCommandScale(config, running(2, 0, kT0), kT0 + 1h).stop.empty()) << "start_servers stays";
}

TEST(CommandScaleDynamic, stops_nobody_while_connections_wait_or_the_queue_is_unknown)
{
    const PoolConfig config = commandPool(ProcessManager::Dynamic, 5);
    EXPECT_TRUE(decideCommandScale(config, running(5, 3, kT0), kT0 + 1h).stop.empty());
    const ScaleDecision unknown = decideCommandScale(config, running(5, -1, kT0), kT0 + 1h);
    EXPECT_TRUE(unknown.stop.empty());
    EXPECT_EQ(unknown.spawn, 0);
    EXPECT_FALSE(unknown.maxChildrenReached);
}

// --- pm ondemand ---

TEST(CommandScaleOndemand, spawns_one_per_waiting_connection_up_to_max_spawn_rate_and_room)
{
    const PoolConfig config = commandPool(ProcessManager::Ondemand, 6);
    EXPECT_EQ(decideCommandScale(config, running(0, 0), kT0).spawn, 0) << "starts none";
    EXPECT_EQ(decideCommandScale(config, running(0, 3), kT0).spawn, 3);
    EXPECT_EQ(decideCommandScale(config, running(0, 10), kT0).spawn, 4) << "max_spawn_rate 4";
    const ScaleDecision full = decideCommandScale(config, running(5, 10), kT0);
    EXPECT_EQ(full.spawn, 1);
    EXPECT_FALSE(full.maxChildrenReached);
    EXPECT_TRUE(decideCommandScale(config, running(6, 1), kT0).maxChildrenReached);
}

TEST(CommandScaleOndemand, a_pending_connection_on_an_unknown_queue_starts_a_worker_only_when_there_is_none)
{
    const PoolConfig config = commandPool(ProcessManager::Ondemand, 6);
    CommandScalingInput input = running(0, -1);
    input.connectionPending = true;
    EXPECT_EQ(decideCommandScale(config, input, kT0).spawn, 1);
    input = running(1, -1);
    input.connectionPending = true;
    EXPECT_EQ(decideCommandScale(config, input, kT0).spawn, 0) << "the running one may be idle";
}

TEST(CommandScaleOndemand, scales_to_zero_one_per_tick_after_a_quiet_process_idle_timeout)
{
    const PoolConfig config = commandPool(ProcessManager::Ondemand, 6);
    int total = 3;
    Clock::time_point now = kT0 + 10s;
    std::vector<pid_t> stopped;
    for (int tick = 0; tick < 5; ++tick) {
        now += 1s;
        const ScaleDecision d = decideCommandScale(config, running(total, 0, kT0), now);
        ASSERT_LE(d.stop.size(), 1u);
        stopped.insert(stopped.end(), d.stop.begin(), d.stop.end());
        total -= static_cast<int>(d.stop.size());
    }
    EXPECT_EQ(total, 0);
    EXPECT_EQ(stopped, (std::vector<pid_t>{102, 101, 100}));
}

}  // namespace
}  // namespace pyfpm::manager
