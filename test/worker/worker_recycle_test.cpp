// pyfpm-worker's recycling limits: after --max-requests requests, or after a
// request that leaves its RSS above --max-rss, the worker asks the manager
// once, on the notify pipe, to recycle it ("recycle REASON VALUE\n",
// manager/worker_contract.hpp), and serves on until SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

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

bool exitedCleanly(std::optional<int> status)
{
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

// Stops the worker and returns all it wrote on the notify pipe.
std::string stopAndCollect(WorkerProcess& worker)
{
    worker.process().signal(SIGTERM);
    EXPECT_TRUE(exitedCleanly(worker.process().wait(5s))) << worker.stderrLog();
    return worker.notifyUntilClosed();
}

TEST(WorkerRecycle, max_requests_asks_once_after_the_nth_request_and_keeps_serving)
{
    WorkerProcess worker("limits_app:app", {WorkerProcess::testApps().string()}, {},
                         {"--max-requests", "3"});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/hello")).status, 200);
    }
    EXPECT_TRUE(worker.waitNotify("recycle max_requests 3\n")) << worker.stderrLog();
    for (int i = 0; i < 2; ++i) {
        const FcgiResponse after = fcgiRequest(worker.socket(), cgiParams("GET", "/hello"));
        EXPECT_EQ(after.status, 200);
        EXPECT_EQ(after.body, "hello");
    }
    EXPECT_EQ(stopAndCollect(worker), worker.readyLine() + "recycle max_requests 3\n");
    EXPECT_NE(worker.stderrLog().find("served 3 requests (max_requests 3); asked the manager to recycle it"),
              std::string::npos)
        << worker.stderrLog();
}

TEST(WorkerRecycle, max_requests_without_a_notify_pipe_only_logs)
{
    TempDir dir;
    Fd listener = listenUnix(dir / "worker.sock");
    Child::Options options;
    options.argv = {workerBinary().string(), "--app", "limits_app:app", "--python-path",
                    WorkerProcess::testApps().string(), "--pool", "byhand", "--max-requests", "1"};
    options.fds = {{0, listener.get()}};
    options.stderrFile = dir / "stderr.log";
    Child worker(options);
    // The socket listens already: the request waits in its queue while the
    // worker starts.
    EXPECT_EQ(fcgiRequest(dir / "worker.sock", cgiParams("GET", "/hello"), {}, 20s).status, 200);
    EXPECT_EQ(fcgiRequest(dir / "worker.sock", cgiParams("GET", "/hello")).status, 200);
    worker.signal(SIGTERM);
    EXPECT_TRUE(exitedCleanly(worker.wait(5s)));
    const std::string log = readFile(dir / "stderr.log");
    EXPECT_NE(log.find("served 1 requests (max_requests 1); no manager to ask (no --notify-fd); serving on"),
              std::string::npos)
        << log;
}

TEST(WorkerRecycle, max_rss_asks_once_when_a_request_leaves_the_worker_above_it)
{
    constexpr std::uint64_t kLimit = 96ULL << 20;
    ScoreboardWorker scored("limits_app:app", {"--max-rss", std::to_string(kLimit)});
    WorkerProcess& worker = scored.worker();
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();

    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/leak?mb=0")).status, 200);
    ASSERT_TRUE(scored.waitSlot([](const SlotSnapshot& s) { return s.requests == 1; }));
    const std::uint64_t baseline = scored.slot()->rssBytes;
    ASSERT_GT(baseline, 0U);
    ASSERT_LT(baseline, kLimit) << "the test needs an interpreter smaller than the limit";

    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/leak?mb=128")).body, "kept 128 MiB");
    ASSERT_TRUE(worker.waitNotify("recycle max_rss ")) << worker.stderrLog();
    ASSERT_TRUE(scored.waitSlot([](const SlotSnapshot& s) { return s.requests == 2; }));
    const std::uint64_t leaked = scored.slot()->rssBytes;
    EXPECT_GT(leaked, kLimit);

    // Still above the limit, still serving, and not asking again.
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/leak?mb=1")).body, "kept 129 MiB");
    EXPECT_EQ(stopAndCollect(worker), worker.readyLine() + "recycle max_rss " + std::to_string(leaked) + "\n");
    EXPECT_NE(worker.stderrLog().find("after GET /leak?mb=128 exceeds max_rss 96.0 MiB; asked the manager"),
              std::string::npos)
        << worker.stderrLog();
}

}  // namespace
}  // namespace pyfpm::test
