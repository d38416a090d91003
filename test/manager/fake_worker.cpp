// A stand-in for pyfpm-worker that keeps worker_contract.hpp (listen socket
// on fd 0, "ready\n" and "recycle REASON VALUE\n" on the --notify-fd
// descriptor, the scoreboard slot, --slowlog on SIGUSR2, exit codes) and
// behaves as `--app MODE` says, so manager tests need no Python:
//   serve            answer every connection with one line describing itself
//   serve-once       answer one connection, then stay ready without accepting
//   hold             per connection: read "METHOD URI\n", be Busy with it,
//                    answer, and stay Busy until the client closes; METHOD
//                    SEGV dies of SIGSEGV, RECYCLE asks to be recycled
//                    ("recycle max_rss 1")
//   hang             hold, but SIGTERM is ignored: only SIGKILL ends it
//   fail-start       write a traceback-like stderr and exit 3 (AppImport)
//   fail-until:PATH  fail-start while PATH does not exist, else serve
//   ignore-term      ignore SIGTERM, become ready, never exit by itself
//   never-ready      start and wait, never saying "ready" (SIGTERM ends it)
// SIGTERM (except for hang and ignore-term) is graceful, as pyfpm-worker's:
// an idle worker leaves at once, a busy one after its connection (by
// re-raising SIGTERM, so its status still says "killed by SIGTERM").
// --max-requests N: after N connections, "recycle max_requests N" once.
// --max-rss is accepted and ignored (RECYCLE stands in for it).
// With FAKE_WORKER_LOG set, appends "start PID MONOTONIC_MS" to that file
// first thing, so tests can measure the time between starts.
// The answer line: "pid=P pool=NAME pgid=G cwd=DIR fds=0,1,2,3,4 sigpipe=dfl
// FAKE_VALUE=v HOME=h".
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
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
#include <memory>
#include <string>
#include <vector>

#include "manager/scoreboard.hpp"
#include "manager/worker_contract.hpp"

namespace contract = pyfpm::manager::contract;

namespace {

volatile sig_atomic_t terminated = 0;
char slowlogPath[4096] = "";
char stackLine[128] = "";

void onTerm(int)
{
    terminated = 1;
}

// faulthandler-style: only open/write/close, all async-signal-safe.
void onSlowlogSignal(int)
{
    const int saved = errno;
    const int fd = ::open(slowlogPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0) {
        ssize_t ignored = ::write(fd, stackLine, std::strlen(stackLine));
        static_cast<void>(ignored);
        ::close(fd);
    }
    errno = saved;
}

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

// The request line of a hold/hang connection, without "\n"; "" at EOF.
std::string readLine(int fd)
{
    std::string line;
    char c = 0;
    while (line.size() < 1024) {
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || c == '\n') {
            break;
        }
        line.push_back(c);
    }
    return line;
}

// Blocks until the client closes (or sends more, which is ignored).
void waitForClose(int fd)
{
    char buffer[256];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
    }
}

std::uint64_t residentBytes()
{
    long pages = 0;
    long resident = 0;
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        std::fclose(statm);
    }
    return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

