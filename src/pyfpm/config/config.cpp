#include "src/pyfpm/config/config.hpp"

#include <algorithm>

namespace pyfpm::config {

const manager::PoolConfig* Config::findPool(const std::string& name) const {
    auto found = std::find_if(pools.begin(), pools.end(),
                              [&](const manager::PoolConfig& pool) { return pool.name == name; });
    return found == pools.end() ? nullptr : &*found;
}

}  // namespace pyfpm::config
