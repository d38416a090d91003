// Recycling policy (max_requests, max_requests_jitter, max_rss): pure, so the
// spread of request limits and the bound on simultaneous recycles are
// unit-tested without processes.
#pragma once

#include <cstdint>
#include <random>

#include "manager/pool_config.hpp"

namespace pyfpm::manager {

// The request limit for one new worker: max_requests ± a uniform jitter of
// at most max_requests_jitter, at least 1; 0 when max_requests is 0 (off).
// Different limits per worker keep a pool from recycling in lockstep.
long requestLimitFor(const PoolConfig& config, std::mt19937_64& random);

// How many of a pool's workers may be in recycling at once (replacement
// spawned, old one not yet gone): max(1, max_children / 4), so capacity
// never dips and a pool never doubles at once.
int maxConcurrentRecycles(const PoolConfig& config);

}  // namespace pyfpm::manager
