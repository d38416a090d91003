#include "src/pyfpm/daemon.hpp"

#include <event2/event.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "manager/listen_socket.hpp"
#include "manager/supervisor.hpp"
#include "manager/timeval.hpp"
#include "src/pyfpm/config/loader.hpp"
#include "src/pyfpm/control/dispatcher.hpp"
#include "src/pyfpm/control/server.hpp"
#include "src/pyfpm/http/pool_directory.hpp"
#include "src/pyfpm/http/server.hpp"
#include "src/pyfpm/http/status_source.hpp"
#include "src/pyfpm/logging.hpp"
#include "src/pyfpm/notify.hpp"

namespace pyfpm::daemon {

namespace {

using EventPtr = std::unique_ptr<event, decltype(&event_free)>;
using BasePtr = std::unique_ptr<event_base, decltype(&event_base_free)>;

using manager::toTimeval;

// The bridge asks the manager whether a pool can take a request, and
// tells it when requests wait for a worker's channel.
// The status paths read every pool's status from the manager.
class SupervisorPools final : public http::PoolDirectory, public http::StatusSource {
public:
    explicit SupervisorPools(manager::Supervisor& supervisor) : supervisor_(supervisor) {}

    void demand(const std::string& pool) const override { supervisor_.demand(pool); }
    bool workerBusy(const std::string& pool, pid_t pid) const override { return supervisor_.workerBusy(pool, pid); }

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

    std::vector<manager::PoolStatus> poolStatus() const override {
        std::vector<manager::PoolStatus> pools;
        for (const std::string& name : supervisor_.poolNames()) pools.push_back(supervisor_.status(name));
        return pools;
    }

private:
    manager::Supervisor& supervisor_;
};

// The manager's news of the workers' channels, for the bridge.
class BridgeChannels final : public manager::WorkerChannelListener {
public:
    explicit BridgeChannels(http::Server& server) : server_(server) {}

    void workerReady(const std::string& pool, pid_t pid, const std::string& channel) override {
        server_.workerReady(pool, pid, channel);
    }
    void workerLeaving(const std::string& pool, pid_t pid) override { server_.workerLeaving(pool, pid); }
    std::size_t queued(const std::string& pool) const override { return server_.queuedFor(pool); }

private:
    http::Server& server_;
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
        dropServer();
        signals_.clear();
        stop_timer_.reset();
        supervisor_.reset();
        // Last: `pyfpmctl stop` returns when its connection closes, so by
        // then every worker is gone. No loop runs any more, so nothing
        // reaches the dispatcher's (now dangling) supervisor.
        control_.reset();
        control_dispatcher_.reset();
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
            // Before any pool: a second daemon started on the same
            // configuration stops here, naming the socket the first holds.
            startControl();
            supervisor_->start(config_.pools);
        } catch (const std::exception& e) {
            spdlog::critical("cannot start: {}", e.what());
            return ExitCode::StartFailed;
        }
        pools_ = std::make_unique<SupervisorPools>(*supervisor_);

