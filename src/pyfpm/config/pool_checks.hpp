// Pass two for one pool: php-fpm's rules between its process-manager and
// recycling keys, reported with the values shown
// ("pools.web: min_spare_servers (5) > max_children (4)"). Internal to the
// loader; checks.hpp calls it for every pool.
#pragma once

#include "manager/pool_config.hpp"
#include "src/pyfpm/config/schema.hpp"

namespace pyfpm::config {

// pm dynamic only (php-fpm checks them only there too; under static and
// ondemand the spare keys are ignored): min_spare_servers and
// max_spare_servers <= max_children, max_spare_servers >= min_spare_servers,
// and a written start_servers within [min_spare_servers, max_spare_servers]
// and <= max_children. Every pm: max_requests_jitter <= max_requests, and
// slowlog_timeout > 0 needs slowlog.
//
// A rule is skipped when one of its keys was written but rejected by pass
// one. A value left at its default is shown as "(3, the default)". The error
// points at the first key of the message the file has, else at the pool.
void checkPool(const manager::PoolConfig& pool, Context& context);

}  // namespace pyfpm::config
