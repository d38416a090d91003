// etc/systemd/pyfpm.service.in: the directives the daemon's behaviour relies
// on, and, where systemd is installed, systemd's own verdict on the unit.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "src/pyfpm/config/config.hpp"
#include "test/support/process.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path unitTemplate() { return sourceRoot() / "etc" / "systemd" / "pyfpm.service.in"; }

// "[Section] Key" -> values in order (Exec lines may repeat). Fails the test
// on a line that is neither a comment, a section, nor Key=Value.
std::multimap<std::string, std::string> parseUnit(const std::string& text) {
    std::multimap<std::string, std::string> keys;
    std::istringstream in(text);
    std::string line, section;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line.front() == '[' && line.back() == ']') {
            section = line;
            continue;
        }
        const auto eq = line.find('=');
        EXPECT_TRUE(eq != std::string::npos && eq > 0 && !section.empty())
            << "line " << number << " is not Key=Value in a section: " << line;
        if (eq == std::string::npos) continue;
        keys.emplace(section + " " + line.substr(0, eq), line.substr(eq + 1));
    }
    return keys;
}

std::string only(const std::multimap<std::string, std::string>& keys, const std::string& key) {
    EXPECT_EQ(keys.count(key), 1u) << key;
    const auto it = keys.find(key);
    return it == keys.end() ? "" : it->second;
}

// The unit with this build's daemon and a config file, as meson fills it in.
std::string filledUnit(const fs::path& configDir) {
    std::string text = readFile(unitTemplate());
    text = std::regex_replace(text, std::regex("@SBINDIR@"), fs::path(requiredEnv("PYFPM_DAEMON")).parent_path().string());
    return std::regex_replace(text, std::regex("@SYSCONFDIR@"), configDir.string());
}

Child::Options analyzeOptions(const char* analyze, const fs::path& unit, const fs::path& out) {
    Child::Options options;
    options.argv = {analyze, "verify", "--man=no", unit.string()};
    options.stdoutFile = options.stderrFile = out;
    return options;
}

TEST(UnitFile, is_a_notify_service_that_reloads_with_sighup) {
    const auto keys = parseUnit(readFile(unitTemplate()));
    EXPECT_EQ(only(keys, "[Service] Type"), "notify");
    // Only the daemon's messages count; workers may inherit NOTIFY_SOCKET.
    EXPECT_EQ(only(keys, "[Service] NotifyAccess"), "main");
    EXPECT_EQ(only(keys, "[Service] ExecStart"), "@SBINDIR@/pyfpm -c @SYSCONFDIR@/pyfpm/pyfpm.yaml");
    EXPECT_EQ(only(keys, "[Service] ExecStartPre"), "@SBINDIR@/pyfpm -t -c @SYSCONFDIR@/pyfpm/pyfpm.yaml");
    EXPECT_EQ(only(keys, "[Service] ExecReload"), "/bin/kill -HUP $MAINPID");
    EXPECT_EQ(only(keys, "[Install] WantedBy"), "multi-user.target");
}

TEST(UnitFile, stop_leaves_the_workers_to_the_daemon_for_longer_than_stop_timeout) {
    const auto keys = parseUnit(readFile(unitTemplate()));
    // mixed: SIGTERM to the main process only; the final SIGKILL to all.
    EXPECT_EQ(only(keys, "[Service] KillMode"), "mixed");
    EXPECT_EQ(only(keys, "[Service] KillSignal"), "SIGTERM");
    std::smatch m;
    const auto timeout = only(keys, "[Service] TimeoutStopSec");
    ASSERT_TRUE(std::regex_match(timeout, m, std::regex("(\\d+)s"))) << timeout;
    // The default stop_timeout, then the workers' SIGTERM (3 s) and SIGKILL
    // (1 s) steps, with a margin.
    const auto stopTimeout = std::chrono::duration_cast<std::chrono::seconds>(config::Config{}.stop_timeout);
    EXPECT_GE(std::stoi(m[1]), stopTimeout.count() + 5);
}

TEST(UnitFile, sockets_and_logs_have_writable_folders_under_a_read_only_system) {
    const auto keys = parseUnit(readFile(unitTemplate()));
    EXPECT_EQ(only(keys, "[Service] RuntimeDirectory"), "pyfpm");
    EXPECT_EQ(only(keys, "[Service] LogsDirectory"), "pyfpm");
    EXPECT_EQ(only(keys, "[Service] ProtectSystem"), "strict");
    EXPECT_EQ(only(keys, "[Service] PrivateTmp"), "yes");
    // Pool users: the daemon must keep the power to switch to them.
    const auto caps = only(keys, "[Service] CapabilityBoundingSet");
    for (const char* cap : {"CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL"})
        EXPECT_NE(caps.find(cap), std::string::npos) << cap;
}

TEST(UnitFile, systemd_analyze_verify_accepts_it) {
    const char* analyze = std::getenv("SYSTEMD_ANALYZE");
    if (!analyze) GTEST_SKIP() << "systemd-analyze is not installed (package systemd)";
    TempDir dir;
    fs::create_directories(dir / "pyfpm");
    const auto unit = dir / "pyfpm.service";
    writeFile(unit, filledUnit(dir.path()));
    Child verify(analyzeOptions(analyze, unit, dir / "out"));
    const auto status = verify.wait(30s);
    ASSERT_TRUE(status.has_value()) << "systemd-analyze verify did not finish";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
    EXPECT_EQ(readFile(dir / "out"), "");
}

TEST(UnitFile, systemd_analyze_verify_rejects_a_broken_copy) {
    // The check above can fail: a misspelt value is reported.
    const char* analyze = std::getenv("SYSTEMD_ANALYZE");
    if (!analyze) GTEST_SKIP() << "systemd-analyze is not installed (package systemd)";
    TempDir dir;
    const auto unit = dir / "pyfpm.service";
    writeFile(unit, std::regex_replace(filledUnit(dir.path()), std::regex("KillMode=mixed"), "KillMode=mixd"));
    Child verify(analyzeOptions(analyze, unit, dir / "out"));
    ASSERT_TRUE(verify.wait(30s).has_value());
    EXPECT_NE(readFile(dir / "out").find("kill mode"), std::string::npos) << readFile(dir / "out");
}

}  // namespace
}  // namespace pyfpm::test