        if (config_.http) {
            http::ServerOptions serverOptions;
            serverOptions.statusSource = pools_.get();
            server_ = std::make_unique<http::Server>(base_.get(), config_, *pools_, serverOptions);
            std::string error;
            if (!server_->listen(error)) {
                spdlog::critical("cannot start: {}", error);
                return ExitCode::StartFailed;
            }
            channels_ = std::make_unique<BridgeChannels>(*server_);
            supervisor_->setChannelListener(channels_.get());
        }
        spdlog::info("pyfpm {} started (pid {})", PYFPM_VERSION, getpid());
        notifier_.ready();

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
                     runner->stop_timeout_.count(),
                     runner->server_ ? runner->server_->inFlight() : 0);
        // Not called from inside the Server, so it may be destroyed here:
        // that closes the remaining client and worker connections.
        runner->dropServer();
        runner->stopWorkers();
    }

    // The pools stop telling the bridge about channels before it goes.
    void dropServer() {
        if (supervisor_) supervisor_->setChannelListener(nullptr);
        channels_.reset();
        server_.reset();
    }

    void handleSignal(int sig) {
        switch (sig) {
        case SIGHUP:
            reload();
            return;
        case SIGUSR1:
            reopenLogFiles("SIGUSR1");
            return;
        default:
            break;
        }
        stop(strsignal(sig), config_.stop_timeout);
    }

    // SIGUSR1 and pyfpmctl reopen-logs. Empty on success, else why.
    std::string reopenLogFiles(std::string_view why) {
        std::string error;
        if (!reopenLogs(config_.error_log, error)) {
            spdlog::error("{}: cannot reopen {}: {}; logging where it did", why, config_.error_log.string(), error);
            return "cannot reopen " + config_.error_log.string() + ": " + error;
        }
        if (server_ && !server_->reopenAccessLog(error)) {
            spdlog::error("{}: cannot reopen the access log: {}; logging where it did", why, error);
            return "cannot reopen the access log: " + error;
        }
        spdlog::info("{}: log reopened", why);
        return {};
    }

    // SIGTERM, SIGINT and pyfpmctl stop; `timeout` bounds the requests in
    // flight (stop_timeout, or pyfpmctl's --timeout).
    void stop(std::string_view why, std::chrono::milliseconds timeout) {
        if (stopping_) {
            spdlog::info("{}: already stopping", why);
            return;
        }
        stopping_ = true;
        notifier_.stopping();
        if (!server_) {
            spdlog::info("{}: stopping the workers", why);
            stopWorkers();
            return;
        }
        spdlog::info("{}: stopping; no new connections, {} request(s) in flight may take up to {} ms", why,
                     server_->inFlight(), timeout.count());
        stop_timeout_ = timeout;
        stop_timer_.reset(evtimer_new(base_.get(), &Runner::onStopTimeout, this));
        const timeval tv = toTimeval(timeout);
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
    // `report`, when set (pyfpmctl reload), hears how it ended.
    void reload(std::function<void(control::ReloadOutcome)> report = {}) {
        const auto refuse = [&](std::vector<std::string> errors) {
            if (report) report({false, std::move(errors)});
        };
        if (stopping_) {
            spdlog::info("SIGHUP: stopping; reload ignored");
            return refuse({"the daemon is stopping"});
        }
        if (reloading_ && report) {
            return refuse({"a reload is under way; try again when it is done"});
        }
        if (reloading_) {
            reload_again_ = true;
            spdlog::info("SIGHUP: a reload is under way; reloading again after it");
            return;
        }
        notifier_.reloading();
        auto loaded = config::load(config_.file);
        if (!loaded.config) {
            for (const auto& error : loaded.errors) spdlog::error("reload: {}", error.toString());
            spdlog::error("reload: {} is invalid; keeping the running configuration", config_.file.string());
            notifier_.reloaded("Reload failed: the configuration is invalid; running the previous one");
            std::vector<std::string> errors;
            for (const auto& error : loaded.errors) errors.push_back(error.toString());
            return refuse(std::move(errors));
        }
        if (loaded.config->http.has_value() != config_.http.has_value()) {
            spdlog::error("reload: adding or removing the http section needs a restart; keeping the "
                          "running configuration");
            notifier_.reloaded("Reload failed: the http section was added or removed");
            return refuse({"adding or removing the http section needs a restart"});
        }
        spdlog::info("reload: {} is valid; applying it", config_.file.string());
        reloading_ = true;
        auto next = std::make_shared<config::Config>(std::move(*loaded.config));
        supervisor_->reload(next->pools, [this, next, report](std::vector<std::string> errors) {
            reloading_ = false;
            for (const auto& error : errors) spdlog::error("reload: {}", error);
            if (!errors.empty()) {
                spdlog::error("reload: not every pool could be replaced; the HTTP routes stay as they were");
            } else {
                applyDaemonSettings(*next);
            }
            notifier_.reloaded(errors.empty() ? "Reloaded" : "Reload failed: see the error log");
            if (report) report({errors.empty(), errors});
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
        setLogLevel(next.log_level);
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

    // The control socket (pyfpmctl(8)); throws manager::ListenError.
    void startControl() {
        control::DaemonHooks hooks;
        hooks.reload = [this](std::function<void(control::ReloadOutcome)> done) { reload(std::move(done)); };
        hooks.stop = [this](std::optional<std::chrono::milliseconds> timeout) {
            stop("pyfpmctl stop", timeout.value_or(config_.stop_timeout));
        };
        hooks.reopenLogs = [this] { return reopenLogFiles("pyfpmctl reopen-logs"); };
        control_dispatcher_ = std::make_unique<control::Dispatcher>(*supervisor_, std::move(hooks));
        control_ = std::make_unique<control::Server>(
            base_.get(), config_.control_socket,
            [this](const control::Request& request, control::Server::Reply reply) {
                control_dispatcher_->handle(request, std::move(reply));
            });
        spdlog::info("control socket {}", config_.control_socket.string());
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
    Notifier notifier_{base_.get(), [this] { return workerTotals(supervisor_.get()); }};
    std::unique_ptr<SupervisorPools> pools_;
    std::unique_ptr<http::Server> server_;
    std::unique_ptr<BridgeChannels> channels_;
    std::vector<EventPtr> signals_;
    std::unique_ptr<control::Dispatcher> control_dispatcher_;
    std::unique_ptr<control::Server> control_;
    EventPtr stop_timer_;
    std::chrono::milliseconds stop_timeout_{0};
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
