// Command pools under a real Supervisor: a libfcgi responder (and /bin/sh
// for programs that fail) as any spawn-fcgi program, on fd 0 with nothing
// past fd 2; ready at exec; restarted, backed off when it dies at once;
// pm dynamic and ondemand driven by the accept queue; stopped by SIGTERM.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "manager/command_policy.hpp"
#include "test/manager/supervisor_fixture.hpp"
#include "test/support/fcgi_client.hpp"

namespace pyfpm::manager {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::pidsOf;

// The descriptors `pid` has open, from /proc.
std::set<int> descriptorsOf(pid_t pid)
{
    std::set<int> fds;
    for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        fds.insert(std::stoi(entry.path().filename().string()));
    }
    return fds;
}

std::string linkOf(pid_t pid, int fd)
{
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd)).string();
}

// The value of "key=value" lines in the responder's answer.
std::string valueOf(const std::string& body, const std::string& key)
{
    const std::string prefix = key + "=";
    std::size_t at = 0;
    while (at < body.size()) {
        const std::size_t end = std::min(body.find('\n', at), body.size());
        if (body.compare(at, prefix.size(), prefix) == 0) {
            return body.substr(at + prefix.size(), end - at - prefix.size());
        }
        at = end + 1;
    }
    return "(no " + key + ")";
}

class CommandPoolTest : public testing::SupervisorFixture {
protected:
    PoolConfig commandPool(const std::string& name, std::vector<std::string> command, int maxChildren)
    {
        PoolConfig config = pool(name, "", maxChildren);
        config.kind = PoolKind::Command;
        config.app.clear();
        config.command = std::move(command);
        config.env = {{"COMMAND_TEST_VALUE", "from-" + name}};
        return config;
    }

    std::string serve(const std::string& name, const std::string& uri = "/")
    {
        return test::fcgiRequest(socketOf(name), test::cgiParams("GET", uri)).body;
    }

    std::size_t countLines(const std::string& pattern) const
    {
        return testing::matchingLines(log.lines(), pattern).size();
    }

    // Silent clients: connected, never writing, so they wait in the accept
    // queue (or hold the worker that accepted one, which libfcgi gives up
    // on after 2 s without a first byte, or at once when the client closes).
    std::vector<test::Fd> connectSilently(const std::string& name, int count)
    {
        std::vector<test::Fd> clients;
        for (int i = 0; i < count; ++i) {
            clients.push_back(test::connectUnix(socketOf(name)));
            EXPECT_TRUE(clients.back()) << "connection " << i;
        }
        return clients;
    }
};

TEST_F(CommandPoolTest, static_pool_runs_max_children_ready_at_exec_with_descriptors_0_1_2_only)
{
    start({commandPool("cmd", {COMMAND_RESPONDER, "--flag", "two words"}, 2)});
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 2); }));
    const PoolStatus s = status("cmd");
    EXPECT_EQ(s.kind, PoolKind::Command);
    EXPECT_EQ(s.state, PoolState::Running);
    EXPECT_EQ(s.busyWorkers, 2) << "a running command worker counts as active";
    EXPECT_EQ(s.idleWorkers, 0);
    for (const auto& worker : s.workers) {
        EXPECT_FALSE(worker.detail) << worker.pid;
        EXPECT_EQ(worker.activity, SlotState::Busy) << worker.pid;
        EXPECT_EQ(worker.requests, 0u) << worker.pid;
        // The dynamic loader of a worker exec'd a moment ago may still hold
        // a library open (on a loaded machine, for a while).
        const std::set<int> stdio{0, 1, 2};
        EXPECT_TRUE(test::waitUntil([&] { return descriptorsOf(worker.pid) == stdio; }, 5s))
            << "no notify pipe, no scoreboard, nothing of the daemon's; descriptor 3 is "
            << linkOf(worker.pid, 3);
        EXPECT_EQ(linkOf(worker.pid, 0).rfind("socket:", 0), 0u) << linkOf(worker.pid, 0);
        EXPECT_EQ(linkOf(worker.pid, 1).rfind("pipe:", 0), 0u) << linkOf(worker.pid, 1);
        EXPECT_EQ(linkOf(worker.pid, 1), linkOf(worker.pid, 2)) << "stdout and stderr share the output pipe";
    }

    const std::string body = serve("cmd", "/x?y=1");
    EXPECT_TRUE(pidsOf(s).count(std::stoi(valueOf(body, "pid")))) << body;
    EXPECT_EQ(valueOf(body, "argv"), "--flag two words");
    EXPECT_EQ(valueOf(body, "env"), "from-cmd");
    EXPECT_EQ(valueOf(body, "home"), "-") << "clear_env: the daemon's HOME is not passed";
    EXPECT_EQ(fs::path(valueOf(body, "cwd")), fs::canonical(dir.path())) << "working_dir";
    EXPECT_EQ(valueOf(body, "fds"), "0,1,2,3") << "3 is the connection libfcgi accepted";
    EXPECT_EQ(valueOf(body, "query"), "y=1");

    // Its stderr reaches the log with the pool and pid put in front.
    for (const pid_t pid : pidsOf(s)) {
        const std::string p = std::to_string(pid);
        EXPECT_TRUE(runUntil([&] { return log.contains("\\[pool cmd\\] worker " + p + ": responder " + p + " started"); }))
            << p;
    }
    EXPECT_TRUE(log.contains("\\[pool cmd\\] listening on unix:.*; pm static; starting 2 workers of .*command-responder"));
}

