#include "test/worker/worker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "manager/worker_contract.hpp"

namespace pyfpm::test {

namespace fs = std::filesystem;
namespace contract = manager::contract;

fs::path WorkerProcess::testApps()
{
    return sourceRoot() / "test" / "worker" / "apps";
}

fs::path WorkerProcess::examples()
{
    return sourceRoot() / "examples";
}

WorkerProcess::WorkerProcess(Options options)
    : socket_(dir() / "worker.sock"), listen_(listenUnix(socket_))
{
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe2(2): ") + std::strerror(errno));
    }
    notifyRead_ = Fd(pipeFds[0]);
    Fd notifyWrite(pipeFds[1]);

    Child::Options child;
    child.argv = {workerBinary().string(), "--pool", "test", "--notify-fd", std::to_string(contract::kNotifyFd)};
    if (!options.app.empty()) {
        child.argv.insert(child.argv.end(), {"--app", options.app});
    }
    for (const auto& entry : options.pythonPath) {
        child.argv.push_back("--python-path");
        child.argv.push_back(entry);
    }
    child.argv.insert(child.argv.end(), options.extraArgs.begin(), options.extraArgs.end());
    child.env = options.env;
    child.env["PYFPM_TEST_DIR"] = dir().string();
    child.env["PYTHONDONTWRITEBYTECODE"] = "1";  // keep the source tree clean
    child.fds = {{contract::kListenFd, listen_.get()}, {contract::kNotifyFd, notifyWrite.get()}};
    child.fds.insert(child.fds.end(), options.fds.begin(), options.fds.end());
    child.stdoutFile = dir() / "stdout.log";
    child.stderrFile = dir() / "stderr.log";
    child_ = Child(child);
}

void WorkerProcess::readNotify(std::chrono::milliseconds timeout)
{
    pollfd pfd{notifyRead_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) {
        return;  // timeout, or EINTR: the caller's loop decides
    }
    char buffer[256];
    const ssize_t n = ::read(notifyRead_.get(), buffer, sizeof buffer);
    if (n == 0) {
        notifyClosed_ = true;  // every writer is gone: the worker exited
    } else if (n > 0) {
        notified_.append(buffer, static_cast<std::size_t>(n));
    }
}

bool WorkerProcess::waitNotify(const std::string& text, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (notified_.find(text) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || notifyClosed_) {
            return false;
        }
        readNotify(left);
    }
    return true;
}

bool WorkerProcess::waitReady(std::chrono::milliseconds timeout)
{
    // "ready\n", or "ready @NAME\n" with the bridge's channel.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (notified_.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || notifyClosed_) {
            return false;
        }
        readNotify(left);
    }
    const std::string line = notified_.substr(0, notified_.find('\n') + 1);
    const std::string prefix = contract::kReadyChannelPrefix;
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size() + 1) {
        channel_ = line.substr(prefix.size(), line.size() - prefix.size() - 1);
        return true;
    }
    return line == contract::kReadyMessage;
}

std::string WorkerProcess::readyLine() const
{
    const auto end = notified_.find('\n');
    return end == std::string::npos ? std::string() : notified_.substr(0, end + 1);
}

std::string WorkerProcess::notifyUntilClosed(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!notifyClosed_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        readNotify(left);
    }
    return notified_;
}

void WorkerProcess::shutdownListener()
{
    ::shutdown(listen_.get(), SHUT_RDWR);
}

}  // namespace pyfpm::test
