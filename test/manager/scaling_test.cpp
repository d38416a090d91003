// Scaling decisions (manager/scaling.hpp) over scripted scenarios: a pool
// model applies each decision, load is scripted per tick and time is
// injected, so no process runs and nothing sleeps.
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "manager/scaling.hpp"

namespace pyfpm::manager {
namespace {

using namespace std::chrono_literals;

constexpr auto kTick = 1s;  // php-fpm's maintenance heartbeat

PoolConfig dynamicPool(int maxChildren, int minSpare, int maxSpare, int startServers)
{
    PoolConfig config;
    config.name = "web";
    config.pm = ProcessManager::Dynamic;
    config.max_children = maxChildren;
    config.min_spare_servers = minSpare;
    config.max_spare_servers = maxSpare;
    config.start_servers = startServers;
    return config;
}

PoolConfig ondemandPool(int maxChildren, std::chrono::milliseconds idleTimeout)
{
    PoolConfig config;
    config.name = "web";
    config.pm = ProcessManager::Ondemand;
    config.max_children = maxChildren;
    config.process_idle_timeout = idleTimeout;
    return config;
}

PoolConfig staticPool(int maxChildren)
{
    PoolConfig config;
    config.name = "web";
    config.pm = ProcessManager::Static;
    config.max_children = maxChildren;
    return config;
}

// A pool as the Pool class would keep it: spawned workers are ready by the
// next tick, `demand` concurrent requests keep that many workers busy, and
// the connections no worker takes wait in the listen queue.
class PoolModel {
public:
    explicit PoolModel(PoolConfig config, bool queueMeasured = true)
        : config_(std::move(config)), queue_measured_(queueMeasured)
    {
        addIdle(initialWorkers(config_));
    }

    // Advances the clock by `step`, applies the load, decides and applies.
    ScaleDecision tick(int demand, std::chrono::milliseconds step = kTick)
    {
        now_ += step;
        ScalingInput input;
        int busy = std::min<int>(demand, static_cast<int>(workers_.size()));
        for (auto& worker : workers_) {
            const bool nowBusy = busy-- > 0;
            if (worker.busy && !nowBusy) {
                worker.idleSince = now_;
            }
            worker.busy = nowBusy;
            if (worker.busy) {
                ++input.busy;
            } else {
                input.idle.push_back({worker.pid, worker.idleSince});
            }
        }
        input.listenQueue = queue_measured_ ? std::max(0, demand - static_cast<int>(workers_.size())) : -1;
        input.spawnRate = spawn_rate_;

        const ScaleDecision decision = decideScale(config_, input, now_);
        for (pid_t pid : decision.stop) {
            auto found = std::find_if(workers_.begin(), workers_.end(), [&](const auto& w) { return w.pid == pid; });
            EXPECT_NE(found, workers_.end()) << "asked to stop unknown pid " << pid;
            if (found != workers_.end()) {
                EXPECT_FALSE(found->busy) << "asked to stop busy pid " << pid;
                workers_.erase(found);
            }
        }
        addIdle(decision.spawn);
        spawn_rate_ = decision.nextSpawnRate;
        EXPECT_LE(total(), config_.max_children);
        return decision;
    }

    int total() const { return static_cast<int>(workers_.size()); }
    Clock::time_point now() const { return now_; }

private:
    struct Worker {
        pid_t pid;
        bool busy;
        Clock::time_point idleSince;
    };

    void addIdle(int count)
    {
        for (int i = 0; i < count; ++i) {
            workers_.push_back({next_pid_++, false, now_});
        }
    }