TEST_F(CommandPoolTest, ignored_worker_contract_keys_are_named_in_one_warning_at_start)
{
    PoolConfig config = commandPool("cmd", {COMMAND_RESPONDER}, 1);
    config.max_requests = 100;
    config.max_rss = 1 << 30;
    start({config});
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 1); }));
    EXPECT_TRUE(log.contains("\\[pool cmd\\] max_requests, max_rss ignored: a command pool's program keeps no "
                             "scoreboard"));
    const PoolStatus s = status("cmd");
    EXPECT_EQ(s.limits.maxRequests, 0) << "status shows what applies";
    EXPECT_EQ(s.limits.maxRssBytes, 0u);
}

TEST_F(CommandPoolTest, a_worker_killed_after_it_settled_is_restarted_at_once_and_serves)
{
    start({commandPool("cmd", {COMMAND_RESPONDER}, 1)});
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 1); }));
    const pid_t victim = *pidsOf(status("cmd")).begin();
    runFor(kCommandSettleTime + 100ms);
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 1) && !pidsOf(status("cmd")).count(victim); }));
    const PoolStatus s = status("cmd");
    EXPECT_EQ(s.restarts, 1u);
    EXPECT_EQ(s.startFailures, 0) << "a settled worker's death is no failed start";
    EXPECT_TRUE(log.contains("worker " + std::to_string(victim) + " killed by SIGKILL after .*; restarting"));
    EXPECT_EQ(valueOf(serve("cmd"), "pid"), std::to_string(*pidsOf(s).begin()));
}

TEST_F(CommandPoolTest, a_program_that_exits_at_once_backs_off_and_says_why)
{
    start({commandPool("bad", {"/bin/sh", "-c", "echo 'usage: no such flag' >&2; exit 2"}, 2)});
    ASSERT_TRUE(runUntil([&] { return status("bad").startFailures >= 3 && status("bad").state == PoolState::Failing; },
                         5s));
    EXPECT_FALSE(supervisor->poolAvailable("bad")) << "the bridge answers 503";
    const PoolStatus s = status("bad");
    EXPECT_EQ(s.restarts, 0u);
    EXPECT_TRUE(std::regex_search(s.lastFailure, std::regex("^worker \\d+ exited with status 2 [0-9.]+m?s after it "
                                                            "started \\(a command worker must run 1s")))
        << s.lastFailure;
    EXPECT_TRUE(std::count(s.lastFailureOutput.begin(), s.lastFailureOutput.end(), "usage: no such flag"))
        << "its last words";
    // Rounds of two workers, 100 ms then 200 ms then 400 ms apart: a
    // handful of spawns, not a fork loop.
    EXPECT_LE(countLines("\\[pool bad\\] worker \\d+ started$"), 2u * 5u);
}

TEST_F(CommandPoolTest, an_exec_failure_is_a_failed_start)
{
    start({commandPool("gone", {(dir / "no-such-program").string()}, 1)});
    ASSERT_TRUE(runUntil([&] { return status("gone").state == PoolState::Failing; }));
    EXPECT_TRUE(std::regex_search(status("gone").lastFailure, std::regex("before it was ready")))
        << status("gone").lastFailure;
    EXPECT_TRUE(log.contains("execve\\(2\\) .*no-such-program: No such file or directory"));
}

