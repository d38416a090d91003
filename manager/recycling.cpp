#include "manager/recycling.hpp"

#include <algorithm>

namespace pyfpm::manager {

long requestLimitFor(const PoolConfig& config, std::mt19937_64& random)
{
    if (config.max_requests <= 0) {
        return 0;
    }
    long jitter = 0;
    if (config.max_requests_jitter > 0) {
        std::uniform_int_distribution<long> spread(-config.max_requests_jitter, config.max_requests_jitter);
        jitter = spread(random);
    }
    // The loader keeps jitter <= max_requests; at N - J = 0 a worker would
    // leave before serving anything, so 1 is the floor.
    return std::max(1L, config.max_requests + jitter);
}

int maxConcurrentRecycles(const PoolConfig& config)
{
    return std::max(1, config.max_children / 4);
}

}  // namespace pyfpm::manager
