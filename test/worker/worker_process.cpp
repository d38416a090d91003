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
    child.argv = {workerBinary().string(), "--app", options.app, "--pool", "test",
                  "--notify-fd", std::to_string(contract::kNotifyFd)};
    for (const auto& entry : options.pythonPath) {
        child.argv.push_back("--python-path");
        child.argv.push_back(entry);
    }
    child.argv.insert(child.argv.end(), options.extraArgs.begin(), options.extraArgs.end());
    child.env = options.env;
    child.env["PYFPM_TEST_DIR"] = dir().string();
    child.env["PYTHONDONTWRITEBYTECODE"] = "1";  // keep the source tree clean
    child.fds = {{contract::kListenFd, listen_.get()}, {contract::kNotifyFd, notifyWrite.get()}};
    child.stdoutFile = dir() / "stdout.log";
    child.stderrFile = dir() / "stderr.log";
    child_ = Child(child);
}

bool WorkerProcess::waitReady(std::chrono::milliseconds timeout)
{
    const std::string expected = contract::kReadyMessage;
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got.size() < expected.size()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd pfd{notifyRead_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        char buffer[16];
        const ssize_t n = ::read(notifyRead_.get(), buffer, sizeof buffer);
        if (n == 0) {
            return false;  // every writer is gone: the worker exited
        }
        if (n > 0) {
            got.append(buffer, static_cast<std::size_t>(n));
        }
    }
    return got == expected;
}

void WorkerProcess::shutdownListener()
{
    ::shutdown(listen_.get(), SHUT_RDWR);
}

}  // namespace pyfpm::test
