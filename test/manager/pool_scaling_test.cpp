// The pools' scaling with real fake_worker processes: the scoreboard a
// static pool fills, pm dynamic growing under a queue and shrinking when
// idle, pm ondemand scaling to zero and spawning on a pending connection,
// and the max_children_reached counter.
#include <algorithm>
#include <chrono>
#include <list>

#include <gtest/gtest.h>

#include "test/manager/supervisor_fixture.hpp"

namespace pyfpm::manager {
namespace {

using namespace std::chrono_literals;
using testing::field;
using testing::HeldRequest;
using testing::holdRequest;
using testing::pidsOf;

class PoolScalingTest : public testing::SupervisorFixture {
protected:
    const WorkerStatus* workerOf(const PoolStatus& s, pid_t pid)
    {
        const auto found =
            std::find_if(s.workers.begin(), s.workers.end(), [&](const WorkerStatus& w) { return w.pid == pid; });
        return found != s.workers.end() ? &*found : nullptr;
    }

    std::size_t countLines(const std::string& pattern) const
    {
        return testing::matchingLines(log.lines(), pattern).size();
    }
};

TEST_F(PoolScalingTest, static_pool_fills_its_scoreboard_and_shows_the_running_request)
{
    start({pool("web", "hold", 3)});
    ASSERT_TRUE(runUntil([&] { return settled("web", 3) && status("web").idleWorkers == 3; }))
        << status("web").idleWorkers << " idle";
    for (const auto& worker : status("web").workers) {
        EXPECT_EQ(worker.activity, SlotState::Idle) << worker.pid;
        EXPECT_EQ(worker.requests, 0u) << worker.pid;
    }

    HeldRequest request(socketOf("web"), "GET", "/report?x=1");
    ASSERT_TRUE(runUntil([&] { return request.answered() && status("web").busyWorkers == 1; }));
    const pid_t busy = std::stoi(field(request.answer(), "pid"));
    {
        const PoolStatus s = status("web");
        const WorkerStatus* worker = workerOf(s, busy);
        ASSERT_NE(worker, nullptr);
        EXPECT_EQ(worker->activity, SlotState::Busy);
        EXPECT_EQ(worker->method, "GET");
        EXPECT_EQ(worker->uri, "/report?x=1");
        EXPECT_EQ(s.idleWorkers, 2);
        EXPECT_EQ(s.maxActiveProcesses, 1);
    }

    request.close();
    ASSERT_TRUE(runUntil([&] {
        const PoolStatus s = status("web");
        const WorkerStatus* worker = workerOf(s, busy);
        return worker != nullptr && worker->requests == 1 && s.idleWorkers == 3 && s.listenQueue >= 0;
    })) << "and a maintenance tick measured the listen queue";
    const PoolStatus s = status("web");
    EXPECT_EQ(s.acceptedConnections, 1u);
    EXPECT_GT(workerOf(s, busy)->rssBytes, 0u) << "the worker reports its RSS after a request";
    EXPECT_EQ(s.maxChildrenReached, 0u);
    EXPECT_EQ(s.pm, ProcessManager::Static);
    EXPECT_EQ(s.listenBacklog, 511) << "listen_backlog, as the kernel reports it";
    EXPECT_EQ(s.listenQueue, 0);
}

TEST_F(PoolScalingTest, dynamic_pool_grows_under_a_queue_and_shrinks_when_idle)
{
    PoolConfig config = pool("web", "hold", 5);
    config.pm = ProcessManager::Dynamic;
    config.start_servers = 1;
    config.min_spare_servers = 1;
    config.max_spare_servers = 2;
    config.max_spawn_rate = 4;
    start({config});
    ASSERT_TRUE(runUntil([&] { return settled("web", 1); }));

    // Three requests held at once: two wait in the accept queue until the
    // pool spawns for them, and one more worker stays spare.
    std::list<HeldRequest> held;
    for (int i = 0; i < 3; ++i) {
        held.emplace_back(socketOf("web"), "GET", "/hold/" + std::to_string(i));
        ASSERT_TRUE(held.back().connected());
    }
    ASSERT_TRUE(runUntil([&] {
        return std::all_of(held.begin(), held.end(), [](HeldRequest& r) { return r.answered(); }) &&
               status("web").busyWorkers == 3 && status("web").idleWorkers >= 1;
    })) << status("web").workers.size() << " workers";
    EXPECT_LE(status("web").workers.size(), 5u);
    EXPECT_EQ(status("web").maxActiveProcesses, 3);
    EXPECT_TRUE(log.contains("^\\[pool web\\] spawning [0-9]+ workers? \\(pm dynamic: 0 idle, [0-9]+ busy, 0 starting, "
                             "[0-9]+ waiting in the queue\\)$"));

    for (auto& request : held) {
        request.close();
    }
    // Idle 4 > max_spare_servers 2: one idle worker stopped per tick.
    ASSERT_TRUE(runUntil([&] { return settled("web", 2); }, 5s)) << status("web").workers.size() << " workers";
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker [0-9]+ idle; stopping it \\(pm dynamic: [0-9]+ idle, "
                             "max_spare_servers 2\\)$"));
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker [0-9]+ scaled down: killed by SIGTERM after "));
    // And it stays at two.
    runFor(300ms);
    EXPECT_TRUE(settled("web", 2));
    EXPECT_EQ(status("web").acceptedConnections, 3u);
}

TEST_F(PoolScalingTest, ondemand_scales_to_zero_after_process_idle_timeout_and_serves_the_next_request)
{
    PoolConfig config = pool("web", "hold", 3);
    config.pm = ProcessManager::Ondemand;
    config.process_idle_timeout = 300ms;
    start({config});
    runFor(100ms);
    EXPECT_TRUE(status("web").workers.empty()) << "ondemand starts with no worker";
    EXPECT_EQ(status("web").state, PoolState::Running);
    EXPECT_TRUE(supervisor->poolAvailable("web"));

    HeldRequest first(socketOf("web"), "GET", "/first");
    ASSERT_TRUE(runUntil([&] { return first.answered(); }, 5s));
    first.close();
    ASSERT_TRUE(runUntil([&] { return status("web").workers.empty(); }, 5s));
    EXPECT_TRUE(log.contains("^\\[pool web\\] worker [0-9]+ idle; stopping it \\(pm ondemand: 1 idle, "
                             "process_idle_timeout 300ms\\)$"));
    EXPECT_EQ(status("web").state, PoolState::Running);

    HeldRequest second(socketOf("web"), "GET", "/second");
    ASSERT_TRUE(runUntil([&] { return second.answered(); }, 5s)) << "the first request after scaling to zero";
    EXPECT_EQ(status("web").acceptedConnections, 1u) << "the second is still running";
}

TEST_F(PoolScalingTest, ondemand_spawns_for_each_pending_connection_without_waiting_for_the_tick)
{
    PoolConfig config = pool("web", "hold", 3);
    config.pm = ProcessManager::Ondemand;
    SupervisorOptions options = quickOptions();
    options.maintenanceInterval = 30s;  // only the listening socket can wake the pool
    start({config}, options);

    const auto started = std::chrono::steady_clock::now();
    HeldRequest first(socketOf("web"), "GET", "/first");
    ASSERT_TRUE(runUntil([&] { return first.answered(); }, 5s));
    // A second connection while the only worker is busy: spawned for too.
    HeldRequest second(socketOf("web"), "GET", "/second");
    ASSERT_TRUE(runUntil([&] { return second.answered(); }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(status("web").workers.size(), 2u);
    EXPECT_NE(field(first.answer(), "pid"), field(second.answer(), "pid"));
}

TEST_F(PoolScalingTest, full_pool_counts_max_children_reached_and_warns_once_per_interval)
{
    start({pool("web", "hold", 2)});
    ASSERT_TRUE(runUntil([&] { return settled("web", 2); }));
    std::list<HeldRequest> held;
    for (int i = 0; i < 3; ++i) {
        held.emplace_back(socketOf("web"), "GET", "/busy");
    }
    ASSERT_TRUE(runUntil([&] { return status("web").maxChildrenReached == 1; }, 5s));
    EXPECT_TRUE(log.contains("^\\[pool web\\] server reached max_children \\(2\\): 1 waiting in the queue, the "
                             "oldest request running for [0-9.]+m?s; requests wait until a worker is free"));
    // Ticks go on while it lasts: one episode, one warning.
    runFor(300ms);
    EXPECT_EQ(status("web").maxChildrenReached, 1u);
    EXPECT_EQ(countLines("server reached max_children"), 1u);
    EXPECT_EQ(status("web").maxListenQueue, 1);

    held.front().close();
    ASSERT_TRUE(runUntil([&] {
        return std::all_of(std::next(held.begin()), held.end(), [](HeldRequest& r) { return r.answered(); });
    })) << "the queued connection is served once a worker is free";
    ASSERT_TRUE(runUntil([&] { return status("web").listenQueue == 0; }));
}

}  // namespace
}  // namespace pyfpm::manager
