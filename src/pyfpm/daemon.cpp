#include "src/pyfpm/daemon.hpp"

#include <event2/event.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "manager/listen_socket.hpp"
#include "manager/supervisor.hpp"
#include "src/pyfpm/config/loader.hpp"
#include "src/pyfpm/http/pool_directory.hpp"
#include "src/pyfpm/http/server.hpp"
#include "src/pyfpm/logging.hpp"

namespace pyfpm::daemon {

namespace {

using EventPtr = std::unique_ptr<event, decltype(&event_free)>;
using BasePtr = std::unique_ptr<event_base, decltype(&event_base_free)>;

timeval toTimeval(std::chrono::milliseconds ms) {
    return timeval{static_cast<time_t>(ms.count() / 1000),
                   static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// The bridge asks the manager whether a pool can take a request.
class SupervisorPools final : public http::PoolDirectory {
public:
    explicit SupervisorPools(const manager::Supervisor& supervisor) : supervisor_(supervisor) {}

    http::PoolAvailability availability(const std::string& pool) const override {
        if (supervisor_.poolAvailable(pool)) return {};
        http::PoolAvailability answer;
        answer.available = false;
        try {
            const manager::PoolStatus status = supervisor_.status(pool);
            answer.reason = std::string(manager::toString(status.state));
            if (!status.lastFailure.empty()) answer.reason += ": " + status.lastFailure;
        } catch (const std::out_of_range&) {
            // A route to a pool a reload removed, until the routes change.
            answer.reason = "no such pool (removed by a reload)";
        }
        return answer;
    }

private:
    const manager::Supervisor& supervisor_;
};

// One run of the daemon. Stop order (pyfpm(8), SIGNALS): HTTP listeners
// close; requests in flight finish, bounded by stop_timeout; then the
// manager stops the workers; then the loop ends.
class Runner {
public:
    Runner(config::Config config, const std::filesystem::path& workerBinary)
        : config_(std::move(config)), worker_binary_(workerBinary), stop_timer_(nullptr, &event_free) {}

    ~Runner() {
        // The bridge first: it holds connections to pool sockets the
        // supervisor is about to close.
        server_.reset();
        signals_.clear();
        stop_timer_.reset();
        supervisor_.reset();
    }

    ExitCode run() {
        if (!base_) {
            spdlog::critical("event_base_new failed");
            return ExitCode::StartFailed;
        }
        // Signals before the first spawn, so a Ctrl-C during start-up is a
        // graceful stop too.
        for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
            EventPtr ev(evsignal_new(base_.get(), sig, &Runner::onSignal, this), &event_free);
            if (!ev || evsignal_add(ev.get(), nullptr) != 0) {
                spdlog::critical("cannot watch signal {}", strsignal(sig));
                return ExitCode::StartFailed;
            }
            signals_.push_back(std::move(ev));
        }

        try {
            manager::SupervisorOptions options;
            options.emergencyRestartThreshold = config_.emergency_restart_threshold;
            options.emergencyRestartInterval = config_.emergency_restart_interval;
            supervisor_ = std::make_unique<manager::Supervisor>(base_.get(), worker_binary_, options);
            supervisor_->start(config_.pools);
        } catch (const std::exception& e) {
            spdlog::critical("cannot start: {}", e.what());
            return ExitCode::StartFailed;
        }
        pools_ = std::make_unique<SupervisorPools>(*supervisor_);

        if (config_.http) {
            server_ = std::make_unique<http::Server>(base_.get(), config_, *pools_);
            std::string error;
            if (!server_->listen(error)) {
                spdlog::critical("cannot start: {}", error);
                return ExitCode::StartFailed;
            }
        }
        spdlog::info("pyfpm {} started (pid {})", PYFPM_VERSION, getpid());

        event_base_dispatch(base_.get());
        spdlog::info("pyfpm stopped");
        return ExitCode::Ok;
    }

private:
    static void onSignal(evutil_socket_t sig, short, void* self) {
        static_cast<Runner*>(self)->handleSignal(static_cast<int>(sig));
    }

    static void onStopTimeout(evutil_socket_t, short, void* self) {
        auto* runner = static_cast<Runner*>(self);
        spdlog::warn("stop_timeout ({} ms) passed with {} request(s) in flight; dropping them",
                     runner->config_.stop_timeout.count(),
                     runner->server_ ? runner->server_->inFlight() : 0);
        // Not called from inside the Server, so it may be destroyed here:
        // that closes the remaining client and worker connections.
        runner->server_.reset();
        runner->stopWorkers();
    }

    void handleSignal(int sig) {
        switch (sig) {
        case SIGHUP:
            reload();
            return;
        case SIGUSR1: {
            std::string error;
            if (!reopenLogs(config_.error_log, error)) {
                spdlog::error("SIGUSR1: cannot reopen {}: {}; logging where it did", config_.error_log.string(),
                              error);
            } else {
                spdlog::info("SIGUSR1: log reopened");
            }
            return;
        }
        default:
            break;
        }
        if (stopping_) {
            spdlog::info("{}: already stopping", strsignal(sig));
            return;
        }
        stopping_ = true;
        if (!server_) {
            spdlog::info("{}: stopping the workers", strsignal(sig));
            stopWorkers();
            return;
        }
        spdlog::info("{}: stopping; no new connections, {} request(s) in flight may take up to {} ms",
                     strsignal(sig), server_->inFlight(), config_.stop_timeout.count());
        stop_timer_.reset(evtimer_new(base_.get(), &Runner::onStopTimeout, this));
        const timeval tv = toTimeval(config_.stop_timeout);
        evtimer_add(stop_timer_.get(), &tv);
        server_->stopAccepting([this] {
            stop_timer_.reset();
            stopWorkers();
        });
    }

    // SIGHUP: read the file again; apply it if it is valid, keep running as
    // before if not. Pools are replaced by the manager without dropping
    // requests (Supervisor::reload); the bridge takes the new routes once the
    // pools they name serve.
    void reload() {
        if (stopping_) {
            spdlog::info("SIGHUP: stopping; reload ignored");
            return;
        }
        if (reloading_) {
            reload_again_ = true;
            spdlog::info("SIGHUP: a reload is under way; reloading again after it");
            return;
        }
        auto loaded = config::load(config_.file);
        if (!loaded.config) {
            for (const auto& error : loaded.errors) spdlog::error("reload: {}", error.toString());
            spdlog::error("reload: {} is invalid; keeping the running configuration", config_.file.string());
            return;
        }
        if (loaded.config->http.has_value() != config_.http.has_value()) {
            spdlog::error("reload: adding or removing the http section needs a restart; keeping the "
                          "running configuration");
            return;
        }
        spdlog::info("reload: {} is valid; applying it", config_.file.string());
        reloading_ = true;
        auto next = std::make_shared<config::Config>(std::move(*loaded.config));
        supervisor_->reload(next->pools, [this, next](std::vector<std::string> errors) {
            reloading_ = false;
            for (const auto& error : errors) spdlog::error("reload: {}", error);
            if (!errors.empty()) {
                spdlog::error("reload: not every pool could be replaced; the HTTP routes stay as they were");
            } else {
                applyDaemonSettings(*next);
            }
            if (reload_again_) {
                reload_again_ = false;
                reload();
            }
        });
    }

    void applyDaemonSettings(const config::Config& next) {
        if (server_) {
            std::string error;
            if (!server_->reconfigure(next, error)) {
                spdlog::error("reload: HTTP routes unchanged: {}", error);
            }
        }
        if (next.error_log != config_.error_log) {
            std::string error;
            if (!reopenLogs(next.error_log, error)) {
                spdlog::error("reload: cannot open error_log {}: {}; logging where it did",
                              next.error_log.string(), error);
            }
        }
        // The supervisor and the bridge copied what they need; keep the rest.
        config_ = next;
        spdlog::info("reload: done");
    }

    void stopWorkers() {
        if (workers_stopping_) return;
        workers_stopping_ = true;
        supervisor_->stop([this] { event_base_loopexit(base_.get(), nullptr); });
    }

    config::Config config_;
    std::filesystem::path worker_binary_;
    BasePtr base_{event_base_new(), &event_base_free};
    std::unique_ptr<manager::Supervisor> supervisor_;
    std::unique_ptr<SupervisorPools> pools_;
    std::unique_ptr<http::Server> server_;
    std::vector<EventPtr> signals_;
    EventPtr stop_timer_;
    bool stopping_ = false;
    bool workers_stopping_ = false;
    bool reloading_ = false;
    bool reload_again_ = false;
};

}  // namespace

ExitCode run(config::Config config, const std::filesystem::path& workerBinary) {
    // A client or worker that goes away while we write must not kill the
    // daemon; the write reports EPIPE instead.
    ::signal(SIGPIPE, SIG_IGN);
    Runner runner(std::move(config), workerBinary);
    return runner.run();
}

}  // namespace pyfpm::daemon
