// Pure decisions of manager/: restart backoff, what an exit asks for, pool
// state precedence, log wording, worker command line and environment.
#include <sys/wait.h>

#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>

#include "manager/backoff.hpp"
#include "manager/describe.hpp"
#include "manager/pool_config.hpp"
#include "manager/pool_state.hpp"
#include "manager/spawn.hpp"
#include "manager/stop_ladder.hpp"
#include "manager/worker_binary.hpp"
#include "manager/worker_output.hpp"
#include "test/support/process.hpp"

namespace pyfpm::manager {
namespace {

using std::chrono::milliseconds;

TEST(RestartDelay, starts_at_100ms_and_doubles)
{
    EXPECT_EQ(restartDelay(1), milliseconds(100));
    EXPECT_EQ(restartDelay(2), milliseconds(200));
    EXPECT_EQ(restartDelay(3), milliseconds(400));
    EXPECT_EQ(restartDelay(4), milliseconds(800));
    EXPECT_EQ(restartDelay(9), milliseconds(25'600));
}

TEST(RestartDelay, is_capped_at_30s_forever)
{
    EXPECT_EQ(restartDelay(10), milliseconds(30'000));
    EXPECT_EQ(restartDelay(11), milliseconds(30'000));
    EXPECT_EQ(restartDelay(1'000'000), milliseconds(30'000));
}

TEST(Backoff, counts_rounds_and_resets_when_a_worker_becomes_ready)
{
    Backoff backoff;
    EXPECT_EQ(backoff.failures(), 0);
    EXPECT_EQ(backoff.nextDelay(), milliseconds(100));
    EXPECT_EQ(backoff.nextDelay(), milliseconds(200));
    EXPECT_EQ(backoff.nextDelay(), milliseconds(400));
    EXPECT_EQ(backoff.failures(), 3);
    backoff.reset();
    EXPECT_EQ(backoff.failures(), 0);
    EXPECT_EQ(backoff.nextDelay(), milliseconds(100));
}

struct ExitCase {
    WorkerState state;
    bool stopping;
    AfterExit expected;
};

class DecideAfterExit : public ::testing::TestWithParam<ExitCase> {};

TEST_P(DecideAfterExit, follows_the_restart_policy)
{
    const ExitCase& c = GetParam();
    EXPECT_EQ(decideAfterExit(c.state, c.stopping), c.expected)
        << toString(c.state) << (c.stopping ? " while stopping" : "");
}

INSTANTIATE_TEST_SUITE_P(EveryWorkerState, DecideAfterExit,
                         ::testing::Values(ExitCase{WorkerState::Starting, false, AfterExit::RestartAfterBackoff},
                                           ExitCase{WorkerState::Ready, false, AfterExit::RestartNow},
                                           ExitCase{WorkerState::Recycling, false, AfterExit::RestartNow},
                                           ExitCase{WorkerState::Recycling, true, AfterExit::Forget},
                                           ExitCase{WorkerState::Stopping, false, AfterExit::Forget},
                                           ExitCase{WorkerState::Starting, true, AfterExit::Forget},
                                           ExitCase{WorkerState::Ready, true, AfterExit::Forget},
                                           ExitCase{WorkerState::Stopping, true, AfterExit::Forget}));

TEST(PoolState, stopping_overrides_everything_and_ends_in_stopped)
{
    EXPECT_EQ(derivePoolState({.stopping = true, .liveWorkers = 2, .readyWorkers = 2, .startFailures = 0}),
              PoolState::Stopping);
    EXPECT_EQ(derivePoolState({.stopping = true, .liveWorkers = 1, .readyWorkers = 0, .startFailures = 3}),
              PoolState::Stopping);
    EXPECT_EQ(derivePoolState({.stopping = true, .liveWorkers = 0, .readyWorkers = 0, .startFailures = 3}),
              PoolState::Stopped);
}

TEST(PoolState, a_ready_worker_keeps_a_crash_looping_pool_running)
{
    EXPECT_EQ(derivePoolState({.stopping = false, .liveWorkers = 3, .readyWorkers = 1, .startFailures = 4}),
              PoolState::Running);
}

TEST(PoolState, start_failures_without_ready_worker_mean_failing)
{
    EXPECT_EQ(derivePoolState({.stopping = false, .liveWorkers = 0, .readyWorkers = 0, .startFailures = 1}),
              PoolState::Failing);
    EXPECT_EQ(derivePoolState({.stopping = false, .liveWorkers = 2, .readyWorkers = 0, .startFailures = 2}),
              PoolState::Failing);
    EXPECT_EQ(derivePoolState({.stopping = false, .liveWorkers = 2, .readyWorkers = 0, .startFailures = 0}),
              PoolState::Starting);
}

TEST(PoolState, only_starting_and_running_pools_take_requests)
{
    EXPECT_TRUE(acceptsRequests(PoolState::Starting));
    EXPECT_TRUE(acceptsRequests(PoolState::Running));
    EXPECT_FALSE(acceptsRequests(PoolState::Failing));
    EXPECT_FALSE(acceptsRequests(PoolState::Stopping));
    EXPECT_FALSE(acceptsRequests(PoolState::Stopped));
    EXPECT_EQ(toString(PoolState::Failing), "failing");
}

TEST(StopLadder, terms_first_then_kills_the_process_group)
{
    ASSERT_EQ(kStopLadder.size(), 2u);
    EXPECT_EQ(kStopLadder[0].signal, SIGTERM);
    EXPECT_EQ(kStopLadder[0].target, StopStep::Target::Worker);
    EXPECT_EQ(kStopLadder[1].signal, SIGKILL);
    EXPECT_EQ(kStopLadder[1].target, StopStep::Target::ProcessGroup);
    EXPECT_GT(kStopLadder[0].wait, milliseconds(0));
}

TEST(Describe, wait_statuses_read_like_the_ops_manual)
{
    EXPECT_EQ(describeWaitStatus(W_EXITCODE(1, 0)), "exited with status 1");
    EXPECT_EQ(describeWaitStatus(W_EXITCODE(0, 0)), "exited with status 0");
    EXPECT_EQ(describeWaitStatus(SIGKILL), "killed by SIGKILL");
    EXPECT_EQ(describeWaitStatus(SIGSEGV | WCOREFLAG), "killed by SIGSEGV (core dumped)");
}

TEST(Describe, durations_use_the_config_file_units)
{
    EXPECT_EQ(formatDuration(milliseconds(0)), "0ms");
    EXPECT_EQ(formatDuration(milliseconds(400)), "400ms");
    EXPECT_EQ(formatDuration(milliseconds(1000)), "1s");
    EXPECT_EQ(formatDuration(milliseconds(3210)), "3.2s");
    EXPECT_EQ(formatDuration(milliseconds(30'000)), "30s");
    EXPECT_EQ(formatDuration(milliseconds(125'000)), "2m05s");
}

TEST(ListenAddress, prints_as_in_the_config_file)
{
    ListenAddress unixAddress;
    unixAddress.path = "/run/pyfpm/web.sock";
    EXPECT_EQ(unixAddress.toString(), "unix:/run/pyfpm/web.sock");

    ListenAddress tcp;
    tcp.kind = ListenAddress::Kind::Tcp;
    tcp.host = "127.0.0.1";
    tcp.port = 9000;
    EXPECT_EQ(tcp.toString(), "127.0.0.1:9000");
    tcp.host = "::1";
    EXPECT_EQ(tcp.toString(), "[::1]:9000");
}

PoolConfig examplePool()
{
    PoolConfig pool;
    pool.name = "web";
    pool.app = "hello:app";
    pool.python_path = {"/srv/app", "/srv/lib"};
    pool.env = {{"APP_MODE", "production"}};
    return pool;
}

TEST(WorkerArguments, follow_the_worker_command_line)
{
    PoolConfig pool = examplePool();
    EXPECT_EQ(workerArguments(pool),
              (std::vector<std::string>{"--app", "hello:app", "--python-path", "/srv/app", "--python-path",
                                        "/srv/lib", "--pool", "web", "--notify-fd", "3"}));
    pool.virtualenv = "/srv/venv";
    pool.python_path.clear();
    EXPECT_EQ(workerArguments(pool), (std::vector<std::string>{"--app", "hello:app", "--virtualenv", "/srv/venv",
                                                               "--pool", "web", "--notify-fd", "3"}));
}

TEST(WorkerEnvironment, clear_env_keeps_only_the_pool_env_and_path)
{
    const Environment daemon{{"PATH", "/opt/bin:/usr/bin"}, {"HOME", "/root"}, {"APP_MODE", "debug"}};
    EXPECT_EQ(workerEnvironment(examplePool(), daemon),
              (Environment{{"PATH", "/opt/bin:/usr/bin"}, {"APP_MODE", "production"}}));
}

TEST(WorkerEnvironment, clear_env_without_daemon_path_uses_a_default)
{
    EXPECT_EQ(workerEnvironment(examplePool(), {}).at("PATH"), "/usr/local/bin:/usr/bin:/bin");
    PoolConfig pool = examplePool();
    pool.env["PATH"] = "/srv/bin";
    EXPECT_EQ(workerEnvironment(pool, {{"PATH", "/usr/bin"}}).at("PATH"), "/srv/bin");
}

TEST(WorkerEnvironment, without_clear_env_the_pool_env_overrides_the_daemons)
{
    PoolConfig pool = examplePool();
    pool.clear_env = false;
    const Environment daemon{{"PATH", "/usr/bin"}, {"HOME", "/root"}, {"APP_MODE", "debug"}};
    EXPECT_EQ(workerEnvironment(pool, daemon),
              (Environment{{"PATH", "/usr/bin"}, {"HOME", "/root"}, {"APP_MODE", "production"}}));
}

void makeExecutable(const std::filesystem::path& path)
{
    test::writeFile(path, "#!/bin/sh\n");
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
}

TEST(LocateWorkerBinary, prefers_the_one_next_to_the_daemon)
{
    test::TempDir dir;
    std::filesystem::create_directories(dir / "build");
    std::filesystem::create_directories(dir / "libexec");
    makeExecutable(dir / "build/pyfpm-worker");
    makeExecutable(dir / "libexec/pyfpm-worker");
    EXPECT_EQ(locateWorkerBinary(dir / "build/pyfpm", dir / "libexec"), dir / "build/pyfpm-worker");
}

TEST(LocateWorkerBinary, falls_back_to_libexecdir)
{
    test::TempDir dir;
    std::filesystem::create_directories(dir / "sbin");
    std::filesystem::create_directories(dir / "libexec");
    test::writeFile(dir / "sbin/pyfpm-worker", "not executable");
    makeExecutable(dir / "libexec/pyfpm-worker");
    EXPECT_EQ(locateWorkerBinary(dir / "sbin/pyfpm", dir / "libexec"), dir / "libexec/pyfpm-worker");
}

TEST(LocateWorkerBinary, names_both_places_when_missing)
{
    test::TempDir dir;
    try {
        locateWorkerBinary(dir / "sbin/pyfpm", dir / "libexec");
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find((dir / "sbin/pyfpm-worker").string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find((dir / "libexec/pyfpm-worker").string()), std::string::npos)
            << e.what();
    }
}

TEST(WorkerOutput, WorkerLogLinesKeepTheirLevelAndMessage) {
    const auto info = classifyWorkerOutput("info: [pool web] worker 12: app:app loaded; accepting");
    EXPECT_TRUE(info.fromWorker);
    EXPECT_EQ(info.level, spdlog::level::info);
    EXPECT_EQ(info.message, "[pool web] worker 12: app:app loaded; accepting");
    EXPECT_EQ(classifyWorkerOutput("error: x").level, spdlog::level::err);
    EXPECT_EQ(classifyWorkerOutput("warning: x").level, spdlog::level::warn);
    EXPECT_EQ(classifyWorkerOutput("critical: x").level, spdlog::level::critical);
    EXPECT_EQ(classifyWorkerOutput("debug: x").level, spdlog::level::debug);
}

TEST(WorkerOutput, OtherOutputIsAWarningAsWritten) {
    for (const char* line : {"Traceback (most recent call last):", "information: not a level",
                             "INFO: upper case is the app's own", "", "error:no space"}) {
        const auto output = classifyWorkerOutput(line);
        EXPECT_FALSE(output.fromWorker) << line;
        EXPECT_EQ(output.level, spdlog::level::warn) << line;
        EXPECT_EQ(output.message, line);
    }
}

}  // namespace
}  // namespace pyfpm::manager
