// The Supervisor with real child processes on a real event loop. Workers are
// fake_worker (see there): it keeps pyfpm-worker's contract without Python.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "manager/listen_socket.hpp"
#include "manager/supervisor.hpp"
#include "test/manager/loop_helpers.hpp"
#include "test/support/process.hpp"

namespace pyfpm::manager {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::askWorker;
using testing::field;
using testing::LogCapture;
using testing::processGone;

constexpr std::array<StopStep, 2> kQuickStop{{
    {SIGTERM, 300ms, StopStep::Target::Worker},
    {SIGKILL, 2000ms, StopStep::Target::ProcessGroup},
}};

std::vector<long long> startTimes(const fs::path& log)
{
    std::vector<long long> times;
    std::istringstream in(test::readFile(log));
    std::string word;
    long long pid = 0;
    long long ms = 0;
    while (in >> word >> pid >> ms) {
        times.push_back(ms);
    }
    return times;
}

std::set<pid_t> pidsOf(const PoolStatus& status)
{
    std::set<pid_t> pids;
    for (const auto& worker : status.workers) {
        pids.insert(worker.pid);
    }
    return pids;
}

class SupervisorTest : public ::testing::Test {
protected:
    PoolConfig pool(const std::string& name, const std::string& mode, int maxChildren)
    {
        PoolConfig config;
        config.name = name;
        config.app = mode;
        config.python_path = {dir.path()};
        config.listen.kind = ListenAddress::Kind::Unix;
        config.listen.path = socketOf(name);
        config.max_children = maxChildren;
        config.working_dir = dir.path();
        config.env = {{"FAKE_VALUE", "from-" + name}, {"FAKE_WORKER_LOG", (dir / (name + ".starts")).string()}};
        return config;
    }

    fs::path socketOf(const std::string& name) const { return dir / (name + ".sock"); }

    void start(const std::vector<PoolConfig>& pools, fs::path binary = PYFPM_FAKE_WORKER)
    {
        SupervisorOptions options;
        options.stopLadder = kQuickStop;
        supervisor = std::make_unique<Supervisor>(base.get(), std::move(binary), options);
        supervisor->start(pools);
    }

    bool runUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s)
    {
        return testing::runUntil(base.get(), condition, timeout);
    }

    PoolStatus status(const std::string& name) const { return supervisor->status(name); }

    bool allReady(const std::string& name) const
    {
        const PoolStatus s = status(name);
        return s.readyWorkers == s.maxChildren;
    }

    test::TempDir dir;
    LogCapture log;
    testing::EventBasePtr base = testing::makeEventBase();
    std::unique_ptr<Supervisor> supervisor;
};

TEST_F(SupervisorTest, all_max_children_become_ready_with_the_pool_socket_on_fd_0)
{
    // The daemon may ignore SIGPIPE; its workers must not inherit that.
    struct sigaction ignore{};
    struct sigaction previous{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &previous);
    start({pool("web", "serve-once", 3)});
    ::sigaction(SIGPIPE, &previous, nullptr);

    ASSERT_TRUE(runUntil([&] { return allReady("web"); })) << status("web").readyWorkers << " ready";
    EXPECT_EQ(status("web").state, PoolState::Running);
    EXPECT_TRUE(supervisor->poolAvailable("web"));

    // serve-once workers answer one connection each: three answers from
    // three different pids prove every worker accepts on the pool socket.
    std::set<pid_t> answered;
    for (int i = 0; i < 3; ++i) {
        const std::string answer = askWorker(socketOf("web"));
        ASSERT_FALSE(answer.empty()) << "connection " << i << " got no answer";
        answered.insert(std::stoi(field(answer, "pid")));
        EXPECT_EQ(field(answer, "pool"), "web");
        EXPECT_EQ(field(answer, "fds"), "0,1,2,3,4") << "only the contract's descriptors are inherited";
        EXPECT_EQ(field(answer, "pgid"), field(answer, "pid")) << "each worker leads its own process group";
        EXPECT_EQ(field(answer, "cwd"), dir.path().string());
        EXPECT_EQ(field(answer, "sigpipe"), "dfl");
        EXPECT_EQ(field(answer, "FAKE_VALUE"), "from-web");
        EXPECT_EQ(field(answer, "HOME"), "-") << "clear_env: only the pool's env and PATH";
    }
    EXPECT_EQ(answered, pidsOf(status("web")));

    // The output pipe is read independently of the notify pipe: the line may
    // still be on its way.
    const pid_t somePid = *answered.begin();
    EXPECT_TRUE(runUntil(
        [&] {
            return log.contains("^\\[pool web\\] worker " + std::to_string(somePid) + ": fake worker " +
                                std::to_string(somePid) + " of pool web up$");
        },
        5s))
        << "worker stdout is logged line by line with pool and pid";
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + std::to_string(somePid) + " ready after "));
}

