#include "test/support/daemon.hpp"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pyfpm::test {

namespace fs = std::filesystem;

Daemon::Daemon(const std::string& yamlTemplate, const std::map<std::string, std::string>& vars)
    : port_(ephemeralPort()), vars_(vars) {
    config_ = dir_ / "pyfpm.yaml";
    log_ = dir_ / "pyfpm.log";
    writeFile(config_, expand(yamlTemplate));
}

Daemon::~Daemon() {
    // A graceful stop first, so workers are stopped by their own manager;
    // SIGKILL (in ~Child) only when that does not finish in time.
    if (process_.pid() > 0 && process_.running()) {
        process_.signal(SIGTERM);
        process_.wait(15s);
    }
}

std::string Daemon::expand(const std::string& text) const {
    std::map<std::string, std::string> all = vars_;
    all["port"] = std::to_string(port_);
    all["dir"] = dir_.path().string();
    all["source"] = sourceRoot().string();
    std::string out = text;
    for (const auto& [key, value] : all) {
        const std::string placeholder = "{{" + key + "}}";
        for (std::size_t at = out.find(placeholder); at != std::string::npos;
             at = out.find(placeholder, at + value.size())) {
            out.replace(at, placeholder.size(), value);
        }
    }
    return out;
}

void Daemon::start(std::chrono::milliseconds timeout) {
    process_ = Child({.argv = {requiredEnv("PYFPM_DAEMON"), "-c", config_.string()},
                      .env = {},
                      .fds = {},
                      .stdoutFile = log_,
                      .stderrFile = log_,
                      .cwd = dir_.path()});
    const bool hasHttp = readFile(config_).find("http:") != std::string::npos;
    const bool ready = waitUntil(
        [&] {
            if (!process_.running()) return true;
            return hasHttp ? static_cast<bool>(connectTcp("127.0.0.1", port_)) : true;
        },
        timeout);
    if (!ready || !process_.running()) {
        const auto status = process_.wait(0ms);
        throw std::runtime_error("pyfpm did not come up (" +
                                 (status ? describeStatus(*status) : std::string("still starting")) +
                                 "); log:\n" + log());
    }
}

bool Daemon::waitForLog(const std::string& regex, std::chrono::milliseconds timeout) const {
    const std::regex re(regex);
    return waitUntil([&] { return std::regex_search(log(), re); }, timeout);
}

bool Daemon::waitForSocket(const fs::path& socket, std::chrono::milliseconds timeout) const {
    return waitUntil([&] { return static_cast<bool>(connectUnix(socket)); }, timeout);
}

std::string Daemon::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + (path.empty() || path[0] != '/' ? "/" : "") + path;
}

std::string Daemon::log() const { return readFile(log_); }

std::vector<pid_t> childrenOf(pid_t parent) {
    std::vector<pid_t> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        // pid (comm) state ppid ...; comm may hold spaces and parentheses.
        const std::size_t close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent && state != 'Z') pids.push_back(std::stoi(name));
    }
    return pids;
}

}  // namespace pyfpm::test
