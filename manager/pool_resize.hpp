// `pyfpmctl scale POOL N`: the configuration a pool runs with after a scale.
// Pure; the Supervisor applies it by replacing the pool's workers.
#pragma once

#include "manager/pool_config.hpp"

namespace pyfpm::manager {

// `config` with max_children = `maxChildren` (>= 1): for pm static that is
// the worker count, for dynamic and ondemand the upper bound. For pm
// dynamic, min_spare_servers and max_spare_servers are lowered to fit the
// new bound and start_servers is clamped between them, so the result keeps
// the rules the loader enforces (pyfpm.yaml(5)). Nothing else changes.
PoolConfig withMaxChildren(const PoolConfig& config, int maxChildren);

}  // namespace pyfpm::manager
