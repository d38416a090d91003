// The bridge's kept channels to its workers (src/pyfpm/http/channels.hpp,
// manager/worker_contract.hpp): requests go to idle workers over one kept
// connection each, wait in the bridge when every worker is busy, and count
// in the pool's queue; workers that die or leave do not cost a request.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

// webPoolConfig's http section with the status path.
std::string withStatus(const std::string& config) {
    std::string out = config;
    const std::string routes = "  routes: [{prefix: /, pool: web}]\n";
    out.replace(out.find(routes), routes.size(), routes + "  status_path: /status\n");
    return out;
}

int readyWorkers(const Daemon& daemon) {
    const std::string log = daemon.log();
    int count = 0;
    for (std::size_t at = log.find(" ready after "); at != std::string::npos;
         at = log.find(" ready after ", at + 1)) {
        ++count;
    }
    return count;
}

TEST(Channels, SequentialRequestsStayWithTheMostRecentlyUsedWorker) {
    // Over the shared pool socket, whichever idle worker wins accept(2)
    // serves; over channels the bridge picks, and picks the worker it used
    // last, so that the other stays idle (and pm dynamic may stop it).
    Daemon daemon(webPoolConfig("    pm: static\n    max_children: 2\n"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return readyWorkers(daemon) == 2; }, 20s)) << daemon.log();
    std::set<std::string> pids;
    for (int i = 0; i < 30; ++i) {
        const HttpResponse r = httpRequest("GET", daemon.url("/pid"));
        ASSERT_EQ(r.status, 200) << r.body;
        pids.insert(r.body);
    }
    EXPECT_EQ(pids.size(), 1u) << daemon.log();
}

TEST(Channels, ConcurrentRequestsGoToDifferentWorkers) {
    Daemon daemon(webPoolConfig("    pm: static\n    max_children: 2\n    env: {PYFPM_TEST_DIR: \"{{dir}}\"}\n"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return readyWorkers(daemon) == 2; }, 20s)) << daemon.log();
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (const char* mark : {"a", "b"}) {
        clients.emplace_back([&, mark] {
            ok += httpRequest("GET", daemon.url(std::string("/sleep?ms=500&mark=") + mark)).status == 200;
        });
    }
    for (auto& client : clients) client.join();
    EXPECT_EQ(ok.load(), 2);
    const auto readMark = [&](const char* name) {
        std::ifstream in(daemon.dir() / name);
        std::string pid;
        in >> pid;
        return pid;
    };
    EXPECT_FALSE(readMark("a").empty());
    EXPECT_NE(readMark("a"), readMark("b")) << "one worker served both: the second waited behind the first";
}

TEST(Channels, RequestsWaitingForABusyWorkerShowInTheStatusQueue) {
    Daemon daemon(withStatus(webPoolConfig("    pm: static\n    max_children: 1\n    env: {PYFPM_TEST_DIR: \"{{dir}}\"}\n")));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return readyWorkers(daemon) == 1; }, 20s)) << daemon.log();
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    clients.emplace_back([&] { ok += httpRequest("GET", daemon.url("/sleep?ms=2500&mark=long")).status == 200; });
    ASSERT_TRUE(waitUntil([&] { return fs::exists(daemon.dir() / "long"); }, 10s));
    for (int i = 0; i < 3; ++i) {
        clients.emplace_back([&] { ok += httpRequest("GET", daemon.url("/hello")).status == 200; });
    }
    int seen = -1;
    const bool queued = waitUntil(
        [&] {
            const HttpResponse r = httpRequest("GET", daemon.url("/status?json"));
            if (r.status != 200) return false;
            seen = nlohmann::json::parse(r.body)["pools"][0].value("listen queue", -1);
            return seen == 3;
        },
        5s);
    for (auto& client : clients) client.join();
    EXPECT_TRUE(queued) << "listen queue was " << seen;
    EXPECT_EQ(ok.load(), 4) << daemon.log();
}

TEST(Channels, OndemandStartsAWorkerForARequestWaitingInTheBridge) {
    // The first worker is busy; a second request must not wait behind it
    // while max_children allows another worker.
    Daemon daemon(webPoolConfig(
        "    pm: ondemand\n    max_children: 2\n    process_idle_timeout: 60s\n    env: {PYFPM_TEST_DIR: \"{{dir}}\"}\n"));
    daemon.start();
    ASSERT_EQ(httpRequest("GET", daemon.url("/hello")).status, 200) << daemon.log();
    ASSERT_TRUE(waitUntil([&] { return readyWorkers(daemon) == 1; }, 20s)) << daemon.log();
    std::atomic<bool> longDone{false};
    std::thread longRequest([&] {
        EXPECT_EQ(httpRequest("GET", daemon.url("/sleep?ms=4000&mark=long")).status, 200);
        longDone = true;
    });
    ASSERT_TRUE(waitUntil([&] { return fs::exists(daemon.dir() / "long"); }, 10s));
    const HttpResponse second = httpRequest("GET", daemon.url("/pid"));
    const bool beforeLong = !longDone.load();
    longRequest.join();
    EXPECT_EQ(second.status, 200);
    EXPECT_TRUE(beforeLong) << "the second request waited for the first worker" << daemon.log();
    std::ifstream in(daemon.dir() / "long");
    std::string longPid;
    in >> longPid;
    EXPECT_NE(second.body, longPid);
}

TEST(Channels, AWorkerKilledWhileIdleCostsNoRequest) {
    Daemon daemon(webPoolConfig("    pm: static\n    max_children: 2\n"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return readyWorkers(daemon) == 2; }, 20s)) << daemon.log();
    for (int round = 0; round < 3; ++round) {
        const HttpResponse r = httpRequest("GET", daemon.url("/pid"));
        ASSERT_EQ(r.status, 200);
        // The worker the bridge will pick next (the most recently used).
        ASSERT_EQ(::kill(static_cast<pid_t>(std::stoi(r.body)), SIGKILL), 0);
        for (int i = 0; i < 5; ++i) {
            const HttpResponse after = httpRequest("GET", daemon.url("/hello"));
            EXPECT_EQ(after.status, 200) << after.body << daemon.log();
        }
    }
}

TEST(Channels, WorkersLeaveAtOnceWhenTheDaemonStops) {
    // A stopping worker serves its channel until the bridge closes it; the
    // bridge does so when the manager tells the worker to stop, so a stop
    // does not wait for the worker's linger.
    Daemon daemon(webPoolConfig("    pm: static\n    max_children: 2\n"));
    daemon.start();
    ASSERT_TRUE(waitUntil([&] { return readyWorkers(daemon) == 2; }, 20s)) << daemon.log();
    std::vector<std::thread> clients;
    for (int i = 0; i < 2; ++i) {
        clients.emplace_back([&] { EXPECT_EQ(httpRequest("GET", daemon.url("/sleep?ms=200")).status, 200); });
    }
    for (auto& client : clients) client.join();
    const auto started = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(daemon.pid(), SIGTERM), 0);
    ASSERT_TRUE(waitUntil([&] { return !processAlive(daemon.pid()); }, 10s)) << daemon.log();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms) << daemon.log();
}

}  // namespace
}  // namespace pyfpm::test
