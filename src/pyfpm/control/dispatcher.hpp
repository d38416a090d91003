// What each control command does in the daemon: pool commands go to the
// manager, daemon-wide ones (reload, stop, reopen-logs) to hooks the daemon's
// run loop provides. Lives on the daemon's loop, like everything it calls.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "manager/supervisor.hpp"
#include "src/pyfpm/control/server.hpp"

namespace pyfpm::control {

// How a reload ended: applied (errors empty), or not (errors: one line
// each, "FILE:LINE:COL: key: ..." for an invalid file).
struct ReloadOutcome {
    bool applied = false;
    std::vector<std::string> errors;
};

struct DaemonHooks {
    // As SIGHUP; calls `done` once, from the loop, when the reload is
    // applied or refused.
    std::function<void(std::function<void(ReloadOutcome)> done)> reload;
    // As SIGTERM; `timeout` replaces stop_timeout for requests in flight.
    std::function<void(std::optional<std::chrono::milliseconds> timeout)> stop;
    // As SIGUSR1; empty on success, else why.
    std::function<std::string()> reopenLogs;
};

class Dispatcher {
public:
    // `supervisor` must outlive the Dispatcher.
    Dispatcher(manager::Supervisor& supervisor, DaemonHooks hooks);

    // Answers `request` through `reply`: at once for status, stop and
    // reopen-logs; when done for scale, restart and reload. stop answers
    // {"stopping": true} and starts the stop once the answer is sent.
    void handle(const Request& request, Server::Reply reply);

private:
    void status(const Request& request, Server::Reply reply) const;
    void replacePool(const Request& request, Server::Reply reply);
    // unknown_pool answer naming the pools there are.
    nlohmann::json unknownPool(const std::string& pool) const;

    manager::Supervisor& supervisor_;
    DaemonHooks hooks_;
};

}  // namespace pyfpm::control
