// A stand-in for pyfpm-worker that keeps worker_contract.hpp (listen socket
// on fd 0, "ready\n" on the --notify-fd descriptor, exit codes) and behaves
// as `--app MODE` says, so manager tests need no Python:
//   serve            answer every connection with one line describing itself
//   serve-once       answer one connection, then stay ready without accepting
//   fail-start       write a traceback-like stderr and exit 3 (AppImport)
//   fail-until:PATH  fail-start while PATH does not exist, else serve
//   ignore-term      ignore SIGTERM, become ready, never exit by itself
// With FAKE_WORKER_LOG set, appends "start PID MONOTONIC_MS" to that file
// first thing, so tests can measure the time between starts.
// The answer line: "pid=P pool=NAME pgid=G cwd=DIR fds=0,1,2,3 sigpipe=dfl
// FAKE_VALUE=v HOME=h".
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "manager/worker_contract.hpp"

namespace contract = pyfpm::manager::contract;

namespace {

[[noreturn]] void die(contract::WorkerExit code, const std::string& message)
{
    std::fprintf(stderr, "fake-worker: %s\n", message.c_str());
    std::exit(static_cast<int>(code));
}

long long monotonicMs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string openFds()
{
    std::vector<int> fds;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return "?";
    }
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') {
            const int fd = std::atoi(entry->d_name);
            if (fd != ::dirfd(dir)) {
                fds.push_back(fd);
            }
        }
    }
    ::closedir(dir);
    std::sort(fds.begin(), fds.end());
    std::string text;
    for (const int fd : fds) {
        text += (text.empty() ? "" : ",") + std::to_string(fd);
    }
    return text;
}

std::string envOr(const char* name, const char* fallback)
{
    const char* value = std::getenv(name);
    return value != nullptr ? value : fallback;
}

void writeAll(int fd, const std::string& data)
{
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    std::string mode;
    std::string pool;
    int notifyFd = -1;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) {
            die(contract::WorkerExit::Usage, "missing value for " + arg);
        }
        const std::string value = argv[++i];
        if (arg == "--app") {
            mode = value;
        } else if (arg == "--pool") {
            pool = value;
        } else if (arg == "--notify-fd") {
            notifyFd = std::atoi(value.c_str());
        } else if (arg != "--python-path" && arg != "--virtualenv") {
            die(contract::WorkerExit::Usage, "unknown argument " + arg);
        }
    }

    if (const char* log = std::getenv("FAKE_WORKER_LOG")) {
        if (FILE* file = std::fopen(log, "a")) {
            std::fprintf(file, "start %d %lld\n", static_cast<int>(::getpid()), monotonicMs());
            std::fclose(file);
        }
    }

    // Captured before anything else opens a descriptor.
    const std::string fds = openFds();
    struct sigaction old{};
    ::sigaction(SIGPIPE, nullptr, &old);
    const char* sigpipe = old.sa_handler == SIG_IGN ? "ign" : old.sa_handler == SIG_DFL ? "dfl" : "handler";

    constexpr char kFailUntil[] = "fail-until:";
    if (mode.rfind(kFailUntil, 0) == 0) {
        mode = std::filesystem::exists(mode.substr(sizeof(kFailUntil) - 1)) ? "serve" : "fail-start";
    }
    if (mode == "fail-start") {
        std::fprintf(stderr, "Traceback (most recent call last):\n");
        std::fprintf(stderr, "ModuleNotFoundError: No module named 'fake_app'\n");
        return static_cast<int>(contract::WorkerExit::AppImport);
    }
    if (mode != "serve" && mode != "serve-once" && mode != "ignore-term") {
        die(contract::WorkerExit::Usage, "unknown --app mode " + mode);
    }

    int listening = 0;
    socklen_t length = sizeof(listening);
    if (::getsockopt(contract::kListenFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) {
        die(contract::WorkerExit::NotASocket, "descriptor 0 is not a listening socket");
    }
    if (mode == "ignore-term") {
        std::signal(SIGTERM, SIG_IGN);
    }

    char cwd[4096] = "?";
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) {
        std::strcpy(cwd, "?");
    }
    const std::string answer = "pid=" + std::to_string(::getpid()) + " pool=" + pool +
                               " pgid=" + std::to_string(::getpgrp()) + " cwd=" + cwd + " fds=" + fds +
                               " sigpipe=" + sigpipe + " FAKE_VALUE=" + envOr("FAKE_VALUE", "-") +
                               " HOME=" + envOr("HOME", "-") + "\n";

    std::printf("fake worker %d of pool %s up\n", static_cast<int>(::getpid()), pool.c_str());
    std::fflush(stdout);
    if (notifyFd >= 0) {
        writeAll(notifyFd, contract::kReadyMessage);
    }

    for (bool first = true;; first = false) {
        if (mode == "ignore-term" || (mode == "serve-once" && !first)) {
            ::pause();
            continue;
        }
        const int connection = ::accept(contract::kListenFd, nullptr, nullptr);
        if (connection < 0) {
            if (errno == EINTR) {
                continue;
            }
            die(contract::WorkerExit::Internal, std::string("accept: ") + std::strerror(errno));
        }
        writeAll(connection, answer);
        ::close(connection);
    }
}
