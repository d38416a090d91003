// The daemon keeps its pools serving: a killed worker is replaced, a pool
// that cannot import its app backs off without hurting the others, and a
// stop lets the request in flight finish and leaves no process behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

std::vector<pid_t> waitForWorkers(Daemon& daemon, std::size_t count) {
    std::vector<pid_t> pids;
    waitUntil([&] {
        pids = childrenOf(daemon.pid());
        return pids.size() == count;
    });
    return pids;
}

TEST(Supervision, KilledWorkerCostsOnlyItsOwnRequestAndIsReplaced) {
    Daemon daemon(kBridgeConfig);
    fs::create_directories(daemon.dir() / "static");
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("pool running")) << daemon.log();
    const auto before = waitForWorkers(daemon, 2);
    ASSERT_EQ(before.size(), 2u);

    // 50 requests of 40 ms on 2 workers: about a second of work, queued in
    // the pool socket's backlog. One worker is killed while they run.
    constexpr int kRequests = 50;
    std::atomic<int> ok{0};
    std::atomic<int> badGateway{0};
    std::atomic<int> other{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < kRequests; ++i) {
        clients.emplace_back([&, i] {
            const auto mark = i == 0 ? "&mark=first" : "";
            try {
                const HttpResponse r = httpRequest("GET", daemon.url(std::string("/sleep?ms=40") + mark));
                (r.status == 200 ? ok : r.status == 502 ? badGateway : other)++;
            } catch (const std::exception&) {
                other++;
            }
        });
    }
    ASSERT_TRUE(waitUntil([&] { return fs::exists(daemon.dir() / "first"); }));
    const pid_t victim = before[0];
    ::kill(victim, SIGKILL);
    for (auto& t : clients) t.join();

    // A worker serves one request at a time: at most the one it held fails.
    EXPECT_LE(badGateway.load(), 1);
    EXPECT_EQ(other.load(), 0);
    EXPECT_GE(ok.load(), kRequests - 1);
    EXPECT_TRUE(daemon.waitForLog("worker " + std::to_string(victim) + " killed by SIGKILL"))
        << daemon.log();

    const auto after = waitForWorkers(daemon, 2);
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(std::count(after.begin(), after.end(), victim), 0);
    ASSERT_TRUE(daemon.waitForLog("pool running|worker \\d+ ready")) << daemon.log();

    int succeeded = 0;
    for (int i = 0; i < 100; ++i) succeeded += httpRequest("GET", daemon.url("/hello")).status == 200;
    EXPECT_EQ(succeeded, 100);
}

TEST(Supervision, PoolThatCannotImportBacksOffAnswers503AndSparesTheOthers) {
    Daemon daemon(R"(
http:
  listen: 127.0.0.1:{{port}}
  routes:
    - {prefix: /, pool: web}
    - {prefix: /broken/, pool: broken}
pools:
  web:
    app: bridge_app:app
    python_path: ["{{source}}/test/daemon/apps"]
    listen: web.sock
    max_children: 1
  broken:
    app: broken:app
    python_path: ["{{source}}/test/daemon/apps"]
    listen: broken.sock
    max_children: 2
)");
    daemon.start();
    // Two failed rounds: the second retry comes later than the first.
    ASSERT_TRUE(daemon.waitForLog(R"(\[pool broken\] worker \d+ exited with status 3.*next try in 100ms)"))
        << daemon.log();
    ASSERT_TRUE(daemon.waitForLog(R"(\[pool broken\] .*next try in 200ms)")) << daemon.log();
    EXPECT_TRUE(daemon.waitForLog("broken.py refuses to load on purpose")) << daemon.log();
    EXPECT_TRUE(daemon.waitForLog(R"(\[pool broken\] pool failing)")) << daemon.log();

    const HttpResponse unavailable = httpRequest("GET", daemon.url("/broken/hello"));
    EXPECT_EQ(unavailable.status, 503);
    EXPECT_TRUE(daemon.process().running());

    const HttpResponse healthy = httpRequest("GET", daemon.url("/hello"));
    EXPECT_EQ(healthy.status, 200);
    EXPECT_EQ(healthy.body, "Hello, world!");
}

TEST(Supervision, SigtermLetsTheRequestInFlightFinishThenExitsZero) {
    Daemon daemon(kBridgeConfig);
    fs::create_directories(daemon.dir() / "static");
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("pool running")) << daemon.log();
    const auto workers = waitForWorkers(daemon, 2);

    HttpResponse slow;
    std::thread client([&] { slow = httpRequest("GET", daemon.url("/sleep?ms=2000&mark=started")); });
    ASSERT_TRUE(waitUntil([&] { return fs::exists(daemon.dir() / "started"); }));
    daemon.process().signal(SIGTERM);
    client.join();

    EXPECT_EQ(slow.status, 200);
    EXPECT_EQ(slow.body, "slept 2000");
    const auto status = daemon.process().wait(20s);
    ASSERT_TRUE(status.has_value()) << "daemon still running; log:\n" << daemon.log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
    for (const pid_t pid : workers) EXPECT_FALSE(processAlive(pid)) << "worker " << pid << " outlived the daemon";
    EXPECT_FALSE(fs::exists(daemon.dir() / "web.sock")) << "the pool socket was not removed";
}

TEST(Supervision, WorkersDieWithASigkilledDaemon) {
    Daemon daemon(kBridgeConfig);
    fs::create_directories(daemon.dir() / "static");
    daemon.start();
    const auto workers = waitForWorkers(daemon, 2);
    ASSERT_EQ(workers.size(), 2u);
    daemon.process().signal(SIGKILL);
    ASSERT_TRUE(daemon.process().wait(5s).has_value());
    for (const pid_t pid : workers) {
        EXPECT_TRUE(waitUntil([&] { return !processAlive(pid); }, 10s))
            << "worker " << pid << " outlived a SIGKILLed daemon";
    }
}

TEST(Supervision, ErrorLogIsReopenedOnSigusr1AfterARotation) {
    Daemon daemon("error_log: pyfpm-error.log\n" + webPoolConfig("    max_children: 1\n"));
    daemon.start();
    const fs::path log = daemon.dir() / "pyfpm-error.log";
    ASSERT_TRUE(waitUntil([&] { return readFile(log).find("pool running") != std::string::npos; }))
        << readFile(log);
    // logrotate without copytruncate: rename, then signal.
    fs::rename(log, daemon.dir() / "pyfpm-error.log.1");
    daemon.process().signal(SIGUSR1);
    ASSERT_TRUE(waitUntil([&] { return readFile(log).find("log reopened") != std::string::npos; }))
        << "no new log file";
    EXPECT_EQ(readFile(daemon.dir() / "pyfpm-error.log.1").find("log reopened"), std::string::npos);
    // Lines after the rotation go to the new file.
    ASSERT_EQ(httpRequest("GET", daemon.url("/error")).status, 500);
    EXPECT_TRUE(waitUntil([&] { return readFile(log).find("raised on purpose") != std::string::npos; }))
        << readFile(log);
}

}  // namespace
}  // namespace pyfpm::test
