#include "manager/pool_state.hpp"

namespace pyfpm::manager {

std::string_view toString(PoolState state)
{
    switch (state) {
    case PoolState::Starting:
        return "starting";
    case PoolState::Running:
        return "running";
    case PoolState::Failing:
        return "failing";
    case PoolState::Stopping:
        return "stopping";
    case PoolState::Stopped:
        return "stopped";
    }
    return "?";
}

bool acceptsRequests(PoolState state)
{
    switch (state) {
    case PoolState::Starting:
    case PoolState::Running:
        return true;
    case PoolState::Failing:
    case PoolState::Stopping:
    case PoolState::Stopped:
        return false;
    }
    return false;
}

PoolState derivePoolState(const PoolFacts& facts)
{
    if (facts.stopping) {
        return facts.liveWorkers == 0 ? PoolState::Stopped : PoolState::Stopping;
    }
    if (facts.readyWorkers > 0) {
        return PoolState::Running;
    }
    if (facts.startFailures > 0) {
        return PoolState::Failing;
    }
    return facts.scalesToZero ? PoolState::Running : PoolState::Starting;
}

}  // namespace pyfpm::manager
