// No worker outlives the daemon, even when the daemon is SIGKILLed and has
// no chance to stop them (issue 3): the kernel's PR_SET_PDEATHSIG does it.
//
// A separate test program because it makes itself a child subreaper
// (PR_SET_CHILD_SUBREAPER): the orphaned workers become its children, so it
// can wait for them and see how they ended instead of guessing from /proc.
#include <sys/prctl.h>
#include <sys/wait.h>

#include <csignal>
#include <optional>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "test/support/process.hpp"

namespace pyfpm::manager {
namespace {

using namespace std::chrono_literals;

std::vector<pid_t> readPids(const std::filesystem::path& file)
{
    std::vector<pid_t> pids;
    std::istringstream in(test::readFile(file));
    pid_t pid = 0;
    while (in >> pid) {
        pids.push_back(pid);
    }
    return pids;
}

// Waits for an adopted orphan by its own pid, without blocking past `timeout`.
std::optional<int> waitAdopted(pid_t pid, std::chrono::milliseconds timeout)
{
    std::optional<int> result;
    test::waitUntil(
        [&] {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                result = status;
            }
            return result.has_value();
        },
        timeout);
    return result;
}

TEST(ParentDeath, workers_get_sigterm_when_the_daemon_is_sigkilled)
{
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    test::TempDir dir;
    const auto pidsFile = dir / "pids";

    test::Child::Options options;
    options.argv = {SUPERVISOR_HELPER, PYFPM_FAKE_WORKER, (dir / "web.sock").string(), pidsFile.string()};
    test::Child daemon(options);
    ASSERT_TRUE(test::waitUntil([&] { return readPids(pidsFile).size() == 2; }, 10s))
        << "the helper never reported two ready workers";
    const std::vector<pid_t> workers = readPids(pidsFile);

    daemon.signal(SIGKILL);
    const auto daemonStatus = daemon.wait(5s);
    ASSERT_TRUE(daemonStatus.has_value());
    ASSERT_TRUE(WIFSIGNALED(*daemonStatus));

    std::vector<std::optional<int>> statuses;
    for (const pid_t worker : workers) {
        statuses.push_back(waitAdopted(worker, 5s));
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
        if (!statuses[i]) {
            // Do not leave it behind when the test fails.
            ::kill(workers[i], SIGKILL);
            waitAdopted(workers[i], 5s);
        }
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
        ASSERT_TRUE(statuses[i].has_value()) << "worker " << workers[i] << " outlived its daemon";
        EXPECT_TRUE(WIFSIGNALED(*statuses[i]) && WTERMSIG(*statuses[i]) == SIGTERM)
            << "worker " << workers[i] << ": " << test::describeStatus(*statuses[i]);
    }
}

}  // namespace
}  // namespace pyfpm::manager
