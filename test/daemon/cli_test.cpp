// pyfpm's command line and exit statuses (pyfpm(8), EXIT STATUS).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

struct PyfpmRun {
    int exitCode = -1;
    std::string output;
};

PyfpmRun runPyfpm(const std::vector<std::string>& args, const TempDir& dir) {
    std::vector<std::string> argv = {requiredEnv("PYFPM_DAEMON")};
    argv.insert(argv.end(), args.begin(), args.end());
    const fs::path out = dir / "output.txt";
    fs::remove(out);
    Child child({.argv = argv, .env = {}, .fds = {}, .stdoutFile = out, .stderrFile = out, .cwd = dir.path()});
    const auto status = child.wait(20s);
    PyfpmRun run;
    if (status && WIFEXITED(*status)) run.exitCode = WEXITSTATUS(*status);
    run.output = readFile(out);
    return run;
}

TEST(Cli, CheckConfigSaysOkAndSpawnsNothing) {
    TempDir dir;
    writeFile(dir / "pyfpm.yaml", R"(
pools:
  web:
    app: bridge_app:app
    listen: web.sock
)");
    const PyfpmRun run = runPyfpm({"-t", "-c", (dir / "pyfpm.yaml").string()}, dir);
    EXPECT_EQ(run.exitCode, 0) << run.output;
    EXPECT_EQ(run.output, (dir / "pyfpm.yaml").string() + ": ok\n");
    EXPECT_FALSE(fs::exists(dir / "web.sock"));
}

TEST(Cli, CheckConfigPrintsEveryErrorWithItsPosition) {
    TempDir dir;
    writeFile(dir / "bad.yaml", "pools:\n  web:\n    app: bridge_app:app\n    listen: web.sock\n"
                                "    max_chidren: 2\n    pm: sometimes\n");
    const PyfpmRun run = runPyfpm({"-t", "-c", (dir / "bad.yaml").string()}, dir);
    EXPECT_EQ(run.exitCode, 1);
    const std::string file = (dir / "bad.yaml").string();
    EXPECT_NE(run.output.find(file + ":5:5: pools.web.max_chidren: unknown key"), std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find(file + ":6:5: pools.web.pm:"), std::string::npos) << run.output;
}

TEST(Cli, InvalidConfigExitsOneWithoutStarting) {
    TempDir dir;
    writeFile(dir / "bad.yaml", "pools: {}\nunknown: 1\n");
    const PyfpmRun run = runPyfpm({"-c", (dir / "bad.yaml").string()}, dir);
    EXPECT_EQ(run.exitCode, 1) << run.output;
    EXPECT_NE(run.output.find("unknown"), std::string::npos) << run.output;
}

TEST(Cli, VersionHelpAndUsage) {
    TempDir dir;
    const PyfpmRun version = runPyfpm({"--version"}, dir);
    EXPECT_EQ(version.exitCode, 0);
    EXPECT_NE(version.output.find("pyfpm " PYFPM_VERSION), std::string::npos) << version.output;
    const PyfpmRun help = runPyfpm({"--help"}, dir);
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.output.find("--config"), std::string::npos);
    EXPECT_EQ(runPyfpm({}, dir).exitCode, 2);
    EXPECT_EQ(runPyfpm({"-c", "/nonexistent.yaml"}, dir).exitCode, 2);
    EXPECT_EQ(runPyfpm({"--bogus"}, dir).exitCode, 2);
}

TEST(Cli, SocketOwnedByAnotherLiveProcessExitsThree) {
    TempDir dir;
    Fd owner = listenUnix(dir / "web.sock");
    writeFile(dir / "pyfpm.yaml", "pools:\n  web:\n    app: bridge_app:app\n    listen: web.sock\n");
    const PyfpmRun run = runPyfpm({"-c", (dir / "pyfpm.yaml").string()}, dir);
    EXPECT_EQ(run.exitCode, 3) << run.output;
    EXPECT_NE(run.output.find("web.sock"), std::string::npos) << run.output;
    EXPECT_TRUE(fs::exists(dir / "web.sock")) << "the other process's socket was removed";
}

TEST(Cli, HttpAddressInUseExitsThreeAndLeavesNoWorker) {
    TempDir dir;
    // Take a port by listening on it ourselves.
    Daemon holder(webPoolConfig("    max_children: 1\n"));
    holder.start();
    // The same port, another pool socket.
    std::string taken = holder.expand(webPoolConfig("    max_children: 1\n"));
    taken.replace(taken.find("web.sock"), 8, "other.sock");
    writeFile(dir / "pyfpm.yaml", taken);
    const PyfpmRun run = runPyfpm({"-c", (dir / "pyfpm.yaml").string()}, dir);
    EXPECT_EQ(run.exitCode, 3) << run.output;
    EXPECT_NE(run.output.find("Address already in use"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace pyfpm::test
