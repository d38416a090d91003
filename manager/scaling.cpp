#include "manager/scaling.hpp"

#include <algorithm>

namespace pyfpm::manager {

namespace {

// What every mode looks at, computed once per tick.
struct Counts {
    int idle = 0;
    int total = 0;   // starting + busy + idle
    int room = 0;    // workers max_children still allows
    // Connections waiting while no worker is idle, less those the workers
    // already starting will take: how many workers the queue asks for.
    int queueDemand = 0;
};

Counts countOf(const PoolConfig& config, const ScalingInput& input)
{
    Counts counts;
    counts.idle = static_cast<int>(input.idle.size());
    counts.total = input.starting + input.busy + counts.idle;
    counts.room = std::max(0, config.max_children - counts.total);
    if (input.listenQueue > 0 && counts.idle == 0) {
        counts.queueDemand = std::max(0, input.listenQueue - input.starting);
    }
    return counts;
}

// A waiting connection with no idle worker and no room to grow: demand the
// pool cannot meet.
bool queueOverflows(const ScalingInput& input, const Counts& counts)
{
    return input.listenQueue > 0 && counts.idle == 0 && counts.room == 0;
}

ScaleDecision decideStatic(const ScalingInput& input, const Counts& counts)
{
    // A static pool is always at max_children; replacing a worker that died
    // is the supervisor's job, with its backoff, not a scaling decision.
    ScaleDecision decision;
    decision.maxChildrenReached = queueOverflows(input, counts);
    return decision;
}

ScaleDecision decideOndemand(const PoolConfig& config, const ScalingInput& input, const Counts& counts,
                             Clock::time_point now)
{
    ScaleDecision decision;
    if (input.listenQueue > 0) {
        // php-fpm forks one child per accept event with no idle child; a
        // measured queue says how many connections wait, so start that many
        // at once (at most max_spawn_rate per tick, as dynamic).
        if (queueOverflows(input, counts)) {
            decision.maxChildrenReached = true;
        } else {
            decision.spawn = std::min({counts.queueDemand, counts.room, config.max_spawn_rate});
        }
        // An idle worker is about to take a waiting connection: none is
        // stopped while connections wait.
        return decision;
    }
    for (const auto& worker : input.idle) {
        if (now - worker.idleSince > config.process_idle_timeout) {
            decision.stop.push_back(worker.pid);
        }
    }
    return decision;
}

ScaleDecision decideDynamic(const PoolConfig& config, const ScalingInput& input, const Counts& counts)
{
    ScaleDecision decision;
    const int rate = std::clamp(input.spawnRate, 1, std::max(1, config.max_spawn_rate));
    // Workers still starting are spares already on their way; counting them
    // keeps a slow application import from spawning the same spares tick
    // after tick.
    const int spare = counts.idle + input.starting;

    if (spare > config.max_spare_servers && counts.idle > 0 && input.listenQueue <= 0) {
        // php-fpm stops one idle child per tick, so a pool shrinks gently
        // and a new burst still finds spares.
        const auto longest = std::min_element(input.idle.begin(), input.idle.end(),
                                              [](const auto& a, const auto& b) { return a.idleSince < b.idleSince; });
        decision.stop.push_back(longest->pid);
        return decision;
    }

    const int wanted = std::max(config.min_spare_servers - spare, counts.queueDemand);
    if (wanted <= 0) {
        return decision;
    }
    if (counts.room == 0) {
        decision.maxChildrenReached = true;
        return decision;
    }
    decision.spawn = std::min({rate, wanted, counts.room});
    // php-fpm doubles the rate while it keeps spawning (1, 2, 4, ... up to
    // pm.max_spawn_rate) and drops back to 1 on any tick that does not.
    decision.nextSpawnRate = std::min(rate * 2, std::max(1, config.max_spawn_rate));
    return decision;
}

}  // namespace

ScaleDecision decideScale(const PoolConfig& config, const ScalingInput& input, Clock::time_point now)
{
    const Counts counts = countOf(config, input);
    switch (config.pm) {
    case ProcessManager::Static:
        return decideStatic(input, counts);
    case ProcessManager::Dynamic:
        return decideDynamic(config, input, counts);
    case ProcessManager::Ondemand:
        return decideOndemand(config, input, counts, now);
    }
    return {};
}

int initialWorkers(const PoolConfig& config)
{
    switch (config.pm) {
    case ProcessManager::Static:
        return config.max_children;
    case ProcessManager::Dynamic:
        return config.start_servers;
    case ProcessManager::Ondemand:
        return 0;
    }
    return 0;
}

}  // namespace pyfpm::manager
