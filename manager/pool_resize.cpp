#include "manager/pool_resize.hpp"

#include <algorithm>

namespace pyfpm::manager {

PoolConfig withMaxChildren(const PoolConfig& config, int maxChildren)
{
    PoolConfig scaled = config;
    scaled.max_children = std::max(1, maxChildren);
    // Kept for every pm (the keys are read and ignored outside dynamic), so
    // a later scale back up of a dynamic pool starts from valid bounds.
    scaled.min_spare_servers = std::min(scaled.min_spare_servers, scaled.max_children);
    scaled.max_spare_servers = std::min(scaled.max_spare_servers, scaled.max_children);
    scaled.start_servers = std::clamp(scaled.start_servers, scaled.min_spare_servers, scaled.max_spare_servers);
    return scaled;
}

}  // namespace pyfpm::manager
