#include "src/pyfpm/daemon.hpp"

#include <event2/event.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "manager/listen_socket.hpp"
#include "manager/supervisor.hpp"
#include "src/pyfpm/http/pool_directory.hpp"
#include "src/pyfpm/http/server.hpp"

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
        const manager::PoolStatus status = supervisor_.status(pool);
        answer.reason = std::string(manager::toString(status.state));
        if (!status.lastFailure.empty()) answer.reason += ": " + status.lastFailure;
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
    Runner(const config::Config& config, const std::filesystem::path& workerBinary)
        : config_(config), worker_binary_(workerBinary), stop_timer_(nullptr, &event_free) {}

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
            supervisor_ = std::make_unique<manager::Supervisor>(base_.get(), worker_binary_);
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
            spdlog::warn("SIGHUP: configuration reload is not implemented in this release; "
                         "restart pyfpm to apply a changed file");
            return;
        case SIGUSR1:
            spdlog::info("SIGUSR1: logging goes to stderr only; nothing to reopen");
            return;
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

    void stopWorkers() {
        if (workers_stopping_) return;
        workers_stopping_ = true;
        supervisor_->stop([this] { event_base_loopexit(base_.get(), nullptr); });
    }

    const config::Config& config_;
    std::filesystem::path worker_binary_;
    BasePtr base_{event_base_new(), &event_base_free};
    std::unique_ptr<manager::Supervisor> supervisor_;
    std::unique_ptr<SupervisorPools> pools_;
    std::unique_ptr<http::Server> server_;
    std::vector<EventPtr> signals_;
    EventPtr stop_timer_;
    bool stopping_ = false;
    bool workers_stopping_ = false;
};

}  // namespace

ExitCode run(const config::Config& config, const std::filesystem::path& workerBinary) {
    // A client or worker that goes away while we write must not kill the
    // daemon; the write reports EPIPE instead.
    ::signal(SIGPIPE, SIG_IGN);
    Runner runner(config, workerBinary);
    return runner.run();
}

}  // namespace pyfpm::daemon
