// sd_notify(3) as systemd sees it: the test owns the NOTIFY_SOCKET datagram
// socket, runs the real daemon, and reads what it announces at start,
// periodically, on SIGHUP and on SIGTERM.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "src/pyfpm/notify.hpp"
#include "test/daemon/helpers.hpp"
#include "test/support/http_client.hpp"
#include "test/support/process.hpp"

namespace pyfpm::test {
namespace {

using namespace std::chrono_literals;
using daemon::statusLine;
using daemon::WorkerTotals;

TEST(StatusLine, shows_workers_and_leaves_the_rate_out_without_a_previous_sample) {
    WorkerTotals now{.pools = 2, .active = 3, .idle = 5, .accepted = 100, .at = {}};
    EXPECT_EQ(statusLine(now, std::nullopt), "2 pools: 3 active, 5 idle workers");
    now.pools = 1;
    EXPECT_EQ(statusLine(now, std::nullopt), "1 pool: 3 active, 5 idle workers");
}

TEST(StatusLine, rate_is_requests_between_samples_per_second) {
    const auto t0 = std::chrono::steady_clock::time_point{} + 10s;
    WorkerTotals before{.pools = 1, .active = 0, .idle = 2, .accepted = 100, .at = t0};
    WorkerTotals now{.pools = 1, .active = 1, .idle = 1, .accepted = 183, .at = t0 + 2s};
    EXPECT_EQ(statusLine(now, before), "1 pool: 1 active, 1 idle workers; 41.5 req/s");
}

TEST(StatusLine, counter_reset_by_a_reload_counts_from_zero) {
    const auto t0 = std::chrono::steady_clock::time_point{} + 10s;
    WorkerTotals before{.pools = 1, .active = 0, .idle = 2, .accepted = 500, .at = t0};
    WorkerTotals now{.pools = 1, .active = 0, .idle = 2, .accepted = 4, .at = t0 + 2s};
    EXPECT_EQ(statusLine(now, before), "1 pool: 0 active, 2 idle workers; 2.0 req/s");
}

// The service manager's end of NOTIFY_SOCKET: a bound unix datagram socket.
class NotifySocket {
public:
    NotifySocket() : path_(dir_ / "notify.sock"), fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
        if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("cannot bind " + path_.string());
    }
    const std::filesystem::path& path() const { return path_; }

    // The next datagram, or "" after `timeout`.
    std::string receive(std::chrono::milliseconds timeout) {
        pollfd pfd{fd_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) return "";
        char buffer[4096];
        const auto n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
    }

    // Receives until a message matches `pattern`, keeping all seen in
    // `seen`; "" if none does before `timeout`.
    std::string waitFor(const std::string& pattern, std::chrono::milliseconds timeout) {
        const std::regex re(pattern);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            auto message = receive(std::max(left, 1ms));
            if (message.empty()) continue;
            seen.push_back(message);
            if (std::regex_search(message, re)) return message;
        }
        return "";
    }

    std::vector<std::string> seen;

private:
    TempDir dir_;
    std::filesystem::path path_;
    Fd fd_;
};

std::string joined(const std::vector<std::string>& messages) {
    std::string out;
    for (const auto& m : messages) out += "[" + m + "]\n";
    return out;
}

class Notify : public ::testing::Test {
protected:
    void SetUp() override { ::setenv("NOTIFY_SOCKET", notify_.path().c_str(), 1); }
    void TearDown() override { ::unsetenv("NOTIFY_SOCKET"); }

    NotifySocket notify_;
};

TEST_F(Notify, daemon_announces_ready_status_reloading_and_stopping) {
    Daemon daemon(webPoolConfig("    pm: static\n    max_children: 2\n"));
    daemon.start();

    const auto ready = notify_.waitFor("(^|\n)READY=1(\n|$)", 10s);
    ASSERT_NE(ready, "") << joined(notify_.seen) << daemon.log();
    EXPECT_TRUE(std::regex_search(ready, std::regex("STATUS=1 pool: \\d+ active, \\d+ idle workers")))
        << ready;

    // Requests between two STATUS= lines show as a rate above zero.
    for (int i = 0; i < 10; ++i) ASSERT_EQ(httpRequest("GET", daemon.url("hello")).status, 200);
    const auto status =
        notify_.waitFor("STATUS=1 pool: \\d+ active, \\d+ idle workers; (?!0\\.0 )\\d+\\.\\d req/s", 10s);
    EXPECT_NE(status, "") << joined(notify_.seen);

    daemon.process().signal(SIGHUP);
    const auto reloading = notify_.waitFor("(^|\n)RELOADING=1(\n|$)", 10s);
    ASSERT_NE(reloading, "") << joined(notify_.seen) << daemon.log();
    EXPECT_TRUE(std::regex_search(reloading, std::regex("(^|\n)MONOTONIC_USEC=[1-9][0-9]*(\n|$)"))) << reloading;
    EXPECT_NE(notify_.waitFor("(^|\n)READY=1(\n|$)", 20s), "") << joined(notify_.seen) << daemon.log();

    daemon.process().signal(SIGTERM);
    EXPECT_NE(notify_.waitFor("(^|\n)STOPPING=1(\n|$)", 10s), "") << joined(notify_.seen) << daemon.log();
    EXPECT_TRUE(daemon.process().wait(20s).has_value());
}

TEST_F(Notify, invalid_reload_still_ends_with_ready) {
    Daemon daemon(webPoolConfig("    pm: static\n    max_children: 1\n"));
    daemon.start();
    ASSERT_NE(notify_.waitFor("(^|\n)READY=1(\n|$)", 10s), "") << joined(notify_.seen);

    writeFile(daemon.configFile(), "pools: [this is not a mapping of pools]\n");
    daemon.process().signal(SIGHUP);
    ASSERT_NE(notify_.waitFor("(^|\n)RELOADING=1(\n|$)", 10s), "") << joined(notify_.seen);
    // Otherwise systemd would show the unit "reloading" for ever.
    const auto after = notify_.waitFor("(^|\n)READY=1(\n|$)", 10s);
    ASSERT_NE(after, "") << joined(notify_.seen) << daemon.log();
    EXPECT_NE(after.find("STATUS=Reload failed"), std::string::npos) << after;
    EXPECT_EQ(httpRequest("GET", daemon.url("hello")).status, 200);
}

}  // namespace
}  // namespace pyfpm::test
