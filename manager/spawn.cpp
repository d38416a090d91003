#include "manager/spawn.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

// Only the Boost.Process parts used here: the umbrella header costs seconds
// and hundreds of MB per translation unit, so this is the one file that
// includes any of it.
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>

#include <fmt/format.h>

#include "manager/worker_contract.hpp"

extern char** environ;

namespace pyfpm::manager {

namespace bp = boost::process;

namespace {

constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";
constexpr int kSetupFailed = 127;  // as a shell reports a command it could not run

// Async-signal-safe report from the child, then exit: only write(2) and a
// static string (strerrordesc_np, glibc 2.32) between fork and exec.
[[noreturn]] void failInChild(const char* step, const char* subject)
{
    const int error = errno;
    const char* reason = ::strerrordesc_np(error);
    const bool hasSubject = subject != nullptr && subject[0] != '\0';
    const char* parts[] = {"pyfpm-worker setup: ", step, hasSubject ? " " : "", hasSubject ? subject : "", ": ",
                           reason != nullptr ? reason : "error", "\n"};
    for (const char* part : parts) {
        ssize_t ignored = ::write(STDERR_FILENO, part, std::strlen(part));
        static_cast<void>(ignored);
    }
    ::_exit(kSetupFailed);
}

// Boost.Process hook for the steps between fork and exec (spawn.hpp lists
// them). The descriptor moves happen here rather than with
// posix::fd.bind: bind_fd_ reports a failed dup2 and then execs anyway, and
// dup2 onto itself (a source that already is the target) would leave
// FD_CLOEXEC set.
struct ChildSetup : bp::extend::handler {
    static constexpr std::size_t kMaxFds = 5;

    pid_t daemonPid = -1;
    std::array<int, kMaxFds> sources{};  // index: descriptor number in the worker
    std::size_t fdCount = 0;             // 3 (a command pool), 4, or 5 with a scoreboard
    const Isolation* isolation = nullptr;
    const char* workingDir = nullptr;
    pid_t* forkedPid = nullptr;

    template <class Executor>
    void on_exec_setup(Executor&) const
    {
        // Dispositions set to SIG_IGN survive exec (SIGPIPE is ignored by
        // the daemon); handlers do not, but the mask does.
        struct sigaction dfl{};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig != SIGKILL && sig != SIGSTOP) {
                ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc's reserved ones
            }
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);

        // Descriptors first, so that every later failure is reported on the
        // worker's own stderr (the output pipe). Copy every source above the
        // targets first, so that no dup2 below overwrites a source another
        // target still needs.
        std::array<int, kMaxFds> high{};
        for (std::size_t i = 0; i < fdCount; ++i) {
            high[i] = ::fcntl(sources[i], F_DUPFD, static_cast<int>(fdCount));
            if (high[i] < 0) {
                failInChild("fcntl(2)", "F_DUPFD");
            }
        }
        for (std::size_t i = 0; i < fdCount; ++i) {
            if (::dup2(high[i], static_cast<int>(i)) < 0) {
                failInChild("dup2(2)", "worker descriptor");
            }
        }

        // Close-on-exec rather than closed: Boost.Process's own error pipe
        // must survive a failed execve to report it. Before the limits: a
        // small rlimit_files would cut the fallback loop short.
        const unsigned first = static_cast<unsigned>(fdCount);
        if (::close_range(first, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
            rlimit limit{};
            const rlim_t last = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                                    ? limit.rlim_cur
                                    : 65536;
            for (rlim_t fd = first; fd < last; ++fd) {
                ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
            }
        }

        if (::setpgid(0, 0) != 0) {
            failInChild("setpgid(2)", "0");
        }

        if (const char* failed = applyIsolation(*isolation)) {
            failInChild(failed, "");
        }

        // The kernel sends SIGTERM when the thread that forked us exits;
        // then the getppid() check covers a daemon that died before prctl.
        // After the uid switch: changing credentials clears the setting.
        if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
            failInChild("prctl(2)", "PR_SET_PDEATHSIG");
        }
        if (::getppid() != daemonPid) {
            ::_exit(kSetupFailed);
        }

        // As the worker's user: a directory it may not enter fails here,
        // not later in the application.
        if (workingDir != nullptr && ::chdir(workingDir) != 0) {
            failInChild("chdir(2)", workingDir);
        }
    }

    // Boost.Process reports a failed execve without the pid it forked; that
    // child exists and only the Reaper can collect it, so keep its pid.
    template <class Executor>
    void on_error(Executor& exec, const std::error_code&) const
    {
        *forkedPid = exec.pid;
    }
};

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe makePipe()
{
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe2(2)");
    }
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

std::filesystem::path workerProgram(const PoolConfig& pool, const std::filesystem::path& workerBinary)
{
    if (pool.kind == PoolKind::Command && !pool.command.empty()) {
        return pool.command.front();
    }
    return workerBinary;
}

