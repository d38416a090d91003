// A pyfpm-worker started the way the daemon (or spawn-fcgi) starts one: a
// unix listening socket on descriptor 0, a notify pipe on descriptor 3
// (manager/worker_contract.hpp), stdout and stderr in files of its own temp
// dir. Killed and reaped by pid when the fixture goes away.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test/support/process.hpp"

namespace pyfpm::test {

class WorkerProcess {
public:
    struct Options {
        std::string app;                      // --app MODULE:CALLABLE; "" = none (e.g. --scripts in extraArgs)
        std::vector<std::string> pythonPath;  // --python-path, in order
        std::vector<std::string> extraArgs;
        std::map<std::string, std::string> env;
        // Further descriptors: {fd in the worker, fd in the test}, e.g. a
        // scoreboard on manager::contract::kScoreboardFd.
        std::vector<std::pair<int, int>> fds;
    };

    // Starts the worker; PYFPM_TEST_DIR=dir() is in its environment.
    explicit WorkerProcess(Options options);
    WorkerProcess(std::string app, std::vector<std::string> pythonPath,
                  std::map<std::string, std::string> env = {}, std::vector<std::string> extraArgs = {})
        : WorkerProcess(Options{std::move(app), std::move(pythonPath), std::move(extraArgs), std::move(env), {}})
    {
    }

    // The directory of the test apps (test/worker/apps) and of the examples.
    static std::filesystem::path testApps();
    static std::filesystem::path examples();

    // Waits for the ready line on the notify pipe: "ready\n", or "ready
    // @NAME\n" naming the bridge's channel (see channel()). False if the
    // worker exits (the pipe closes), `timeout` passes first, or the first
    // line is something else.
    bool waitReady(std::chrono::milliseconds timeout = 20s);
    // The ready line as written, newline included ("" before waitReady).
    std::string readyLine() const;
    // The channel's abstract socket name from "ready @NAME\n" (without the
    // leading NUL); "" when the worker announced none.
    const std::string& channel() const { return channel_; }
    // Waits until everything read from the notify pipe so far contains
    // `text`. False if the worker exits or `timeout` passes first.
    bool waitNotify(const std::string& text, std::chrono::milliseconds timeout = 10s);
    // Reads the notify pipe until the worker has closed it (it exited) and
    // returns all it ever wrote there; what was read before included.
    std::string notifyUntilClosed(std::chrono::milliseconds timeout = 10s);

    const std::filesystem::path& socket() const { return socket_; }
    // The test's descriptor of the listening socket (to measure its queue).
    int listenFd() const { return listen_.get(); }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::string stderrLog() const { return readFile(dir() / "stderr.log"); }
    std::string stdoutLog() const { return readFile(dir() / "stdout.log"); }
    Child& process() { return child_; }
    // Shuts the listening socket down (as a daemon that stops a pool would).
    void shutdownListener();

private:
    TempDir dir_;
    std::filesystem::path socket_;
    Fd listen_;
    Fd notifyRead_;
    std::string notified_;  // everything read from the notify pipe
    std::string channel_;
    bool notifyClosed_ = false;
    Child child_;

    // At most one read(2) from the notify pipe, after waiting up to
    // `timeout` for data or its end.
    void readNotify(std::chrono::milliseconds timeout);
};

}  // namespace pyfpm::test
