// Where the daemon's status paths get the pools' state from. The bridge does
// not know the manager's Supervisor: the daemon implements this over it,
// tests with a table. Like PoolDirectory, it never touches a pool's
// workers, so the status page answers while every worker is busy.
#pragma once

#include <vector>

#include "manager/pool_status.hpp"

namespace pyfpm::http {

class StatusSource {
public:
    virtual ~StatusSource() = default;

    // Every pool, in configuration order. Called on the daemon's event loop
    // thread once per status request; must not block (a scoreboard read).
    virtual std::vector<manager::PoolStatus> poolStatus() const = 0;
};

}  // namespace pyfpm::http
