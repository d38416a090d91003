// What a reload changes: the running pools against the new configuration,
// by pool name. Pure, so the classification is unit-tested without
// processes.
#pragma once

#include <string>
#include <vector>

#include "manager/pool_config.hpp"

namespace pyfpm::manager {

struct ReloadPlan {
    std::vector<PoolConfig> added;      // new names: start
    std::vector<std::string> removed;   // names no longer configured: drain and stop
    std::vector<PoolConfig> changed;    // any difference in PoolConfig: replace
    std::vector<std::string> unchanged; // left alone
    // Reasons the new configuration cannot be applied at all (two pools
    // with one name); the plan is empty then.
    std::vector<std::string> errors;
};

// `running` and `next` in configuration order; each list of the plan keeps
// the order of the list it comes from.
ReloadPlan planReload(const std::vector<PoolConfig>& running, const std::vector<PoolConfig>& next);

// Every field, as the reload compares them.
bool samePoolConfig(const PoolConfig& a, const PoolConfig& b);
// The same configured `listen` (unix path, or host and port as written).
bool sameListenAddress(const ListenAddress& a, const ListenAddress& b);

}  // namespace pyfpm::manager