TEST_F(SupervisorTest, killed_ready_worker_is_replaced_immediately)
{
    start({pool("web", "serve", 2)});
    ASSERT_TRUE(runUntil([&] { return allReady("web"); }));
    const pid_t victim = status("web").workers.front().pid;

    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    ASSERT_TRUE(runUntil([&] { return allReady("web") && pidsOf(status("web")).count(victim) == 0; }, 5s));

    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + std::to_string(victim) +
                             " killed by SIGKILL after [0-9.]+m?s; restarting$"))
        << "log lines:\n" << log.find("worker " + std::to_string(victim));
    EXPECT_EQ(status("web").startFailures, 0);
    EXPECT_EQ(field(askWorker(socketOf("web")), "pool"), "web");
}

TEST_F(SupervisorTest, worker_failing_at_start_is_retried_with_doubling_delays)
{
    start({pool("broken", "fail-start", 1)});
    const fs::path starts = dir / "broken.starts";
    // Starts at about 0, 100, 300, 700 and 1500 ms; then wait for the fifth
    // death to be reaped and its restart scheduled.
    ASSERT_TRUE(runUntil([&] { return startTimes(starts).size() >= 5 && status("broken").startFailures >= 5; }, 8s))
        << startTimes(starts).size() << " starts";

    const auto times = startTimes(starts);
    long long expected = 100;
    for (std::size_t i = 1; i < 5; ++i, expected *= 2) {
        const long long gap = times[i] - times[i - 1];
        // libevent's timers run on the coarse monotonic clock: a few ms of
        // slack against the precise one the workers report.
        EXPECT_GE(gap, expected - 10) << "start " << i;
        EXPECT_LT(gap, expected + 500) << "start " << i;
    }

    const PoolStatus s = status("broken");
    EXPECT_EQ(s.state, PoolState::Failing);
    EXPECT_FALSE(supervisor->poolAvailable("broken"));
    EXPECT_GE(s.startFailures, 4);
    EXPECT_TRUE(s.nextStartAt.has_value());
    EXPECT_NE(s.lastFailure.find("exited with status 3 before it was ready"), std::string::npos) << s.lastFailure;
    EXPECT_EQ(s.lastFailureOutput, (std::vector<std::string>{"Traceback (most recent call last):",
                                                             "ModuleNotFoundError: No module named 'fake_app'"}));
    EXPECT_TRUE(log.contains("^\\[pool broken\\] worker [0-9]+ exited with status 3 before it was ready after "
                             "[0-9.]+m?s: Traceback \\(most recent call last\\): \\| ModuleNotFoundError: No "
                             "module named 'fake_app'; next try in 400ms$"));
}

TEST_F(SupervisorTest, pool_recovers_and_backoff_resets_once_a_worker_is_ready)
{
    const fs::path fixed = dir / "fixed";
    start({pool("web", "fail-until:" + fixed.string(), 2)});
    ASSERT_TRUE(runUntil([&] { return status("web").startFailures >= 2; }, 5s));
    EXPECT_EQ(status("web").state, PoolState::Failing);

    test::writeFile(fixed, "");
    ASSERT_TRUE(runUntil([&] { return allReady("web"); }, 5s));
    const PoolStatus s = status("web");
    EXPECT_EQ(s.state, PoolState::Running);
    EXPECT_EQ(s.startFailures, 0);
    EXPECT_TRUE(supervisor->poolAvailable("web"));
    EXPECT_FALSE(s.lastFailure.empty()) << "the last failure stays visible after recovery";
}

TEST_F(SupervisorTest, a_failing_pool_leaves_other_pools_serving)
{
    start({pool("broken", "fail-start", 2), pool("web", "serve", 2)});
    ASSERT_TRUE(runUntil([&] { return allReady("web") && status("broken").state == PoolState::Failing; }));
    EXPECT_TRUE(supervisor->poolAvailable("web"));
    EXPECT_FALSE(supervisor->poolAvailable("broken"));
    EXPECT_FALSE(supervisor->poolAvailable("no-such-pool"));
    EXPECT_EQ(field(askWorker(socketOf("web")), "pool"), "web");
    EXPECT_EQ(supervisor->poolNames(), (std::vector<std::string>{"broken", "web"}));
    EXPECT_THROW(status("no-such-pool"), std::out_of_range);
}

TEST_F(SupervisorTest, missing_worker_binary_fails_the_pool_with_the_reason)
{
    const fs::path missing = dir / "no-such-worker";
    start({pool("web", "serve", 1)}, missing);
    ASSERT_TRUE(runUntil([&] { return status("web").state == PoolState::Failing; }, 5s));
    const PoolStatus s = status("web");
    EXPECT_NE(s.lastFailure.find("before it was ready"), std::string::npos) << s.lastFailure;
    ASSERT_FALSE(s.lastFailureOutput.empty());
    EXPECT_EQ(s.lastFailureOutput.back(), "execve(2) " + missing.string() + ": No such file or directory");
}

