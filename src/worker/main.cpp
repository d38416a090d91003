// pyfpm-worker: wiring only. See accept_loop.hpp, python_host.hpp and
// wsgi_app.hpp for what each part does, manager/worker_contract.hpp for the
// descriptors and exit codes.
#include "src/worker/py_ref.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <string_view>
#include <variant>

#include <fmt/core.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "manager/worker_contract.hpp"
#include "src/worker/accept_loop.hpp"
#include "src/worker/options.hpp"
#include "src/worker/python_host.hpp"
#include "src/worker/stop_signal.hpp"
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

void notifyReady(int fd, const std::string& pool)
{
    std::string_view message = contract::kReadyMessage;
    while (!message.empty()) {
        const ssize_t written = ::write(fd, message.data(), message.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            spdlog::warn("[pool {}] worker {}: write(2) to notify fd {}: {}; serving anyway", pool,
                         ::getpid(), fd, std::strerror(errno));
            return;
        }
        message.remove_prefix(static_cast<std::size_t>(written));
    }
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
    if (!options.virtualenv.empty() &&
        !std::filesystem::exists(std::filesystem::path(options.virtualenv) / "pyvenv.cfg")) {
        fmt::print(stderr, "pyfpm-worker: --virtualenv {}: not a virtualenv (no pyvenv.cfg)\n",
                   options.virtualenv);
        return code(WorkerExit::Usage);
    }

    int listenFd = -1;
    std::optional<PythonHost> host;
    try {
        listenFd = adoptListenSocket(contract::kListenFd);
        if (FCGX_Init() != 0) {
            fmt::print(stderr, "pyfpm-worker: FCGX_Init failed\n");
            return code(WorkerExit::Internal);
        }
        installStopHandlers();
        host.emplace(options, argv[0]);
    } catch (const std::exception& e) {
        fmt::print(stderr, "pyfpm-worker: {}\n", e.what());
        return code(WorkerExit::Internal);
    }

    WorkerExit exit = WorkerExit::Clean;
    try {
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
        if (stopRequested()) {
            spdlog::info("[pool {}] worker {}: stop signal while loading; exiting", options.pool, ::getpid());
        } else {
            if (options.notifyFd) {
                notifyReady(*options.notifyFd, options.pool);
            }
            spdlog::info("[pool {}] worker {}: {} loaded; accepting", options.pool, ::getpid(), options.app);
            PyThreadState* state = PyEval_SaveThread();
            exit = runAcceptLoop(listenFd, options.pool, [&](FCGX_Request& request) {
                PyEval_RestoreThread(state);
                application.serve(request);
                state = PyEval_SaveThread();
            });
            PyEval_RestoreThread(state);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "pyfpm-worker: {}\n", e.what());
        exit = WorkerExit::Internal;
    }
    host.reset();
    return code(exit);
}
