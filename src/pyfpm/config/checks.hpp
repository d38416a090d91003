// Pass two of loading: rules that involve more than one key, checked on the
// values pass one accepted, and reported with the values shown
// ("http.routes[1].pool: no pool named \"wbe\"; pools are: web"). Internal to
// the loader.
#pragma once

#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/config/schema.hpp"

namespace pyfpm::config {

// Checks: a route's pool exists; route prefixes are unique; no two pools, and
// no pool and HTTP listener, share a listen address; HTTP listen addresses
// are unique; each pool's process-manager and recycling keys agree
// (pool_checks.hpp). Values whose key pass one rejected are skipped, so one
// mistake is reported once.
void checkAcrossKeys(const Config& config, Context& context);

}  // namespace pyfpm::config