TEST_F(SupervisorTest, missing_working_dir_is_reported_from_the_child)
{
    PoolConfig config = pool("web", "serve", 1);
    config.working_dir = dir / "missing";
    start({config});
    ASSERT_TRUE(runUntil([&] { return status("web").state == PoolState::Failing; }, 5s));
    const PoolStatus s = status("web");
    EXPECT_NE(s.lastFailure.find("exited with status 127 before it was ready"), std::string::npos)
        << s.lastFailure;
    EXPECT_EQ(s.lastFailureOutput,
              (std::vector<std::string>{"pyfpm-worker setup: chdir(2) " + (dir / "missing").string() +
                                        ": No such file or directory"}));
}

TEST_F(SupervisorTest, stop_terms_then_kills_a_worker_that_ignores_sigterm_and_removes_sockets)
{
    start({pool("stubborn", "ignore-term", 1), pool("web", "serve", 1)});
    ASSERT_TRUE(runUntil([&] { return allReady("stubborn") && allReady("web"); }));
    const pid_t stubborn = status("stubborn").workers.front().pid;
    const pid_t web = status("web").workers.front().pid;

    bool done = false;
    const auto stopAt = std::chrono::steady_clock::now();
    supervisor->stop([&] { done = true; });
    EXPECT_FALSE(done) << "done is called from the loop, not from stop()";
    EXPECT_FALSE(supervisor->poolAvailable("web"));
    ASSERT_TRUE(runUntil([&] { return done; }, 5s));
    const auto took = std::chrono::steady_clock::now() - stopAt;

    // 290: libevent's coarse clock may fire the 300 ms timer a tick early.
    EXPECT_GE(took, 290ms) << "the stubborn worker outlived SIGTERM until SIGKILL";
    EXPECT_LT(took, 2000ms) << "SIGKILL came after the first wait, not the second";
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + std::to_string(web) + " killed by SIGTERM after "));
    EXPECT_TRUE(log.contains("^\\[pool stubborn\\] worker " + std::to_string(stubborn) + " killed by SIGKILL after "));
    EXPECT_TRUE(processGone(stubborn));
    EXPECT_TRUE(processGone(web));
    EXPECT_FALSE(fs::exists(socketOf("web")));
    EXPECT_FALSE(fs::exists(socketOf("stubborn")));
    EXPECT_EQ(status("web").state, PoolState::Stopped);
    EXPECT_EQ(status("stubborn").state, PoolState::Stopped);
}

TEST_F(SupervisorTest, stop_of_a_failing_pool_cancels_the_pending_restart)
{
    start({pool("broken", "fail-start", 1)});
    ASSERT_TRUE(runUntil([&] { return status("broken").nextStartAt.has_value(); }, 5s));
    bool done = false;
    supervisor->stop([&] { done = true; });
    ASSERT_TRUE(runUntil([&] { return done; }, 5s));
    const auto before = startTimes(dir / "broken.starts").size();
    // Longer than the pending backoff delay (at most 200 ms here).
    runUntil([] { return false; }, 400ms);
    EXPECT_EQ(startTimes(dir / "broken.starts").size(), before);
    EXPECT_FALSE(fs::exists(socketOf("broken")));
}

TEST_F(SupervisorTest, start_refuses_a_socket_owned_by_a_live_process_and_spawns_nothing)
{
    test::Fd owner = test::listenUnix(socketOf("b"));
    ASSERT_TRUE(owner);
    SupervisorOptions options;
    supervisor = std::make_unique<Supervisor>(base.get(), PYFPM_FAKE_WORKER, options);
    try {
        supervisor->start({pool("a", "serve", 1), pool("b", "serve", 1)});
        FAIL() << "expected a ListenError";
    } catch (const ListenError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "listen unix:" + socketOf("b").string() + ": another process is listening there");
    }
    EXPECT_FALSE(fs::exists(socketOf("a"))) << "the socket created before the failure is removed";
    EXPECT_FALSE(fs::exists(dir / "a.starts")) << "no worker was spawned";
    EXPECT_TRUE(supervisor->poolNames().empty());
}

TEST_F(SupervisorTest, destroying_the_supervisor_kills_and_reaps_its_workers)
{
    start({pool("web", "ignore-term", 2)});
    ASSERT_TRUE(runUntil([&] { return allReady("web"); }));
    const auto pids = pidsOf(status("web"));
    supervisor.reset();
    for (const pid_t pid : pids) {
        EXPECT_TRUE(processGone(pid)) << pid;
    }
    EXPECT_FALSE(fs::exists(socketOf("web")));
}

}  // namespace
}  // namespace pyfpm::manager
