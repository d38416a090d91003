#include "manager/command_policy.hpp"

#include <algorithm>

namespace pyfpm::manager {

namespace {

// The workers a mode keeps however quiet the pool is.
int floorOf(const PoolConfig& config)
{
    switch (config.pm) {
    case ProcessManager::Static:
        return config.max_children;
    case ProcessManager::Dynamic:
        return std::min(config.start_servers, config.max_children);
    case ProcessManager::Ondemand:
        return 0;
    }
    return 0;
}

// The most recently started worker: the one the last burst added.
pid_t newest(const std::vector<CommandScalingInput::RunningWorker>& running)
{
    const auto found = std::max_element(running.begin(), running.end(),
                                        [](const auto& a, const auto& b) { return a.startedAt < b.startedAt; });
    return found->pid;
}

}  // namespace

AfterExit decideAfterCommandExit(WorkerState stateAtExit, bool poolStopping, std::chrono::milliseconds lifetime)
{
    const AfterExit after = decideAfterExit(stateAtExit, poolStopping);
    if (after == AfterExit::RestartNow && lifetime < kCommandSettleTime) {
        return AfterExit::RestartAfterBackoff;
    }
    return after;
}

std::vector<std::string> ignoredCommandKeys(const PoolConfig& config)
{
    std::vector<std::string> keys;
    if (config.kind != PoolKind::Command) {
        return keys;
    }
    if (!config.python_path.empty()) {
        keys.emplace_back("python_path");
    }
    if (!config.virtualenv.empty()) {
        keys.emplace_back("virtualenv");
    }
    if (config.max_requests > 0) {
        keys.emplace_back("max_requests");
    }
    if (config.max_requests_jitter > 0) {
        keys.emplace_back("max_requests_jitter");
    }
    if (config.max_rss > 0) {
        keys.emplace_back("max_rss");
    }
    if (config.slowlog_timeout.count() > 0) {
        keys.emplace_back("slowlog_timeout");
    }
    if (!config.slowlog.empty()) {
        keys.emplace_back("slowlog");
    }
    return keys;
}

ScaleDecision decideCommandScale(const PoolConfig& config, const CommandScalingInput& input, Clock::time_point now)
{
    ScaleDecision decision;
    const int total = input.starting + static_cast<int>(input.running.size());
    const int room = std::max(0, config.max_children - total);
    int waiting = input.listenQueue;
    if (waiting < 0 && input.connectionPending && total == 0) {
        waiting = 1;  // a connection woke us and nobody can be serving it
    }
    // Each worker still starting will take one waiting connection.
    const int demand = std::max(0, waiting - input.starting);
    decision.maxChildrenReached = waiting > 0 && room == 0;

    if (config.pm == ProcessManager::Static) {
        return decision;
    }

    const bool ondemand = config.pm == ProcessManager::Ondemand;
    const int rate = ondemand ? std::max(1, config.max_spawn_rate)
                              : std::clamp(input.spawnRate, 1, std::max(1, config.max_spawn_rate));
    const int wanted = std::max(floorOf(config) - total, demand);
    if (wanted > 0 && room > 0) {
        decision.spawn = std::min({rate, wanted, room});
        if (!ondemand) {
            decision.nextSpawnRate = std::min(rate * 2, std::max(1, config.max_spawn_rate));
        }
        return decision;
    }

    // Shrink only on a measured, empty queue that has stayed so: a worker
    // may be busy however quiet the queue looks, and SIGTERM lets a libfcgi
    // program finish its request first.
    const bool quiet = waiting == 0 && now - input.lastDemand > config.process_idle_timeout;
    if (quiet && static_cast<int>(input.running.size()) > floorOf(config) && input.starting == 0) {
        decision.stop.push_back(newest(input.running));
    }
    return decision;
}

}  // namespace pyfpm::manager
