// What pyfpm-worker writes in its scoreboard slot (manager/scoreboard.hpp)
// as the manager sees it: Starting while the application imports, Idle,
// Busy with the request, the counters after it, Draining on SIGTERM.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <future>
#include <string>

#include "manager/scoreboard.hpp"
#include "manager/worker_contract.hpp"
#include "test/support/fcgi_client.hpp"
#include "test/support/process.hpp"
#include "test/worker/scoreboard_worker.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

using manager::SlotSnapshot;
using manager::SlotState;

bool exitedCleanly(std::optional<int> status)
{
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

TEST(WorkerScoreboard, slot_is_starting_while_the_app_imports_then_idle)
{
    ScoreboardWorker scored("gated_import:app");
    WorkerProcess& worker = scored.worker();
    ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(worker.dir() / "import-started"); }))
        << worker.stderrLog();
    auto slot = scored.slot();
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Starting);
    EXPECT_EQ(slot->pid, worker.process().pid());
    EXPECT_GT(slot->startedAtMs, 0);

    writeFile(worker.dir() / "import-release", "go");
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    ASSERT_TRUE(scored.waitSlot([](const SlotSnapshot& s) { return s.state == SlotState::Idle; }));
    slot = scored.slot();
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->requests, 0U);
    EXPECT_GE(slot->idleSinceMs, slot->startedAtMs);
    EXPECT_LE(slot->idleSinceMs, manager::monotonicMs());
}

TEST(WorkerScoreboard, slow_request_shows_busy_with_its_request_then_is_counted)
{
    ScoreboardWorker scored("probe:app");
    WorkerProcess& worker = scored.worker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    const auto before = manager::monotonicMs();
    auto response = std::async(std::launch::async, [&] {
        return fcgiRequest(worker.socket(), cgiParams("POST", "/slow?id=7", 5), "hello", 30s);
    });
    ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(worker.dir() / "slow-started"); }))
        << worker.stderrLog();
    auto slot = scored.slot();
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Busy);
    EXPECT_EQ(slot->pid, worker.process().pid());
    EXPECT_EQ(slot->method, "POST");
    EXPECT_EQ(slot->uri, "/slow?id=7");
    EXPECT_EQ(slot->contentLength, 5U);
    EXPECT_GE(slot->requestStartedAtMs, before);
    EXPECT_LE(slot->requestStartedAtMs, manager::monotonicMs());
    EXPECT_EQ(slot->requests, 0U);

    writeFile(worker.dir() / "slow-release", "go");
    EXPECT_EQ(response.get().status, 200);
    // The client has its answer a moment before the worker counts it.
    ASSERT_TRUE(scored.waitSlot(
        [](const SlotSnapshot& s) { return s.requests == 1 && s.state == SlotState::Idle; }));
    slot = scored.slot();
    ASSERT_TRUE(slot);
    EXPECT_GT(slot->lastRequestDurationUs, 0U);
    EXPECT_GT(slot->rssBytes, 1U << 20);  // an interpreter is at least a few MiB
    EXPECT_LT(slot->rssBytes, 1ULL << 32);
    EXPECT_EQ(slot->uri, "/slow?id=7");  // the last request stays for the status page
}

TEST(WorkerScoreboard, sigterm_while_idle_marks_the_slot_draining_and_exits_0)
{
    ScoreboardWorker scored("probe:app");
    WorkerProcess& worker = scored.worker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/scheme")).status, 200);
    ASSERT_TRUE(scored.waitSlot([](const SlotSnapshot& s) { return s.state == SlotState::Idle; }));
    worker.process().signal(SIGTERM);
    EXPECT_TRUE(exitedCleanly(worker.process().wait(5s))) << worker.stderrLog();
    // The manager frees the slot when it reaps the worker; until then it
    // keeps what the worker wrote last.
    const auto slot = scored.slot();
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Draining);
    EXPECT_EQ(slot->requests, 1U);
    // No limits, no recycle request.
    EXPECT_EQ(worker.notifyUntilClosed(), worker.readyLine());
}

TEST(WorkerScoreboard, sigterm_during_a_request_shows_draining_once_it_is_finished)
{
    ScoreboardWorker scored("probe:app");
    WorkerProcess& worker = scored.worker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    auto response = std::async(std::launch::async, [&] {
        return fcgiRequest(worker.socket(), cgiParams("GET", "/slow"), {}, 30s);
    });
    ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(worker.dir() / "slow-started"); }))
        << worker.stderrLog();
    worker.process().signal(SIGTERM);
    writeFile(worker.dir() / "slow-release", "go");
    EXPECT_EQ(response.get().status, 200);
    EXPECT_TRUE(exitedCleanly(worker.process().wait(5s))) << worker.stderrLog();
    const auto slot = scored.slot();
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Draining);
    EXPECT_EQ(slot->requests, 1U);
}

TEST(WorkerScoreboard, bad_scoreboard_arguments_exit_2_with_the_reason)
{
    TempDir dir;
    manager::Scoreboard board(2, "bad-args");
    Fd devNull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    Fd listener = listenUnix(dir / "worker.sock");
    struct Case {
        std::vector<std::string> args;
        int fd4;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"--slot", "0"}, -1, "--slot requires --scoreboard-fd"},
        {{"--scoreboard-fd", "4"}, board.fd(), "--scoreboard-fd requires --slot"},
        {{"--scoreboard-fd", "4", "--slot", "2"}, board.fd(), "the slot index is outside the scoreboard"},
        {{"--scoreboard-fd", "4", "--slot", "0"}, devNull.get(), "too small to be a scoreboard"},
    };
    for (const auto& [args, fd4, expected] : cases) {
        Child::Options options;
        options.argv = {workerBinary().string(), "--app", "probe:app"};
        options.argv.insert(options.argv.end(), args.begin(), args.end());
        options.fds = {{0, listener.get()}};
        if (fd4 >= 0) {
            options.fds.emplace_back(manager::contract::kScoreboardFd, fd4);
        }
        options.stderrFile = dir / "stderr.log";
        Child worker(options);
        const auto status = worker.wait(10s);
        ASSERT_TRUE(status);
        EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << describeStatus(*status);
        const std::string log = readFile(dir / "stderr.log");
        EXPECT_NE(log.find(expected), std::string::npos) << log;
    }
}

}  // namespace
}  // namespace pyfpm::test
