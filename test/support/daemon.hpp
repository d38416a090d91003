// A pyfpm daemon for integration tests, in the spirit of php-fpm's FPM\Tester:
// a YAML template with placeholders, an ephemeral HTTP port, a temp dir for
// sockets and logs, readiness by connecting (never by sleeping), and a kill
// by pid when the test ends, pass or fail.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <string>

#include "test/support/process.hpp"

namespace pyfpm::test {

class Daemon {
public:
    // `yamlTemplate` may use these placeholders:
    //   {{port}}    an ephemeral 127.0.0.1 port for http.listen
    //   {{dir}}     the daemon's temp dir (sockets, files)
    //   {{source}}  the source tree (examples/, test apps)
    // plus any key of `vars` as {{key}}.
    explicit Daemon(const std::string& yamlTemplate,
                    const std::map<std::string, std::string>& vars = {});
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Starts `pyfpm -c CONFIG` with stderr to a log file. When the config has
    // an http section, waits until the port accepts connections; throws
    // std::runtime_error (with the log) if it does not within `timeout` or
    // the daemon exits first.
    void start(std::chrono::milliseconds timeout = 20s);

    // Waits until `regex` matches somewhere in the log (ECMAScript syntax).
    bool waitForLog(const std::string& regex, std::chrono::milliseconds timeout = 20s) const;
    // Waits until the pool socket accepts connections.
    bool waitForSocket(const std::filesystem::path& socket,
                       std::chrono::milliseconds timeout = 20s) const;

    int port() const { return port_; }
    std::string url(const std::string& path) const;  // http://127.0.0.1:PORT/path
    const std::filesystem::path& dir() const { return dir_.path(); }
    const std::filesystem::path& configFile() const { return config_; }
    std::string log() const;
    Child& process() { return process_; }
    pid_t pid() const { return process_.pid(); }

    // Fills the placeholders of `text` as start() does.
    std::string expand(const std::string& text) const;

private:
    TempDir dir_;
    int port_;
    std::map<std::string, std::string> vars_;
    std::filesystem::path config_;
    std::filesystem::path log_;
    Child process_;
};

// Pids of the live processes whose parent is `parent` (from /proc).
std::vector<pid_t> childrenOf(pid_t parent);

}  // namespace pyfpm::test