TEST_F(CommandPoolTest, dynamic_pool_grows_on_its_accept_queue_and_shrinks_after_a_quiet_process_idle_timeout)
{
    PoolConfig config = commandPool("cmd", {COMMAND_RESPONDER}, 3);
    config.pm = ProcessManager::Dynamic;
    config.start_servers = 1;
    config.min_spare_servers = 1;
    config.max_spare_servers = 1;
    config.process_idle_timeout = 300ms;
    start({config});
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 1); }));

    // Six connections nobody serves: one held by the worker, five queued.
    std::vector<test::Fd> clients = connectSilently("cmd", 6);
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 3) && status("cmd").maxChildrenReached >= 1; }))
        << status("cmd").readyWorkers << " ready";
    EXPECT_TRUE(log.contains("\\[pool cmd\\] spawning 1 worker \\(pm dynamic: 1 running, 0 starting, [1-9]\\d* "
                             "waiting in the queue\\)"));
    EXPECT_TRUE(log.contains("\\[pool cmd\\] server reached max_children \\(3\\): \\d+ waiting in the queue; "))
        << "no oldest request: nobody knows it";

    clients.clear();  // each worker sees EOF and accepts the next, and the queue empties
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 1); }, 10s));
    EXPECT_EQ(countLines("\\[pool cmd\\] worker \\d+ stopped: the accept queue has been empty for over 300ms \\(pm "
                         "dynamic: \\d running, keeping at least 1\\)"),
              2u);
    runFor(500ms);
    EXPECT_TRUE(settled("cmd", 1)) << "start_servers stays";
    EXPECT_FALSE(serve("cmd").empty());
}

TEST_F(CommandPoolTest, ondemand_pool_starts_on_a_waiting_connection_and_scales_to_zero)
{
    PoolConfig config = commandPool("cmd", {COMMAND_RESPONDER}, 2);
    config.pm = ProcessManager::Ondemand;
    config.process_idle_timeout = 300ms;
    start({config});
    runFor(200ms);
    EXPECT_TRUE(status("cmd").workers.empty());
    EXPECT_EQ(status("cmd").state, PoolState::Running) << "no worker is how ondemand waits";

    std::vector<test::Fd> clients = connectSilently("cmd", 1);
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 1); }));
    clients.clear();
    EXPECT_FALSE(serve("cmd").empty());
    ASSERT_TRUE(runUntil([&] { return status("cmd").workers.empty(); }, 5s));
    EXPECT_TRUE(log.contains("\\[pool cmd\\] worker \\d+ stopped: the accept queue has been empty for over 300ms"));
}

TEST_F(CommandPoolTest, stop_ends_libfcgi_workers_with_sigterm_alone)
{
    start({commandPool("cmd", {COMMAND_RESPONDER}, 2)});
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 2); }));
    const std::set<pid_t> pids = pidsOf(status("cmd"));
    // Once it says so, libfcgi has its SIGTERM handler (before, SIGTERM
    // simply kills it, which is as good for a stop).
    for (const pid_t pid : pids) {
        ASSERT_TRUE(runUntil([&] { return log.contains("responder " + std::to_string(pid) + " started"); }));
    }
    bool done = false;
    const auto began = std::chrono::steady_clock::now();
    supervisor->stop([&] { done = true; });
    ASSERT_TRUE(runUntil([&] { return done; }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - began, testing::kQuickStop[0].wait)
        << "gone on SIGTERM, before the SIGKILL step";
    for (const pid_t pid : pids) {
        EXPECT_TRUE(testing::processGone(pid)) << pid;
        EXPECT_TRUE(log.contains("worker " + std::to_string(pid) + " exited with status 0")) << pid;
    }
    EXPECT_FALSE(log.contains("SIGKILL"));
}

TEST_F(CommandPoolTest, reload_replaces_command_workers_and_the_old_ones_leave)
{
    start({commandPool("cmd", {COMMAND_RESPONDER}, 2)});
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 2); }));
    const std::set<pid_t> before = pidsOf(status("cmd"));

    PoolConfig changed = commandPool("cmd", {COMMAND_RESPONDER, "--second"}, 2);
    std::optional<std::vector<std::string>> errors;
    supervisor->reload({changed}, [&](std::vector<std::string> e) { errors = std::move(e); });
    ASSERT_TRUE(runUntil([&] { return errors.has_value(); }));
    EXPECT_TRUE(errors->empty()) << errors->front();
    ASSERT_TRUE(runUntil([&] {
        return std::all_of(before.begin(), before.end(), [](pid_t pid) { return testing::processGone(pid); });
    }, 5s));
    ASSERT_TRUE(runUntil([&] { return settled("cmd", 2); }));
    EXPECT_EQ(valueOf(serve("cmd"), "argv"), "--second");
}

}  // namespace
}  // namespace pyfpm::manager
