#include "manager/reload_plan.hpp"

#include <algorithm>
#include <set>

namespace pyfpm::manager {

namespace {

const PoolConfig* findByName(const std::vector<PoolConfig>& pools, const std::string& name)
{
    const auto found = std::find_if(pools.begin(), pools.end(), [&](const PoolConfig& pool) { return pool.name == name; });
    return found != pools.end() ? &*found : nullptr;
}

}  // namespace

bool samePoolConfig(const PoolConfig& a, const PoolConfig& b)
{
    return a == b;
}

bool sameListenAddress(const ListenAddress& a, const ListenAddress& b)
{
    return a == b;
}

ReloadPlan planReload(const std::vector<PoolConfig>& running, const std::vector<PoolConfig>& next)
{
    ReloadPlan plan;
    std::set<std::string> names;
    for (const auto& pool : next) {
        if (!names.insert(pool.name).second) {
            plan.errors.push_back("pool " + pool.name + " is defined twice");
        }
    }
    if (!plan.errors.empty()) {
        return plan;
    }
    for (const auto& pool : running) {
        if (findByName(next, pool.name) == nullptr) {
            plan.removed.push_back(pool.name);
        }
    }
    for (const auto& pool : next) {
        const PoolConfig* before = findByName(running, pool.name);
        if (before == nullptr) {
            plan.added.push_back(pool);
        } else if (samePoolConfig(*before, pool)) {
            plan.unchanged.push_back(pool.name);
        } else {
            plan.changed.push_back(pool);
        }
    }
    return plan;
}

}  // namespace pyfpm::manager
