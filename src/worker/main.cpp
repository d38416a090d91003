// pyfpm-worker: wiring only. See accept_loop.hpp, channel.hpp, python_host.hpp,
// wsgi_app.hpp, script_host.hpp, worker_status.hpp and slowlog.hpp for what
// each part does, manager/worker_contract.hpp for the descriptors and exit
// codes.
#include "src/worker/py_ref.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/core.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "manager/scoreboard.hpp"
#include "manager/worker_contract.hpp"
#include "src/worker/accept_loop.hpp"
#include "src/worker/channel.hpp"
#include "src/worker/notify_pipe.hpp"
#include "src/worker/options.hpp"
#include "src/worker/python_host.hpp"
#include "src/worker/script_host.hpp"
#include "src/worker/slowlog.hpp"
#include "src/worker/stop_signal.hpp"
#include "src/worker/worker_status.hpp"
#include "src/worker/wsgi_app.hpp"

namespace {

namespace contract = pyfpm::manager::contract;
using contract::WorkerExit;
using namespace pyfpm::worker;

int code(WorkerExit exit)
{
    return static_cast<int>(exit);
}

void setUpLogging()
{
    auto logger = spdlog::stderr_logger_mt("pyfpm-worker");
    // Under the daemon, stderr is a pipe and the daemon adds the time:
    // "LEVEL: message" lets it log the line at its level
    // (manager/worker_output.hpp). By hand, on a terminal, a full line.
    logger->set_pattern(::isatty(STDERR_FILENO) ? "%Y-%m-%d %H:%M:%S.%e %l %v" : "%l: %v");
    spdlog::set_default_logger(std::move(logger));
}

// The notify descriptor must not leak into the application's subprocesses:
// the manager reads its end until every writer is gone.
bool adoptNotifyFd(int fd)
{
    const int flags = ::fcntl(fd, F_GETFD);
    return flags >= 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

// A slowlog that cannot be opened costs the stacks, not the service: the
// worker serves on and says so.
int openSlowlogOrWarn(const WorkerOptions& options)
{
    if (options.slowlog.empty()) {
        return -1;
    }
    const int fd = openSlowlog(options.slowlog);
    if (fd < 0) {
        spdlog::warn("[pool {}] worker {}: open(2) {}: {}; serving without a slowlog", options.pool,
                     ::getpid(), options.slowlog, std::strerror(errno));
    }
    return fd;
}

// The bridge's channel exists only for a parent that listens on the notify
// pipe; one that cannot be opened costs the daemon its fast path to this
// worker, not the service: the plain ready line sends it to the pool socket.
ChannelListener openChannelOrWarn(const NotifyPipe& notify, const std::string& pool)
{
    if (!notify.connected()) {
        return {};
    }
    auto opened = openChannelListener();
    if (auto* problem = std::get_if<std::string>(&opened)) {
        spdlog::warn("[pool {}] worker {}: {}; serving on the pool socket only", pool, ::getpid(), *problem);
        return {};
    }
    return std::move(std::get<ChannelListener>(opened));
}

// Marks the worker ready and runs the accept loop with `serve`, the GIL
// released while it waits. `what` names what it serves in the log line.
WorkerExit serveRequests(int listenFd, const WorkerOptions& options, const NotifyPipe& notify,
                         WorkerStatus& status, const std::function<void(FCGX_Request&)>& serve,
                         const std::string& what)
{
    if (stopRequested()) {
        spdlog::info("[pool {}] worker {}: stop signal while loading; exiting", options.pool, ::getpid());
        status.stopping();
        return WorkerExit::Clean;
    }
    ChannelListener channel = openChannelOrWarn(notify, options.pool);
    notify.send(channel.fd ? channelReadyMessage(channel.name) : std::string(contract::kReadyMessage));
    spdlog::info("[pool {}] worker {}: {}; accepting{}", options.pool, ::getpid(), what,
                 channel.fd ? " (and on channel @" + channel.name + ")" : std::string());
    PyThreadState* state = PyEval_SaveThread();
    const auto withGil = [&](FCGX_Request& request) {
        PyEval_RestoreThread(state);
        serve(request);
        state = PyEval_SaveThread();
    };
    const WorkerExit exit = runAcceptLoop(listenFd, std::move(channel.fd), options.pool, withGil, status);
    PyEval_RestoreThread(state);
    return exit;
}

std::string describeScripts(const WorkerOptions& options)
{
    std::string extensions;
    for (const auto& extension : options.scriptExtensions) {
        extensions += (extensions.empty() ? "" : " ") + extension;
    }
    return fmt::format("scripts under {} ({})", options.scriptsRoot, extensions);
}

}  // namespace

int main(int argc, char** argv)
{
    auto parsed = parseOptions(argc, argv);
    if (const int* exitCode = std::get_if<int>(&parsed)) {
        return *exitCode;
    }
    const WorkerOptions& options = std::get<WorkerOptions>(parsed);
    setUpLogging();

    if (const auto problem = checkListenSocket(contract::kListenFd); !problem.empty()) {
        fmt::print(stderr, "pyfpm-worker: {}; start it with the listening socket on descriptor 0\n",
                   problem);
        return code(WorkerExit::NotASocket);
    }
    if (options.notifyFd && !adoptNotifyFd(*options.notifyFd)) {
        fmt::print(stderr, "pyfpm-worker: --notify-fd {}: {}\n", *options.notifyFd, std::strerror(errno));
        return code(WorkerExit::Usage);
    }
    if (!options.scriptsRoot.empty() && !std::filesystem::is_directory(options.scriptsRoot)) {
        fmt::print(stderr, "pyfpm-worker: --scripts {}: not a folder\n", options.scriptsRoot);
        return code(WorkerExit::Usage);
    }
    if (!options.virtualenv.empty() &&
        !std::filesystem::exists(std::filesystem::path(options.virtualenv) / "pyvenv.cfg")) {
        fmt::print(stderr, "pyfpm-worker: --virtualenv {}: not a virtualenv (no pyvenv.cfg)\n",
                   options.virtualenv);
        return code(WorkerExit::Usage);
    }

    std::optional<pyfpm::manager::SlotWriter> slot;
    if (options.scoreboardFd) {
        try {
            slot.emplace(*options.scoreboardFd, *options.slot);
        } catch (const std::exception& e) {
            fmt::print(stderr, "pyfpm-worker: --scoreboard-fd {} --slot {}: {}\n", *options.scoreboardFd,
                       *options.slot, e.what());
            return code(WorkerExit::Usage);
        }
        // The mapping outlives the descriptor, and the application's
        // subprocesses must not inherit the table.
        ::close(*options.scoreboardFd);
        slot->started(::getpid());
    }
    const NotifyPipe notify(options.notifyFd, options.pool);
    WorkerStatus status(slot ? &*slot : nullptr, notify, {options.maxRequests, options.maxRssBytes},
                        options.pool);

    int listenFd = -1;
    std::optional<PythonHost> host;
    std::optional<SlowlogHandler> slowlog;
    try {
        listenFd = adoptListenSocket(contract::kListenFd);
        if (FCGX_Init() != 0) {
            fmt::print(stderr, "pyfpm-worker: FCGX_Init failed\n");
            return code(WorkerExit::Internal);
        }
        installStopHandlers();
        host.emplace(options, argv[0]);
        slowlog.emplace(openSlowlogOrWarn(options));
    } catch (const std::exception& e) {
        fmt::print(stderr, "pyfpm-worker: {}\n", e.what());
        return code(WorkerExit::Internal);
    }

    WorkerExit exit = WorkerExit::Clean;
    try {
        if (!options.scriptsRoot.empty()) {
            ScriptHost scripts(std::filesystem::absolute(options.scriptsRoot), options.scriptExtensions,
                               options.pool);
            exit = serveRequests(listenFd, options, notify, status,
                                 [&](FCGX_Request& request) { scripts.serve(request); }, describeScripts(options));
        } else {
            auto imported = host->importApp(*parseAppSpec(options.app));
            if (const auto* failure = std::get_if<ImportFailure>(&imported)) {
                fmt::print(stderr, "pyfpm-worker: cannot import app \"{}\": {}\n{}", options.app,
                           failure->reason, failure->traceback);
                std::fflush(nullptr);
                // No Py_FinalizeEx: it would wait for threads the half-imported
                // application may have started.
                ::_exit(code(WorkerExit::AppImport));
            }
            WsgiApplication application(std::move(std::get<PyRef>(imported)), options.pool);
            exit = serveRequests(listenFd, options, notify, status,
                                 [&](FCGX_Request& request) { application.serve(request); },
                                 options.app + " loaded");
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "pyfpm-worker: {}\n", e.what());
        exit = WorkerExit::Internal;
    }
    slowlog.reset();
    host.reset();
    return code(exit);
}
