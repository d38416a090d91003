#include "src/pyfpm/control/dispatcher.hpp"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "src/pyfpm/control/status_json.hpp"

namespace pyfpm::control {

namespace {

using nlohmann::json;

bool isServing(const std::vector<std::string>& names, const std::string& pool)
{
    return std::find(names.begin(), names.end(), pool) != names.end();
}

}  // namespace

Dispatcher::Dispatcher(manager::Supervisor& supervisor, DaemonHooks hooks)
    : supervisor_(supervisor), hooks_(std::move(hooks))
{
}

json Dispatcher::unknownPool(const std::string& pool) const
{
    return failure(ErrorCode::UnknownPool,
                   fmt::format("no pool named \"{}\"; pools are: {}", pool, fmt::join(supervisor_.poolNames(), ", ")));
}

void Dispatcher::handle(const Request& request, Server::Reply reply)
{
    switch (request.command) {
    case Command::Status:
        status(request, std::move(reply));
        return;
    case Command::Scale:
    case Command::Restart:
        replacePool(request, std::move(reply));
        return;
    case Command::Reload:
        spdlog::info("control: reload requested");
        hooks_.reload([reply](ReloadOutcome outcome) {
            if (outcome.applied) {
                reply(success(), nullptr);
                return;
            }
            reply(failure(ErrorCode::Failed, "reload failed; the running configuration stays", outcome.errors),
                  nullptr);
        });
        return;
    case Command::Stop: {
        spdlog::info("control: stop requested");
        auto stop = hooks_.stop;
        const auto timeout = request.timeout;
        // Answered first: once the stop starts, the loop may end soon.
        reply(success({{"stopping", true}}), [stop, timeout] { stop(timeout); });
        return;
    }
    case Command::ReopenLogs: {
        const std::string error = hooks_.reopenLogs();
        if (error.empty()) {
            spdlog::info("control: logs reopened");
            reply(success(), nullptr);
        } else {
            reply(failure(ErrorCode::Failed, error), nullptr);
        }
        return;
    }
    case Command::CheckConfig:
        reply(failure(ErrorCode::BadRequest, "check-config runs in pyfpmctl itself; the daemon is not needed"),
              nullptr);
        return;
    }
}

void Dispatcher::status(const Request& request, Server::Reply reply) const
{
    const auto names = supervisor_.poolNames();
    if (!request.pool.empty() && !isServing(names, request.pool)) {
        reply(unknownPool(request.pool), nullptr);
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    json pools = json::array();
    for (const auto& name : names) {
        if (request.pool.empty() || name == request.pool) {
            pools.push_back(toJson(supervisor_.status(name), now));
        }
    }
    reply(success({{"pid", ::getpid()}, {"pools", std::move(pools)}}), nullptr);
}

void Dispatcher::replacePool(const Request& request, Server::Reply reply)
{
    if (!isServing(supervisor_.poolNames(), request.pool)) {
        reply(unknownPool(request.pool), nullptr);
        return;
    }
    const bool scale = request.command == Command::Scale;
    const std::string what = scale ? "scale" : "restart";
    spdlog::info("control: {} of pool {} requested", what, request.pool);
    const std::string pool = request.pool;
    auto done = [this, reply, pool, what](std::vector<std::string> errors) {
        if (!errors.empty()) {
            reply(failure(ErrorCode::Failed, fmt::format("{} of pool {} failed", what, pool), errors), nullptr);
            return;
        }
        json answer{{"pool", pool}};
        try {
            const manager::PoolStatus status = supervisor_.status(pool);
            answer["max_children"] = status.maxChildren;
            json pids = json::array();
            for (const auto& worker : status.workers) pids.push_back(worker.pid);
            answer["pids"] = std::move(pids);
        } catch (const std::out_of_range&) {
            // Removed meanwhile by a reload: the command itself succeeded.
        }
        reply(success(std::move(answer)), nullptr);
    };
    if (scale) {
        supervisor_.scale(request.pool, request.workers, std::move(done));
    } else {
        supervisor_.restart(request.pool, std::move(done));
    }
}

}  // namespace pyfpm::control
