// pyfpm-worker's slowlog: on SIGUSR2 it appends the Python stack of its main
// thread to the --slowlog file (manager/worker_contract.hpp kSlowlogSignal),
// and the request in progress goes on undisturbed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <future>
#include <string>

#include "test/support/fcgi_client.hpp"
#include "test/support/process.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

bool exitedCleanly(std::optional<int> status)
{
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

std::size_t count(const std::string& text, const std::string& what)
{
    std::size_t found = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) {
        ++found;
    }
    return found;
}

WorkerProcess limitsWorker(std::vector<std::string> extraArgs)
{
    return WorkerProcess("limits_app:app", {WorkerProcess::testApps().string()}, {}, std::move(extraArgs));
}

TEST(WorkerSlowlog, sigusr2_appends_the_running_stack_and_the_request_still_succeeds)
{
    TempDir logs;
    const fs::path slowlog = logs / "slow.log";
    writeFile(slowlog, "header written by the manager\n");
    WorkerProcess worker = limitsWorker({"--slowlog", slowlog.string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    auto response = std::async(std::launch::async, [&] {
        return fcgiRequest(worker.socket(), cgiParams("GET", "/slow-function"), {}, 30s);
    });
    ASSERT_TRUE(waitUntil([&] { return fs::exists(worker.dir() / "slow-started"); })) << worker.stderrLog();

    for (int dump = 1; dump <= 2; ++dump) {
        worker.process().signal(SIGUSR2);
        ASSERT_TRUE(waitUntil([&] { return count(readFile(slowlog), "\n\n") == static_cast<std::size_t>(dump); }))
            << readFile(slowlog);
    }
    writeFile(worker.dir() / "slow-release", "go");
    const FcgiResponse done = response.get();
    EXPECT_EQ(done.status, 200);
    EXPECT_EQ(done.body, "slow done");

    const std::string log = readFile(slowlog);
    EXPECT_EQ(log.rfind("header written by the manager\nStack (most recent call first):\n", 0), 0U) << log;
    EXPECT_EQ(count(log, "Stack (most recent call first):"), 2U) << log;
    EXPECT_EQ(count(log, "in slow_function_name"), 2U) << log;
    EXPECT_NE(log.find("limits_app.py\", line"), std::string::npos) << log;
    EXPECT_EQ(log.substr(log.size() - 2), "\n\n") << log;

    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/hello")).body, "hello");
    worker.process().signal(SIGTERM);
    EXPECT_TRUE(exitedCleanly(worker.process().wait(5s))) << worker.stderrLog();
}

TEST(WorkerSlowlog, signal_caught_by_another_thread_dumps_the_main_thread)
{
    TempDir logs;
    const fs::path slowlog = logs / "slow.log";
    WorkerProcess worker = limitsWorker({"--slowlog", slowlog.string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    const FcgiResponse response = fcgiRequest(worker.socket(), cgiParams("GET", "/thread-signal"));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "signalled");
    ASSERT_TRUE(waitUntil([&] { return count(readFile(slowlog), "\n\n") == 1; })) << readFile(slowlog);
    const std::string log = readFile(slowlog);
    EXPECT_NE(log.find("in thread_signal"), std::string::npos) << log;
    EXPECT_EQ(log.find("in signal_myself"), std::string::npos) << log;
}

TEST(WorkerSlowlog, sigusr2_without_a_slowlog_neither_kills_nor_disturbs)
{
    WorkerProcess worker = limitsWorker({});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    auto response = std::async(std::launch::async, [&] {
        return fcgiRequest(worker.socket(), cgiParams("GET", "/slow-function"), {}, 30s);
    });
    ASSERT_TRUE(waitUntil([&] { return fs::exists(worker.dir() / "slow-started"); })) << worker.stderrLog();
    // Caught, not left at its default action (which terminates).
    const std::string status = readFile("/proc/" + std::to_string(worker.process().pid()) + "/status");
    const auto caught = status.find("SigCgt:\t");
    ASSERT_NE(caught, std::string::npos) << status;
    const auto mask = std::stoull(status.substr(caught + 8, 16), nullptr, 16);
    EXPECT_NE(mask & (1ULL << (SIGUSR2 - 1)), 0U) << status;

    worker.process().signal(SIGUSR2);
    writeFile(worker.dir() / "slow-release", "go");
    EXPECT_EQ(response.get().body, "slow done");
    EXPECT_TRUE(worker.process().running());
}

TEST(WorkerSlowlog, slowlog_that_cannot_be_opened_is_a_warning_not_a_failure)
{
    TempDir logs;
    const fs::path slowlog = logs / "missing-dir" / "slow.log";
    WorkerProcess worker = limitsWorker({"--slowlog", slowlog.string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/hello")).body, "hello");
    EXPECT_NE(worker.stderrLog().find("open(2) " + slowlog.string() +
                                      ": No such file or directory; serving without a slowlog"),
              std::string::npos)
        << worker.stderrLog();
}

}  // namespace
}  // namespace pyfpm::test
