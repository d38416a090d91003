// Recycling with real fake_worker processes: a worker that reached
// max_requests leaves only after its replacement is ready, at most
// maxConcurrentRecycles() recycles run at once, and no request fails.
#include <algorithm>
#include <chrono>
#include <list>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "manager/recycling.hpp"
#include "test/manager/supervisor_fixture.hpp"

namespace pyfpm::manager {
namespace {

using namespace std::chrono_literals;
using testing::field;
using testing::HeldRequest;
using testing::holdRequest;
using testing::pidsOf;

class PoolRecycleTest : public testing::SupervisorFixture {
protected:
    // Holds one request on each of `count` workers at once, then lets them
    // all finish: every worker serves exactly one more request.
    void oneRequestEach(const std::string& name, int count)
    {
        std::list<HeldRequest> held;
        for (int i = 0; i < count; ++i) {
            held.emplace_back(socketOf(name), "GET", "/round");
        }
        ASSERT_TRUE(runUntil(
            [&] { return std::all_of(held.begin(), held.end(), [](HeldRequest& r) { return r.answered(); }); }));
        std::set<std::string> pids;
        for (const auto& request : held) {
            pids.insert(field(request.answer(), "pid"));
        }
        ASSERT_EQ(pids.size(), static_cast<std::size_t>(count)) << "one request per worker";
    }
};

TEST_F(PoolRecycleTest, max_requests_recycles_one_at_a_time_with_the_replacement_ready_first)
{
    PoolConfig config = pool("web", "hold", 4);
    config.max_requests = 2;
    ASSERT_EQ(maxConcurrentRecycles(config), 1);
    start({config});
    ASSERT_TRUE(runUntil([&] { return settled("web", 4); }));
    const std::set<pid_t> original = pidsOf(status("web"));

    oneRequestEach("web", 4);
    // The second request of each worker reaches its limit: all four ask to
    // be recycled at once, and they go one after the other.
    oneRequestEach("web", 4);

    int failed = 0;
    int served = 0;
    int leastServing = 4;
    ASSERT_TRUE(runUntil(
        [&] {
            // Load while the pool recycles: every request is answered.
            (holdRequest(socketOf("web")).empty() ? failed : served) += 1;
            const PoolStatus s = status("web");
            leastServing = std::min(leastServing, s.readyWorkers);
            std::set<pid_t> current = pidsOf(s);
            const bool allNew = std::none_of(original.begin(), original.end(),
                                             [&](pid_t pid) { return current.count(pid) != 0; });
            return allNew && settled("web", 4) && s.recycles.count("max_requests") != 0 &&
                   s.recycles.at("max_requests") >= 4;
        },
        15s))
        << status("web").recycles.size();
    EXPECT_EQ(failed, 0) << served << " served";
    EXPECT_GE(leastServing, 4) << "capacity never dips";

    // The log, in order: each recycle spawns a replacement, the replacement
    // gets ready, then the old one is told to go; never two at once.
    const auto lines = log.lines();
    int inProgress = 0;
    int most = 0;
    std::map<std::string, std::string> replacementOf;  // old pid -> new pid
    const std::regex spawned("worker ([0-9]+) spawned to replace worker ([0-9]+) \\(max_requests 2\\)$");
    const std::regex leaving("worker ([0-9]+) ready; recycling worker ([0-9]+) \\(max_requests 2\\): SIGTERM");
    const std::regex gone("worker ([0-9]+) recycled \\(max_requests 2\\): ");
    std::set<std::string> readyPids;
    const std::regex ready("worker ([0-9]+) ready after ");
    for (const auto& line : lines) {
        std::smatch m;
        if (std::regex_search(line, m, spawned)) {
            replacementOf[m[2]] = m[1];
            most = std::max(most, ++inProgress);
        } else if (std::regex_search(line, m, ready)) {
            readyPids.insert(m[1]);
        } else if (std::regex_search(line, m, leaving)) {
            EXPECT_EQ(replacementOf[m[2]], m[1].str());
            EXPECT_EQ(readyPids.count(m[1]), 1u) << "replacement " << m[1] << " ready before " << m[2] << " leaves";
        } else if (std::regex_search(line, m, gone)) {
            EXPECT_TRUE(replacementOf.count(m[1])) << m[1] << " left before a replacement existed";
            --inProgress;
        }
    }
    EXPECT_GE(replacementOf.size(), 4u) << "replacements under the load recycle too";
    EXPECT_EQ(most, 1) << "at most maxConcurrentRecycles() recycles at once";
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker [0-9]+ asks to be recycled \\(max_requests 2\\); it serves "
                             "until its turn \\(1 of at most 1 recycles in progress\\)$"));
    EXPECT_EQ(status("web").restarts, 0u) << "recycled workers are not counted as crashes";
}

TEST_F(PoolRecycleTest, a_recycle_request_is_counted_by_its_reason)
{
    start({pool("web", "hold", 2)});
    ASSERT_TRUE(runUntil([&] { return settled("web", 2); }));
    HeldRequest request(socketOf("web"), "RECYCLE", "/leak");
    ASSERT_TRUE(runUntil([&] { return request.answered(); }));
    const pid_t old = std::stoi(field(request.answer(), "pid"));
    // Its replacement is ready and it was told to go, but it finishes the
    // request it serves.
    ASSERT_TRUE(runUntil([&] {
        const PoolStatus s = status("web");
        return s.readyWorkers == 2 && s.stoppingWorkers == 1 && s.workers.size() == 3;
    }));
    runFor(100ms);
    EXPECT_FALSE(request.closedByWorker()) << "the recycled worker is not cut off mid-request";
    EXPECT_EQ(status("web").stoppingWorkers, 1);
    request.close();
    ASSERT_TRUE(runUntil([&] { return settled("web", 2) && pidsOf(status("web")).count(old) == 0; }));
    EXPECT_EQ(status("web").recycles, (std::map<std::string, std::uint64_t>{{"max_rss", 1}}));
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker " + std::to_string(old) +
                             " recycled \\(max_rss 1\\): killed by SIGTERM after "));
    EXPECT_EQ(status("web").acceptedConnections, 1u) << "a reaped worker's requests still count";
}

}  // namespace
}  // namespace pyfpm::manager
