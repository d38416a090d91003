// Worker isolation with real processes: limits and umask as /proc shows
// them, the user switch and socket ownership when the tests run as root
// (skipped otherwise), and a setup step that fails in the child.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "manager/isolation.hpp"
#include "test/manager/supervisor_fixture.hpp"

namespace pyfpm::manager {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::askWorker;
using testing::field;

std::string procFile(pid_t pid, const std::string& name)
{
    return test::readFile("/proc/" + std::to_string(pid) + "/" + name);
}

// The line of /proc/PID/status (or limits) starting with `key`.
std::string procLine(const std::string& text, const std::string& key)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key, 0) == 0) {
            return line;
        }
    }
    return {};
}

class IsolationTest : public testing::SupervisorFixture {
protected:
    static bool root() { return ::geteuid() == 0; }

    pid_t onlyWorker(const std::string& name) { return status(name).workers.front().pid; }
};

TEST_F(IsolationTest, limits_and_umask_are_set_before_exec)
{
    PoolConfig config = pool("web", "serve", 1);
    config.rlimit_files = 256;
    // Raising a hard limit needs root; lowering it does not.
    config.rlimit_core = root() ? PoolConfig::kUnlimited : 0;
    config.umask = 027;
    start({config});
    ASSERT_TRUE(runUntil([&] { return settled("web", 1); }));
    const pid_t worker = onlyWorker("web");

    const std::string limits = procFile(worker, "limits");
    EXPECT_TRUE(std::regex_match(procLine(limits, "Max open files"),
                                 std::regex("Max open files +256 +256 +files *")))
        << procLine(limits, "Max open files");
    // The hard limit only: a sanitizer runtime in the worker lowers its own
    // soft core limit to 0 at start.
    const std::string core = root() ? "unlimited" : "0";
    EXPECT_TRUE(std::regex_match(procLine(limits, "Max core file size"),
                                 std::regex("Max core file size +[0-9a-z]+ +" + core + " +bytes *")))
        << procLine(limits, "Max core file size");
    EXPECT_EQ(procLine(procFile(worker, "status"), "Umask:"), "Umask:\t0027");
}

TEST_F(IsolationTest, workers_run_as_the_pools_user_when_the_daemon_is_root)
{
    if (!root()) {
        GTEST_SKIP() << "user and group apply only when the daemon runs as root";
    }
    PoolConfig unprivileged = pool("nobody", "serve", 1);
    unprivileged.user = "nobody";
    unprivileged.working_dir = "/";  // the test's temp dir is private to root
    PoolConfig asRoot = pool("root", "serve", 1);
    start({unprivileged, asRoot});
    ASSERT_TRUE(runUntil([&] { return settled("nobody", 1) && settled("root", 1); }));

    const std::string proc = procFile(onlyWorker("nobody"), "status");
    EXPECT_EQ(procLine(proc, "Uid:"), "Uid:\t65534\t65534\t65534\t65534");
    EXPECT_EQ(procLine(proc, "Gid:"), "Gid:\t65534\t65534\t65534\t65534");
    EXPECT_EQ(procLine(proc, "Groups:"), "Groups:\t65534 ");
    EXPECT_EQ(field(askWorker(socketOf("nobody")), "pool"), "nobody") << "it serves as nobody";
    EXPECT_EQ(procLine(procFile(onlyWorker("root"), "status"), "Uid:"), "Uid:\t0\t0\t0\t0");

    EXPECT_TRUE(log.contains("^\\[pool root\\] no user set: its workers run as root"));
    EXPECT_FALSE(log.contains("^\\[pool nobody\\] no user set"));
    EXPECT_EQ(testing::matchingLines(log.lines(), "no user set").size(), 1u) << "one warning, at start";
}

TEST_F(IsolationTest, listen_owner_and_group_own_the_socket_file_when_root)
{
    if (!root()) {
        GTEST_SKIP() << "listen_owner and listen_group apply only when the daemon runs as root";
    }
    PoolConfig config = pool("web", "serve", 1);
    config.listen_owner = "nobody";
    config.listen_group = "nogroup";
    config.listen_mode = 0660;
    start({config});
    struct stat st{};
    ASSERT_EQ(::stat(socketOf("web").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    EXPECT_EQ(st.st_gid, 65534u);
    EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(IsolationTest, unknown_user_fails_start_and_leaves_nothing_behind)
{
    if (!root()) {
        GTEST_SKIP() << "user is looked up only when the daemon runs as root";
    }
    PoolConfig config = pool("web", "serve", 1);
    config.user = "no-such-user-pyfpm";
    supervisor = std::make_unique<Supervisor>(base.get(), PYFPM_FAKE_WORKER, quickOptions());
    try {
        supervisor->start({pool("other", "serve", 1), config});
        FAIL() << "expected an IsolationError";
    } catch (const IsolationError& e) {
        EXPECT_EQ(std::string(e.what()), "pool web: user 'no-such-user-pyfpm' does not exist");
    }
    EXPECT_FALSE(fs::exists(socketOf("web")));
    EXPECT_FALSE(fs::exists(socketOf("other")));
    EXPECT_TRUE(supervisor->poolNames().empty());
}

TEST_F(IsolationTest, a_limit_the_kernel_refuses_fails_the_pool_with_the_childs_reason)
{
    PoolConfig config = pool("web", "serve", 1);
    config.rlimit_files = 1L << 40;  // above fs.nr_open: refused even to root
    start({config});
    ASSERT_TRUE(runUntil([&] { return status("web").state == PoolState::Failing; }, 5s));
    const PoolStatus s = status("web");
    EXPECT_NE(s.lastFailure.find("exited with status 127 before it was ready"), std::string::npos) << s.lastFailure;
    EXPECT_EQ(s.lastFailureOutput,
              (std::vector<std::string>{"pyfpm-worker setup: setrlimit(2) RLIMIT_NOFILE: Operation not permitted"}));
}

}  // namespace
}  // namespace pyfpm::manager
