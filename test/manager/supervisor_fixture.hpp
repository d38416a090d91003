// A Supervisor on a real event loop with fake_worker pools, for the tests of
// the manager's apply layer: pool configs in a temp dir, quick stop and
// maintenance intervals, and clients that keep a "hold" worker busy.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "manager/supervisor.hpp"
#include "test/manager/loop_helpers.hpp"
#include "test/support/process.hpp"

namespace pyfpm::manager::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr std::array<StopStep, 2> kQuickStop{{
    {SIGTERM, std::chrono::milliseconds(300), StopStep::Target::Worker},
    {SIGKILL, std::chrono::milliseconds(2000), StopStep::Target::ProcessGroup},
}};

// One connection to a "hold" (or "hang") fake worker: sends "METHOD URI\n"
// at once; the worker answers its line and stays Busy until close().
// Never blocks: answered() reads what has arrived.
class HeldRequest {
public:
    HeldRequest(const fs::path& socket, const std::string& method, const std::string& uri)
        : fd_(test::connectUnix(socket))
    {
        if (fd_) {
            const std::string line = method + " " + uri + "\n";
            if (::send(fd_.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
                fd_.reset();
            }
        }
    }

    bool connected() const { return static_cast<bool>(fd_); }

    // True once the worker's whole answer line arrived.
    bool answered()
    {
        pump();
        return answer_.find('\n') != std::string::npos;
    }
    // True once the worker closed the connection (EOF), answered or not.
    bool closedByWorker()
    {
        pump();
        return eof_;
    }
    const std::string& answer() const { return answer_; }
    void close() { fd_.reset(); }

private:
    void pump()
    {
        while (fd_ && !eof_) {
            pollfd pfd{fd_.get(), POLLIN, 0};
            if (::poll(&pfd, 1, 0) <= 0) {
                return;
            }
            char buffer[512];
            const ssize_t n = ::read(fd_.get(), buffer, sizeof(buffer));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                eof_ = true;
                return;
            }
            answer_.append(buffer, static_cast<std::size_t>(n));
        }
    }

    test::Fd fd_;
    std::string answer_;
    bool eof_ = false;
};

// One whole request to a "hold" worker: connect, send, read the answer
// line, close. "" when the connection is refused or no answer comes within
// `timeout`. Blocks without running the daemon's loop: only for pools whose
// workers are up.
inline std::string holdRequest(const fs::path& socket, const std::string& uri = "/",
                               std::chrono::milliseconds timeout = 3s)
{
    test::Fd fd = test::connectUnix(socket);
    if (!fd) {
        return {};
    }
    const std::string line = "GET " + uri + "\n";
    if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        return {};
    }
    return readLine(fd.get(), timeout).value_or("");
}

inline std::set<pid_t> pidsOf(const PoolStatus& status)
{
    std::set<pid_t> pids;
    for (const auto& worker : status.workers) {
        pids.insert(worker.pid);
    }
    return pids;
}

// Indexes of the captured log lines that match `pattern`, in order.
inline std::vector<std::size_t> matchingLines(const std::vector<std::string>& lines, const std::string& pattern)
{
    const std::regex re(pattern);
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (std::regex_search(lines[i], re)) {
            found.push_back(i);
        }
    }
    return found;
}

class SupervisorFixture : public ::testing::Test {
protected:
    PoolConfig pool(const std::string& name, const std::string& mode, int maxChildren)
    {
        PoolConfig config;
        config.name = name;
        config.app = mode;
        config.listen.kind = ListenAddress::Kind::Unix;
        config.listen.path = socketOf(name);
        config.max_children = maxChildren;
        config.working_dir = dir.path();
        config.env = {{"FAKE_VALUE", "from-" + name}};
        return config;
    }

    fs::path socketOf(const std::string& name) const { return dir / (name + ".sock"); }

    // Quick enough for tests: ticks every 50 ms, 300 ms of SIGTERM grace.
    static SupervisorOptions quickOptions()
    {
        SupervisorOptions options;
        options.stopLadder = kQuickStop;
        options.maintenanceInterval = 50ms;
        options.killGrace = 300ms;
        options.reloadReadyTimeout = 5s;
        return options;
    }

    void start(const std::vector<PoolConfig>& pools, SupervisorOptions options = quickOptions())
    {
        supervisor = std::make_unique<Supervisor>(base.get(), PYFPM_FAKE_WORKER, options);
        supervisor->start(pools);
    }

    bool runUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s)
    {
        return testing::runUntil(base.get(), condition, timeout);
    }
    // Runs the loop for `duration`: only to show that something does NOT
    // happen within it.
    void runFor(std::chrono::milliseconds duration)
    {
        testing::runUntil(base.get(), [] { return false; }, duration);
    }

    PoolStatus status(const std::string& name) const { return supervisor->status(name); }

    // Every worker ready and none starting or stopping, `count` of them.
    bool settled(const std::string& name, int count) const
    {
        const PoolStatus s = status(name);
        return s.readyWorkers == count && s.startingWorkers == 0 && s.stoppingWorkers == 0 &&
               static_cast<int>(s.workers.size()) == count;
    }

    test::TempDir dir;
    LogCapture log;
    EventBasePtr base = makeEventBase();
    std::unique_ptr<Supervisor> supervisor;
};

}  // namespace pyfpm::manager::testing