    PoolConfig config_;
    bool queue_measured_;
    Clock::time_point now_{};
    int spawn_rate_ = 1;
    pid_t next_pid_ = 1000;
    std::vector<Worker> workers_;
};

// --- initialWorkers ---------------------------------------------------------

TEST(InitialWorkers, static_starts_max_children_dynamic_start_servers_ondemand_none)
{
    EXPECT_EQ(initialWorkers(staticPool(7)), 7);
    EXPECT_EQ(initialWorkers(dynamicPool(20, 2, 8, 5)), 5);
    EXPECT_EQ(initialWorkers(ondemandPool(9, 10s)), 0);
}

// --- dynamic ----------------------------------------------------------------

TEST(DynamicScaling, grows_under_load_with_a_doubling_spawn_rate_until_max_children)
{
    // Queue unknown: php-fpm's rule alone (fewer idle than min_spare_servers).
    PoolModel pool(dynamicPool(20, 5, 10, 5), false);
    std::vector<int> spawned;
    std::vector<int> totals;
    ScaleDecision decision;
    for (int tick = 0; tick < 5; ++tick) {
        decision = pool.tick(100);
        EXPECT_FALSE(decision.maxChildrenReached) << "tick " << tick;
        EXPECT_TRUE(decision.stop.empty());
        spawned.push_back(decision.spawn);
        totals.push_back(pool.total());
    }
    // min(rate, min_spare - idle, max_children - total): 1, 2, 4, then the
    // five missing spares, then the three max_children leaves room for.
    EXPECT_EQ(spawned, (std::vector<int>{1, 2, 4, 5, 3}));
    EXPECT_EQ(totals, (std::vector<int>{6, 8, 12, 17, 20}));
    EXPECT_EQ(decision.nextSpawnRate, 32);

    decision = pool.tick(100);
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_TRUE(decision.maxChildrenReached);
    EXPECT_EQ(decision.nextSpawnRate, 1);
    EXPECT_EQ(pool.total(), 20);
}

TEST(DynamicScaling, a_waiting_queue_asks_for_more_than_the_missing_spares)
{
    PoolModel pool(dynamicPool(20, 2, 10, 2));
    std::vector<int> spawned;
    for (int tick = 0; tick < 4; ++tick) {
        spawned.push_back(pool.tick(100).spawn);
    }
    // Without the queue a pool short of 2 spares would spawn 1, 2, 2, 2.
    EXPECT_EQ(spawned, (std::vector<int>{1, 2, 4, 8}));
    EXPECT_EQ(pool.total(), 17);
    auto decision = pool.tick(100);
    EXPECT_EQ(decision.spawn, 3);
    decision = pool.tick(100);
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_TRUE(decision.maxChildrenReached);
}

TEST(DynamicScaling, spawn_rate_is_capped_by_max_spawn_rate)
{
    auto config = dynamicPool(100, 50, 60, 50);
    config.max_spawn_rate = 4;
    PoolModel pool(config, false);
    std::vector<int> spawned;
    for (int tick = 0; tick < 5; ++tick) {
        spawned.push_back(pool.tick(1000).spawn);
    }
    EXPECT_EQ(spawned, (std::vector<int>{1, 2, 4, 4, 4}));
}

TEST(DynamicScaling, shrinks_one_idle_worker_per_tick_down_to_max_spare_servers)
{
    PoolModel pool(dynamicPool(20, 5, 10, 5), false);
    for (int tick = 0; tick < 6; ++tick) {
        pool.tick(100);
    }
    ASSERT_EQ(pool.total(), 20);

    std::vector<int> totals;
    for (int tick = 0; tick < 12; ++tick) {
        auto decision = pool.tick(0);
        EXPECT_LE(decision.stop.size(), 1u) << "tick " << tick;
        EXPECT_EQ(decision.spawn, 0);
        EXPECT_EQ(decision.nextSpawnRate, 1);
        totals.push_back(pool.total());
    }
    EXPECT_EQ(totals, (std::vector<int>{19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 10, 10}));
}

TEST(DynamicScaling, stops_the_worker_idle_longest)
{
    const Clock::time_point now{100s};
    ScalingInput input;
    input.idle = {{11, now - 5s}, {12, now - 40s}, {13, now - 1s}, {14, now - 39s}};
    auto decision = decideScale(dynamicPool(10, 1, 3, 2), input, now);
    EXPECT_EQ(decision.stop, std::vector<pid_t>{12});
    EXPECT_EQ(decision.spawn, 0);
}

TEST(DynamicScaling, keeps_spares_between_min_and_max_without_changes)
{
    const Clock::time_point now{100s};
    for (int idle = 2; idle <= 4; ++idle) {
        ScalingInput input;
        input.busy = 3;
        for (int i = 0; i < idle; ++i) {
            input.idle.push_back({100 + i, now - 60s});
        }
        input.spawnRate = 8;
        auto decision = decideScale(dynamicPool(10, 2, 4, 2), input, now);
        EXPECT_EQ(decision.spawn, 0) << idle << " idle";
        EXPECT_TRUE(decision.stop.empty()) << idle << " idle";
        EXPECT_FALSE(decision.maxChildrenReached) << idle << " idle";
        EXPECT_EQ(decision.nextSpawnRate, 1) << "a tick without spawning resets the rate";
    }
}

TEST(DynamicScaling, workers_still_starting_count_as_spares)
{
    ScalingInput input;
    input.busy = 3;
    input.starting = 2;
    auto decision = decideScale(dynamicPool(10, 2, 4, 2), input, Clock::time_point{10s});
    EXPECT_EQ(decision.spawn, 0);

    input.starting = 1;
    input.spawnRate = 4;
    decision = decideScale(dynamicPool(10, 2, 4, 2), input, Clock::time_point{10s});
    EXPECT_EQ(decision.spawn, 1);
    EXPECT_EQ(decision.nextSpawnRate, 8);
}

TEST(DynamicScaling, a_waiting_connection_keeps_idle_workers_from_being_stopped)
{
    const Clock::time_point now{100s};
    ScalingInput input;
    input.idle = {{11, now - 50s}, {12, now - 50s}, {13, now - 50s}, {14, now - 50s}};
    input.listenQueue = 1;
    auto decision = decideScale(dynamicPool(10, 1, 2, 2), input, now);
    EXPECT_TRUE(decision.stop.empty());
    EXPECT_EQ(decision.spawn, 0) << "idle workers will take the connection";
}

TEST(DynamicScaling, reports_max_children_reached_when_short_of_spares_and_full)
{
    ScalingInput input;
    input.busy = 4;
    input.idle = {{11, Clock::time_point{}}};
    input.spawnRate = 16;
    // One idle, min_spare_servers 2, the pool full: php-fpm warns.
    auto decision = decideScale(dynamicPool(5, 2, 4, 2), input, Clock::time_point{10s});
    EXPECT_TRUE(decision.maxChildrenReached);
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_EQ(decision.nextSpawnRate, 1);

    // Enough spares: full, but not short.
    input.busy = 3;
    input.idle.push_back({12, Clock::time_point{}});
    decision = decideScale(dynamicPool(5, 2, 4, 2), input, Clock::time_point{10s});
    EXPECT_FALSE(decision.maxChildrenReached);
}

TEST(DynamicScaling, a_rate_above_max_spawn_rate_after_a_reload_is_clamped)
{
    auto config = dynamicPool(50, 40, 45, 40);
    config.max_spawn_rate = 4;
    ScalingInput input;
    input.busy = 2;
    input.spawnRate = 32;
    auto decision = decideScale(config, input, Clock::time_point{10s});
    EXPECT_EQ(decision.spawn, 4);
    EXPECT_EQ(decision.nextSpawnRate, 4);
}

// --- ondemand ---------------------------------------------------------------

TEST(OndemandScaling, starts_empty_and_spawns_for_waiting_connections)
{
    PoolModel pool(ondemandPool(8, 10s));
    EXPECT_EQ(pool.total(), 0);
    auto decision = pool.tick(0);
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_EQ(pool.total(), 0);

    decision = pool.tick(3);
    EXPECT_EQ(decision.spawn, 3);
    EXPECT_FALSE(decision.maxChildrenReached);

    // All three busy, nothing waits: nothing to do.
    decision = pool.tick(3);
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_TRUE(decision.stop.empty());
    EXPECT_EQ(pool.total(), 3);
}

TEST(OndemandScaling, scales_to_zero_after_process_idle_timeout_not_before)
{
    PoolModel pool(ondemandPool(8, 10s));
    pool.tick(3);
    pool.tick(3);
    ASSERT_EQ(pool.total(), 3);

    pool.tick(0);  // the three go idle now
    const auto idleSince = pool.now();
    EXPECT_TRUE(pool.tick(0, 5s).stop.empty());
    EXPECT_TRUE(pool.tick(0, 4s).stop.empty());
    ASSERT_EQ(pool.now() - idleSince, 9s);
    EXPECT_TRUE(pool.tick(0, 1s).stop.empty()) << "idle exactly process_idle_timeout";
    EXPECT_EQ(pool.total(), 3);

    auto decision = pool.tick(0, 1ms);
    EXPECT_EQ(decision.stop.size(), 3u);
    EXPECT_EQ(pool.total(), 0);

    // The first request after scaling to zero gets a worker.
    decision = pool.tick(1);
    EXPECT_EQ(decision.spawn, 1);
    EXPECT_EQ(pool.total(), 1);
}

TEST(OndemandScaling, stops_only_the_workers_idle_too_long)
{
    const Clock::time_point now{100s};
    ScalingInput input;
    input.busy = 2;
    input.idle = {{11, now - 11s}, {12, now - 3s}, {13, now - 10s}, {14, now - 30s}};
    auto decision = decideScale(ondemandPool(8, 10s), input, now);
    std::sort(decision.stop.begin(), decision.stop.end());
    EXPECT_EQ(decision.stop, (std::vector<pid_t>{11, 14}));
    EXPECT_EQ(decision.spawn, 0);
}

TEST(OndemandScaling, reports_max_children_reached_while_connections_wait)
{
    PoolModel pool(ondemandPool(4, 10s));
    auto decision = pool.tick(6);
    EXPECT_EQ(decision.spawn, 4);
    EXPECT_FALSE(decision.maxChildrenReached);
    decision = pool.tick(6);
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_TRUE(decision.maxChildrenReached);
    decision = pool.tick(4);
    EXPECT_FALSE(decision.maxChildrenReached) << "full but nothing waits";
}

TEST(OndemandScaling, workers_still_starting_take_waiting_connections)
{
    ScalingInput input;
    input.busy = 1;
    input.starting = 2;
    input.listenQueue = 3;
    auto decision = decideScale(ondemandPool(8, 10s), input, Clock::time_point{10s});
    EXPECT_EQ(decision.spawn, 1);

    input.starting = 3;
    decision = decideScale(ondemandPool(8, 10s), input, Clock::time_point{10s});
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_FALSE(decision.maxChildrenReached);
}

TEST(OndemandScaling, spawns_at_most_max_spawn_rate_per_tick)
{
    auto config = ondemandPool(100, 10s);
    config.max_spawn_rate = 5;
    ScalingInput input;
    input.listenQueue = 40;
    EXPECT_EQ(decideScale(config, input, Clock::time_point{10s}).spawn, 5);
}

TEST(OndemandScaling, an_unknown_queue_spawns_nothing)
{
    ScalingInput input;
    input.busy = 2;
    input.listenQueue = -1;
    auto decision = decideScale(ondemandPool(8, 10s), input, Clock::time_point{10s});
    EXPECT_EQ(decision.spawn, 0);
    EXPECT_FALSE(decision.maxChildrenReached);
}

TEST(OndemandScaling, an_idle_worker_is_kept_while_connections_wait)
{
    const Clock::time_point now{100s};
    ScalingInput input;
    input.idle = {{11, now - 60s}};
    input.listenQueue = 2;
    auto decision = decideScale(ondemandPool(8, 10s), input, now);
    EXPECT_TRUE(decision.stop.empty());
    EXPECT_EQ(decision.spawn, 0);
}

// --- static -----------------------------------------------------------------

TEST(StaticScaling, never_spawns_or_stops)
{
    PoolModel pool(staticPool(4));
    ASSERT_EQ(pool.total(), 4);
    for (int demand : {0, 2, 4, 9, 0}) {
        auto decision = pool.tick(demand, 1h);
        EXPECT_EQ(decision.spawn, 0) << demand;
        EXPECT_TRUE(decision.stop.empty()) << demand;
        EXPECT_EQ(decision.nextSpawnRate, 1);
        EXPECT_EQ(pool.total(), 4);
    }
}

TEST(StaticScaling, reports_max_children_reached_only_when_connections_wait_for_a_full_pool)
{
    ScalingInput input;
    input.busy = 4;
    input.listenQueue = 3;
    EXPECT_TRUE(decideScale(staticPool(4), input, Clock::time_point{}).maxChildrenReached);

    input.listenQueue = 0;
    EXPECT_FALSE(decideScale(staticPool(4), input, Clock::time_point{}).maxChildrenReached);

    // A worker being replaced: the pool is not full yet, the supervisor's
    // restart is on its way.
    input.busy = 3;
    input.listenQueue = 3;
    EXPECT_FALSE(decideScale(staticPool(4), input, Clock::time_point{}).maxChildrenReached);

    input.busy = 3;
    input.idle = {{11, Clock::time_point{}}};
    EXPECT_FALSE(decideScale(staticPool(4), input, Clock::time_point{}).maxChildrenReached);
}

}  // namespace
}  // namespace pyfpm::manager
