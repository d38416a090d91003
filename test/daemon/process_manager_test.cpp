// Issue 4's process manager with real workers behind the daemon's bridge:
// dynamic and ondemand scaling, recycling by requests and by memory, hung
// requests killed at request_timeout, and the slowlog.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

// The pool keys every test here adds: the test dir for marker files.
std::string poolConfig(const std::string& poolKeys) {
    return webPoolConfig("    env: {PYFPM_TEST_DIR: \"{{dir}}\"}\n" + poolKeys);
}

std::size_t workerCount(Daemon& daemon) { return childrenOf(daemon.pid()).size(); }

// Runs `count` GETs of `path` spread over `threads` threads; returns how many
// did not answer 200.
int loadFailures(Daemon& daemon, const std::string& path, int count, int threads) {
    std::atomic<int> next{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            while (next++ < count) {
                try {
                    if (httpRequest("GET", daemon.url(path)).status != 200) failures++;
                } catch (const std::exception&) {
                    failures++;
                }
            }
        });
    }
    for (auto& t : pool) t.join();
    return failures.load();
}

TEST(ProcessManager, DynamicPoolGrowsUnderLoadAndShrinksWhenIdle) {
    Daemon daemon(poolConfig(R"(    pm: dynamic
    max_children: 4
    start_servers: 1
    min_spare_servers: 1
    max_spare_servers: 2
)"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return workerCount(daemon) == 1; })) << daemon.log();

    // Four requests of 3 s: one worker is busy and three connections wait
    // in the queue, so the manager spawns up to max_children.
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
        clients.emplace_back([&] { ok += httpRequest("GET", daemon.url("/sleep?ms=3000")).status == 200; });
    }
    EXPECT_TRUE(waitUntil([&] { return workerCount(daemon) == 4; }, 10s))
        << workerCount(daemon) << " workers; log:\n" << daemon.log();
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), 4);

    // Idle now: above max_spare_servers, one idle worker goes per tick.
    EXPECT_TRUE(waitUntil([&] { return workerCount(daemon) == 2; }, 15s))
        << workerCount(daemon) << " workers; log:\n" << daemon.log();
    EXPECT_EQ(httpRequest("GET", daemon.url("/hello")).status, 200);
}

TEST(ProcessManager, OndemandScalesToZeroAfterIdleTimeoutAndServesTheNextRequest) {
    Daemon daemon(poolConfig(R"(    pm: ondemand
    max_children: 2
    process_idle_timeout: 1s
)"));
    daemon.start();
    EXPECT_EQ(workerCount(daemon), 0u) << "ondemand starts no worker";

    const auto before = std::chrono::steady_clock::now();
    const HttpResponse first = httpRequest("GET", daemon.url("/hello"));
    const auto firstLatency = std::chrono::steady_clock::now() - before;
    EXPECT_EQ(first.status, 200);
    EXPECT_GE(workerCount(daemon), 1u);
    RecordProperty("first_request_ms",
                   static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(firstLatency).count()));

    EXPECT_TRUE(waitUntil([&] { return workerCount(daemon) == 0; }, 10s))
        << "still " << workerCount(daemon) << " workers; log:\n" << daemon.log();
    EXPECT_EQ(httpRequest("GET", daemon.url("/hello")).status, 200);
}

TEST(ProcessManager, MaxRequestsRecyclesUnderLoadWithoutAFailedRequest) {
    Daemon daemon(poolConfig(R"(    pm: static
    max_children: 2
    max_requests: 20
    max_requests_jitter: 5
)"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return workerCount(daemon) == 2; })) << daemon.log();
    const auto original = childrenOf(daemon.pid());

    EXPECT_EQ(loadFailures(daemon, "/hello", 300, 4), 0) << daemon.log();
    EXPECT_TRUE(daemon.waitForLog("recycl.*max_requests")) << daemon.log();
    // Every original worker reached its limit (at most 25) long ago.
    ASSERT_TRUE(waitUntil([&] {
        for (pid_t pid : original) {
            if (processAlive(pid)) return false;
        }
        return true;
    })) << daemon.log();
    EXPECT_TRUE(waitUntil([&] { return workerCount(daemon) == 2; })) << daemon.log();
}

TEST(ProcessManager, MaxRssRecyclesAWorkerThatLeaks) {
    Daemon daemon(poolConfig(R"(    pm: static
    max_children: 1
    max_rss: 96MiB
)"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return workerCount(daemon) == 1; })) << daemon.log();
    const pid_t leaky = childrenOf(daemon.pid()).at(0);

    // 16 MiB more per request: past 96 MiB after a handful.
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(httpRequest("GET", daemon.url("/leak?mb=16")).status, 200) << daemon.log();
    }
    EXPECT_TRUE(daemon.waitForLog("recycl.*max_rss")) << daemon.log();
    EXPECT_TRUE(waitUntil([&] { return !processAlive(leaky); }, 15s)) << daemon.log();
    EXPECT_EQ(httpRequest("GET", daemon.url("/hello")).status, 200);
}

TEST(ProcessManager, HungRequestIsKilledAtRequestTimeoutWith504) {
    Daemon daemon(poolConfig(R"(    pm: static
    max_children: 2
    request_timeout: 2s
)"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return workerCount(daemon) == 2; })) << daemon.log();

    const auto before = std::chrono::steady_clock::now();
    const HttpResponse r = httpRequest("GET", daemon.url("/sleep?ms=60000&mark=hung"));
    const auto waited = std::chrono::steady_clock::now() - before;
    EXPECT_EQ(r.status, 504);
    EXPECT_LT(waited, 10s);

    const pid_t hung = std::stoi(readFile(daemon.dir() / "hung"));
    EXPECT_TRUE(daemon.waitForLog("worker " + std::to_string(hung) + ".*GET /sleep\\?ms=60000"))
        << daemon.log();
    EXPECT_TRUE(waitUntil([&] { return !processAlive(hung); }, 10s)) << "the hung worker lives on";
    EXPECT_TRUE(waitUntil([&] { return workerCount(daemon) == 2; })) << daemon.log();
    EXPECT_EQ(httpRequest("GET", daemon.url("/hello")).status, 200);
}

TEST(ProcessManager, SlowRequestLeavesItsPythonStackInTheSlowlog) {
    Daemon daemon(poolConfig(R"(    pm: static
    max_children: 1
    slowlog_timeout: 500ms
    slowlog: slow.log
)"));
    daemon.start();
    const HttpResponse r = httpRequest("GET", daemon.url("/slow?ms=2500"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "slow done");
    const fs::path slowlog = daemon.dir() / "slow.log";
    ASSERT_TRUE(waitUntil([&] {
        return readFile(slowlog).find("slow_function_for_the_slowlog") != std::string::npos;
    })) << readFile(slowlog) << "\nlog:\n" << daemon.log();
    const std::string text = readFile(slowlog);
    EXPECT_NE(text.find("GET /slow?ms=2500"), std::string::npos) << text;
    EXPECT_NE(text.find("bridge_app.py"), std::string::npos) << text;
    EXPECT_NE(text.find("[pool web]"), std::string::npos) << text;
}

}  // namespace
}  // namespace pyfpm::test