bool keepsWorkerContract(const PoolConfig& pool)
{
    switch (pool.kind) {
    case PoolKind::App:
    case PoolKind::Scripts:
        return true;
    case PoolKind::Command:
        return false;
    }
    return true;
}

std::vector<std::string> workerArguments(const PoolConfig& pool)
{
    std::vector<std::string> arguments;
    if (pool.kind == PoolKind::Command) {
        if (!pool.command.empty()) {
            arguments.assign(pool.command.begin() + 1, pool.command.end());
        }
        return arguments;
    }
    if (pool.kind == PoolKind::Scripts) {
        arguments.insert(arguments.end(), {"--scripts", pool.scripts.root.string()});
        for (const auto& extension : pool.scripts.extensions) {
            arguments.insert(arguments.end(), {"--script-extension", extension});
        }
    } else {
        arguments.insert(arguments.end(), {"--app", pool.app});
    }
    for (const auto& dir : pool.python_path) {
        arguments.insert(arguments.end(), {"--python-path", dir.string()});
    }
    if (!pool.virtualenv.empty()) {
        arguments.insert(arguments.end(), {"--virtualenv", pool.virtualenv.string()});
    }
    arguments.insert(arguments.end(),
                     {"--pool", pool.name, "--notify-fd", std::to_string(contract::kNotifyFd)});
    if (pool.max_rss > 0) {
        arguments.insert(arguments.end(), {"--max-rss", std::to_string(pool.max_rss)});
    }
    if (pool.slowlog_timeout.count() > 0 && !pool.slowlog.empty()) {
        arguments.insert(arguments.end(), {"--slowlog", pool.slowlog.string()});
    }
    return arguments;
}

std::vector<std::string> workerSlotArguments(std::size_t slot, long requestLimit)
{
    std::vector<std::string> arguments{"--scoreboard-fd", std::to_string(contract::kScoreboardFd), "--slot",
                                       std::to_string(slot)};
    if (requestLimit > 0) {
        arguments.insert(arguments.end(), {"--max-requests", std::to_string(requestLimit)});
    }
    return arguments;
}

Environment workerEnvironment(const PoolConfig& pool, const Environment& daemon)
{
    Environment result;
    if (pool.clear_env) {
        const auto path = daemon.find("PATH");
        result["PATH"] = path != daemon.end() ? path->second : kDefaultPath;
    } else {
        result = daemon;
    }
    for (const auto& [name, value] : pool.env) {
        result[name] = value;
    }
    return result;
}

Environment currentEnvironment()
{
    Environment result;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const auto equals = text.find('=');
        if (equals != std::string_view::npos) {
            result.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
        }
    }
    return result;
}

SpawnedWorker spawnWorker(const SpawnRequest& request)
{
    // Descriptors 3 and 4 come in that order or not at all.
    assert(request.notifyPipe || request.scoreboardFd < 0);
    SpawnedWorker result;
    Pipe notify;
    Pipe output;
    try {
        if (request.notifyPipe) {
            notify = makePipe();
        }
        output = makePipe();
    } catch (const std::system_error& e) {
        result.error = e.what();
        return result;
    }

    bp::environment environment;
    for (const auto& [name, value] : request.environment) {
        environment[name] = value;
    }

    ChildSetup setup;
    setup.daemonPid = ::getpid();
    setup.sources = {request.listenFd, output.write.get(), output.write.get(), notify.write.get(),
                     request.scoreboardFd};
    setup.fdCount = !request.notifyPipe ? 3 : request.scoreboardFd >= 0 ? 5 : 4;
    static_assert(contract::kListenFd == 0 && contract::kNotifyFd == 3 && contract::kScoreboardFd == 4);
    setup.isolation = &request.isolation;
    const std::string workingDir = request.workingDir.string();
    setup.workingDir = workingDir.empty() ? nullptr : workingDir.c_str();
    pid_t forkedPid = -1;
    setup.forkedPid = &forkedPid;

    std::error_code ec;
    bp::child child(bp::exe = request.binary.string(), bp::args = request.arguments, environment, setup, ec);
    // ~child SIGKILLs an attached child, and its running()/wait() would
    // reap behind the Reaper's back: let go at once.
    child.detach();

    // Boost.Process returns once the child has exec'd or failed to (its
    // error pipe is close-on-exec), so the child's own setpgid has happened
    // and a signal to the group cannot race it.
    if (ec) {
        result.pid = forkedPid;
        result.error = forkedPid > 0 ? fmt::format("execve(2) {}: {}", request.binary.string(), ec.message())
                                     : fmt::format("fork(2): {}", ec.message());
    } else {
        result.pid = child.id();
    }
    result.notifyRead = std::move(notify.read);
    result.outputRead = std::move(output.read);
    return result;
}

}  // namespace pyfpm::manager