void install(int sig, void (*handler)(int), bool restart)
{
    struct sigaction action{};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = restart ? SA_RESTART : 0;
    ::sigaction(sig, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv)
{
    std::string mode;
    std::string pool;
    int notifyFd = -1;
    int scoreboardFd = -1;
    long slot = -1;
    long maxRequests = 0;
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
        } else if (arg == "--scoreboard-fd") {
            scoreboardFd = std::atoi(value.c_str());
        } else if (arg == "--slot") {
            slot = std::atol(value.c_str());
        } else if (arg == "--max-requests") {
            maxRequests = std::atol(value.c_str());
        } else if (arg == "--slowlog") {
            std::snprintf(slowlogPath, sizeof(slowlogPath), "%s", value.c_str());
        } else if (arg != "--python-path" && arg != "--virtualenv" && arg != "--max-rss") {
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
    // As pyfpm-worker: a client that went away is a failed write, not a
    // dead worker.
    std::signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<pyfpm::manager::SlotWriter> board;
    if (scoreboardFd >= 0 && slot >= 0) {
        try {
            board = std::make_unique<pyfpm::manager::SlotWriter>(scoreboardFd, static_cast<std::size_t>(slot));
        } catch (const std::exception& e) {
            die(contract::WorkerExit::Internal, std::string("scoreboard: ") + e.what());
        }
        board->started(::getpid());
    }

    constexpr char kFailUntil[] = "fail-until:";
    if (mode.rfind(kFailUntil, 0) == 0) {
        mode = std::filesystem::exists(mode.substr(sizeof(kFailUntil) - 1)) ? "serve" : "fail-start";
    }
    if (mode == "fail-start") {
        std::fprintf(stderr, "Traceback (most recent call last):\n");
        std::fprintf(stderr, "ModuleNotFoundError: No module named 'fake_app'\n");
        return static_cast<int>(contract::WorkerExit::AppImport);
    }
    if (mode == "never-ready") {
        for (;;) {
            ::pause();
        }
    }
    const bool holding = mode == "hold" || mode == "hang";
    if (mode != "serve" && mode != "serve-once" && mode != "ignore-term" && !holding) {
        die(contract::WorkerExit::Usage, "unknown --app mode " + mode);
    }

    int listening = 0;
    socklen_t length = sizeof(listening);
    if (::getsockopt(contract::kListenFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) {
        die(contract::WorkerExit::NotASocket, "descriptor 0 is not a listening socket");
    }
    if (mode == "ignore-term" || mode == "hang") {
        std::signal(SIGTERM, SIG_IGN);
    } else {
        // No SA_RESTART: an idle accept() or pause() returns to see the flag.
        install(SIGTERM, &onTerm, false);
    }
    if (slowlogPath[0] != '\0') {
        std::snprintf(stackLine, sizeof(stackLine), "fake stack of pid %d\n", static_cast<int>(::getpid()));
        install(contract::kSlowlogSignal, &onSlowlogSignal, true);
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
    if (board) {
        board->idle();
    }
    if (notifyFd >= 0) {
        writeAll(notifyFd, contract::kReadyMessage);
    }

    long served = 0;
    for (bool first = true; !terminated; first = false) {
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
        std::string method = "GET";
        std::string uri = "/";
        if (holding) {
            const std::string line = readLine(connection);
            const auto space = line.find(' ');
            method = line.substr(0, space);
            uri = space == std::string::npos ? "" : line.substr(space + 1);
        }
        if (board) {
            board->busy(method, uri, 0);
        }
        if (method == "SEGV") {
            const rlimit none{0, 0};
            ::setrlimit(RLIMIT_CORE, &none);  // no core file in the test's directory
            std::signal(SIGSEGV, SIG_DFL);    // past a sanitizer's own handler
            std::raise(SIGSEGV);
        }
        if (method == "RECYCLE" && notifyFd >= 0) {
            writeAll(notifyFd, std::string(contract::kRecyclePrefix) + "max_rss 1\n");
        }
        writeAll(connection, answer);
        if (holding) {
            waitForClose(connection);
        }
        ::close(connection);
        ++served;
        if (board) {
            board->finished(residentBytes());
            board->idle();
        }
        if (maxRequests > 0 && served == maxRequests && notifyFd >= 0) {
            writeAll(notifyFd, std::string(contract::kRecyclePrefix) + "max_requests " + std::to_string(maxRequests) +
                                   "\n");
        }
    }
    if (board) {
        board->draining();
    }
    // Ends as the default disposition would have, only later: status
    // checks (and the parent-death test) see "killed by SIGTERM".
    std::signal(SIGTERM, SIG_DFL);
    std::raise(SIGTERM);
    return static_cast<int>(contract::WorkerExit::Clean);
}
