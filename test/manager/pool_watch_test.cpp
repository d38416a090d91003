// What a pool's maintenance tick does about running requests and crashes,
// with real fake_worker processes: request_timeout stops a hung worker and
// the pool is back to size, slowlog_timeout writes the slowlog header and
// the worker's stack once per request, and emergency_restart_threshold
// restarts a pool whose workers keep dying of SIGSEGV.
#include <chrono>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "test/manager/supervisor_fixture.hpp"

namespace pyfpm::manager {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::field;
using testing::HeldRequest;
using testing::pidsOf;
using testing::processGone;

class PoolWatchTest : public testing::SupervisorFixture {
protected:
    std::vector<std::string> fileLines(const fs::path& path)
    {
        std::vector<std::string> lines;
        if (!fs::exists(path)) {
            return lines;
        }
        std::istringstream in(test::readFile(path));
        for (std::string line; std::getline(in, line);) {
            lines.push_back(line);
        }
        return lines;
    }
};

TEST_F(PoolWatchTest, request_over_request_timeout_is_stopped_and_the_pool_refilled)
{
    PoolConfig config = pool("web", "hang", 2);  // hang: SIGTERM is not enough
    config.request_timeout = 400ms;
    start({config});
    ASSERT_TRUE(runUntil([&] { return settled("web", 2); }));

    HeldRequest request(socketOf("web"), "GET", "/report");
    ASSERT_TRUE(runUntil([&] { return request.answered(); }));
    const pid_t hung = std::stoi(field(request.answer(), "pid"));
    const std::string victim = std::to_string(hung);

    // The client's connection ends with the worker: it is never left hanging.
    ASSERT_TRUE(runUntil([&] { return request.closedByWorker(); }, 5s));
    ASSERT_TRUE(runUntil([&] { return settled("web", 2) && pidsOf(status("web")).count(hung) == 0; }, 5s));
    EXPECT_TRUE(processGone(hung));
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + victim +
                             " busy for [0-9.]+m?s serving GET /report \\(request_timeout 400ms\\); SIGTERM now, "
                             "SIGKILL in 300ms if it is still there$"));
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + victim +
                             " still running 300ms after SIGTERM \\(stopped over request_timeout\\); sending "
                             "SIGKILL to its process group$"));
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + victim +
                             " stopped over request_timeout: killed by SIGKILL after [0-9.]+m?s$"));
    EXPECT_EQ(status("web").timeoutKills, 1u);
    EXPECT_EQ(status("web").restarts, 0u) << "a stopped worker is not an unexpected exit";
}

TEST_F(PoolWatchTest, slow_request_gets_one_slowlog_header_and_the_workers_stack)
{
    PoolConfig config = pool("web", "hold", 1);
    config.slowlog_timeout = 200ms;
    config.slowlog = dir / "slow.log";
    start({config});
    ASSERT_TRUE(runUntil([&] { return settled("web", 1); }));

    HeldRequest slow(socketOf("web"), "POST", "/report?year=2026");
    ASSERT_TRUE(runUntil([&] { return slow.answered(); }));
    const std::string pid = field(slow.answer(), "pid");
    ASSERT_TRUE(runUntil([&] { return fileLines(config.slowlog).size() >= 2; }, 5s));
    auto lines = fileLines(config.slowlog);
    EXPECT_TRUE(std::regex_match(lines[0], std::regex("\\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\] "
                                                      "\\[pool web\\] pid " +
                                                      pid + ": POST /report\\?year=2026 running [0-9.]+m?s; stack:")))
        << lines[0];
    EXPECT_EQ(lines[1], "fake stack of pid " + pid) << "the worker appends its stack after the header";
    EXPECT_EQ(status("web").slowRequests, 1u);

    // Ticks go on while the request runs: still one report.
    runFor(300ms);
    EXPECT_EQ(fileLines(config.slowlog).size(), 2u);
    EXPECT_EQ(status("web").slowRequests, 1u);

    // The next slow request is reported too.
    slow.close();
    HeldRequest next(socketOf("web"), "GET", "/next");
    ASSERT_TRUE(runUntil([&] { return next.answered() && status("web").slowRequests == 2; }, 5s));
    ASSERT_TRUE(runUntil([&] { return fileLines(config.slowlog).size() >= 4; }, 5s));
    lines = fileLines(config.slowlog);
    EXPECT_NE(lines[2].find("GET /next running "), std::string::npos) << lines[2];
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + pid + " serving GET /next for [0-9.]+m?s "
                             "\\(slowlog_timeout 200ms\\); its stack goes to "));
}

TEST_F(PoolWatchTest, workers_dying_of_sigsegv_restart_the_pool_at_the_threshold)
{
    SupervisorOptions options = quickOptions();
    options.emergencyRestartThreshold = 3;
    options.emergencyRestartInterval = 10s;
    start({pool("web", "hold", 2)}, options);
    ASSERT_TRUE(runUntil([&] { return settled("web", 2); }));

    std::set<pid_t> before;
    for (int crash = 1; crash <= 3; ++crash) {
        before = pidsOf(status("web"));
        HeldRequest request(socketOf("web"), "SEGV", "/crash");
        ASSERT_TRUE(runUntil([&] { return request.closedByWorker() && status("web").restarts == std::uint64_t(crash); },
                             5s))
            << "crash " << crash;
        if (crash < 3) {
            ASSERT_TRUE(runUntil([&] { return settled("web", 2); }));
            EXPECT_EQ(status("web").emergencyRestarts, 0u) << "crash " << crash << " is below the threshold";
        }
    }
    ASSERT_TRUE(runUntil([&] { return status("web").emergencyRestarts == 1; }, 5s));
    EXPECT_TRUE(log.contains("^\\[pool web\\] 3 workers died of SIGSEGV or SIGBUS within 10s "
                             "\\(emergency_restart_threshold 3\\); restarting the pool: stopping its [0-9]+ "
                             "workers?, starting 2 workers$"));
    // From scratch: none of the workers that were there before the last
    // crash is left.
    ASSERT_TRUE(runUntil([&] {
        const auto now = pidsOf(status("web"));
        return settled("web", 2) && std::none_of(before.begin(), before.end(), [&](pid_t p) { return now.count(p); });
    }));
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker [0-9]+ stopped by an emergency restart: killed by SIGTERM after "));
    EXPECT_EQ(status("web").state, PoolState::Running);
}

}  // namespace
}  // namespace pyfpm::manager
