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
        std::string app;                      // --app MODULE:CALLABLE
        std::vector<std::string> pythonPath;  // --python-path, in order
        std::vector<std::string> extraArgs;
        std::map<std::string, std::string> env;
    };

    // Starts the worker; PYFPM_TEST_DIR=dir() is in its environment.
    explicit WorkerProcess(Options options);
    WorkerProcess(std::string app, std::vector<std::string> pythonPath,
                  std::map<std::string, std::string> env = {}, std::vector<std::string> extraArgs = {})
        : WorkerProcess(Options{std::move(app), std::move(pythonPath), std::move(extraArgs), std::move(env)})
    {
    }

    // The directory of the test apps (test/worker/apps) and of the examples.
    static std::filesystem::path testApps();
    static std::filesystem::path examples();

    // Waits for "ready\n" on the notify pipe. False if the worker exits (the
    // pipe closes) or `timeout` passes first.
    bool waitReady(std::chrono::milliseconds timeout = 20s);

    const std::filesystem::path& socket() const { return socket_; }
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
    Child child_;
};

}  // namespace pyfpm::test
