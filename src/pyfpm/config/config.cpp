#include "src/pyfpm/config/config.hpp"

#include <algorithm>

namespace pyfpm::config {

const manager::PoolConfig* Config::findPool(const std::string& name) const {
    auto found = std::find_if(pools.begin(), pools.end(),
                              [&](const manager::PoolConfig& pool) { return pool.name == name; });
    return found == pools.end() ? nullptr : &*found;
}

std::vector<Cidr> HttpConfig::defaultStatusAllow() {
    return {*parseCidr("127.0.0.1/32"), *parseCidr("::1/128")};
}

}  // namespace pyfpm::config
