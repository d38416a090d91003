// Test helpers: temp dirs, child processes that die with the test, sockets.
// Everything here cleans up in its destructor so a failing test leaves no
// daemon, worker or socket file behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pyfpm::test {

using namespace std::chrono_literals;

// A value the meson test() definition passes in the environment
// (PYFPM_WORKER, PYFPM_DAEMON, PYFPM_SOURCE_ROOT, ...). Aborts the test
// binary with a message when it is missing.
std::string requiredEnv(const char* name);
std::filesystem::path sourceRoot();   // $PYFPM_SOURCE_ROOT
std::filesystem::path workerBinary(); // $PYFPM_WORKER

// A fresh directory under $TMPDIR, removed recursively on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// A listening unix socket at `path` (removed first if it exists).
Fd listenUnix(const std::filesystem::path& path, int backlog = 128);
// Connects to a unix socket; invalid Fd on failure (errno kept).
Fd connectUnix(const std::filesystem::path& path);
// Connects to 127.0.0.1:port; invalid Fd on failure.
Fd connectTcp(const std::string& host, int port);
// A port the kernel considers free right now (bind to port 0, read, close).
int ephemeralPort();

std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, const std::string& content);

// Polls `condition` with a short, growing interval until it holds or
// `timeout` passes. For readiness that has no signal of its own (a socket
// accepting, a file appearing); never a fixed sleep.
bool waitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = 10s);

// A child process. The destructor SIGKILLs it (if still running) and reaps
// it, by its own pid only.
class Child {
public:
    struct Options {
        std::vector<std::string> argv;  // argv[0] is the program path
        // Added to (or replacing entries of) the test's environment.
        std::map<std::string, std::string> env;
        // Descriptors to hand over: {fd in the child, fd in the parent}. The
        // parent's fd is dup2'ed, so the same fd may appear twice.
        std::vector<std::pair<int, int>> fds;
        // Where stdout/stderr go; empty = inherit the test's.
        std::filesystem::path stdoutFile;
        std::filesystem::path stderrFile;
        std::filesystem::path cwd;
    };

    Child() = default;
    explicit Child(const Options& options);  // throws std::runtime_error
    ~Child();
    Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}
    Child& operator=(Child&& other) noexcept;

    pid_t pid() const { return pid_; }
    bool running();
    void signal(int sig);
    // Waits for the exit; returns the raw wait status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout = 10s);

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// "exit 3" / "signal 9 (Killed)" for a wait status, for assertion messages.
std::string describeStatus(int status);

}  // namespace pyfpm::test
