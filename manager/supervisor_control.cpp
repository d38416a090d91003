// Supervisor::restart and Supervisor::scale (pyfpmctl): a rolling reload of
// one pool, through the same steps as a reload (supervisor_reload.cpp), so a
// restart or a scale drops no request either.
#include <stdexcept>

#include <event2/event.h>
#include <spdlog/spdlog.h>

#include "manager/pool.hpp"
#include "manager/pool_resize.hpp"
#include "manager/supervisor.hpp"
#include "manager/timeval.hpp"

namespace pyfpm::manager {

void Supervisor::restart(const std::string& pool, ReloadDone done)
{
    const Pool* found = findPool(pool);
    if (found == nullptr) {
        throw std::out_of_range("no pool named " + pool);
    }
    spdlog::info("[pool {}] restart requested: replacing its workers", pool);
    replace(found->config(), std::move(done));
}

void Supervisor::scale(const std::string& pool, int maxChildren, ReloadDone done)
{
    const Pool* found = findPool(pool);
    if (found == nullptr) {
        throw std::out_of_range("no pool named " + pool);
    }
    const PoolConfig scaled = withMaxChildren(found->config(), maxChildren);
    spdlog::info("[pool {}] scale requested: max_children {} -> {} until the next reload", pool,
                 found->config().max_children, scaled.max_children);
    replace(scaled, std::move(done));
}

void Supervisor::replace(PoolConfig config, ReloadDone done)
{
    if (!started_ || stopRequested_) {
        answer(std::move(done), {"the process manager is stopping; nothing changed"});
        return;
    }
    if (reload_) {
        answer(std::move(done), {"a reload or restart is already under way; nothing changed"});
        return;
    }
    reload_.emplace();
    reload_->done = std::move(done);
    startReplacement(config);
    const timeval tv = toTimeval(options_.reloadReadyTimeout);
    evtimer_add(reloadTimer_.get(), &tv);
    checkReload();
}

}  // namespace pyfpm::manager
