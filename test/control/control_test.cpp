// pyfpmctl against a running daemon: every command, its exit statuses, and
// the rolling restart under load.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "test/control/ctl.hpp"
#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

using nlohmann::json;

const char* const kStatic2 = "    pm: static\n    max_children: 2\n    request_timeout: 20s\n";

class Control : public ::testing::Test {
protected:
    void SetUp() override
    {
        daemon_.start();
        ASSERT_TRUE(daemon_.waitForLog("pool running")) << daemon_.log();
    }

    CtlResult ctl(std::vector<std::string> args)
    {
        args.insert(args.begin(), {"-s", socket().string()});
        return runCtl(daemon_.dir(), args);
    }

    json status()
    {
        const CtlResult result = ctl({"status", "--json"});
        EXPECT_EQ(result.exit, 0) << result.err;
        return json::parse(result.out);
    }

    std::set<int> pids()
    {
        std::set<int> found;
        const json answer = status();
        for (const auto& worker : answer["pools"][0]["workers_detail"]) found.insert(worker["pid"].get<int>());
        return found;
    }

    std::filesystem::path socket() const { return daemon_.dir() / "ctl.sock"; }

    Daemon daemon_{controlConfig(kStatic2)};
};

TEST_F(Control, socket_is_mode_0600_and_owned_by_the_daemons_user)
{
    struct stat st{};
    ASSERT_EQ(::stat(socket().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(Control, status_json_has_every_pool_and_worker)
{
    const json answer = status();
    EXPECT_TRUE(answer["ok"].get<bool>());
    EXPECT_EQ(answer["pid"].get<int>(), daemon_.pid());
    ASSERT_EQ(answer["pools"].size(), 1u);
    const json& pool = answer["pools"][0];
    EXPECT_EQ(pool["name"], "web");
    EXPECT_EQ(pool["pm"], "static");
    EXPECT_EQ(pool["state"], "running");
    EXPECT_EQ(pool["max_children"], 2);
    EXPECT_EQ(pool["total_workers"], 2);
    for (const char* key : {"idle_workers", "busy_workers", "listen_queue", "accepted_conn", "max_children_reached",
                            "slow_requests", "recycles_total", "restarts"}) {
        EXPECT_TRUE(pool.contains(key)) << key;
    }
    ASSERT_EQ(pool["workers_detail"].size(), 2u);
    for (const auto& worker : pool["workers_detail"]) {
        EXPECT_GT(worker["pid"].get<int>(), 0);
        for (const char* key : {"state", "activity", "requests", "request_method", "request_uri",
                                "request_duration_ms", "rss_bytes"}) {
            EXPECT_TRUE(worker.contains(key)) << key;
        }
    }
}

TEST_F(Control, status_table_shows_pools_and_with_workers_each_worker)
{
    ASSERT_EQ(httpRequest("GET", daemon_.url("/hello")).status, 200);
    const CtlResult plain = ctl({"status"});
    ASSERT_EQ(plain.exit, 0) << plain.err;
    EXPECT_NE(plain.out.find("POOL"), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("MAX-REACHED"), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("web"), std::string::npos) << plain.out;
    EXPECT_EQ(plain.out.find("PID"), std::string::npos) << plain.out;

    const CtlResult full = ctl({"status", "web", "--workers"});
    ASSERT_EQ(full.exit, 0) << full.err;
    for (const int pid : pids()) {
        EXPECT_NE(full.out.find(std::to_string(pid)), std::string::npos) << full.out;
    }
    EXPECT_NE(full.out.find("GET /hello"), std::string::npos) << full.out;
}

TEST_F(Control, scale_up_and_down_is_observed_in_status)
{
    const CtlResult up = ctl({"scale", "web", "4"});
    ASSERT_EQ(up.exit, 0) << up.err << daemon_.log();
    json pool = status()["pools"][0];
    EXPECT_EQ(pool["max_children"], 4);
    EXPECT_EQ(pool["total_workers"], 4);
    EXPECT_EQ(pool["ready_workers"], 4);

    const CtlResult down = ctl({"scale", "web", "1"});
    ASSERT_EQ(down.exit, 0) << down.err << daemon_.log();
    pool = status()["pools"][0];
    EXPECT_EQ(pool["max_children"], 1);
    EXPECT_EQ(pool["total_workers"], 1);
    EXPECT_EQ(httpRequest("GET", daemon_.url("/hello")).status, 200);
}

TEST_F(Control, restart_under_load_drops_no_request_and_replaces_every_worker)
{
    const std::set<int> before = pids();
    std::atomic<bool> loading{true};
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&] {
            // Bounded: at most 400 requests per thread, ~5 ms each.
            for (int i = 0; i < 400 && (loading || i < 20); ++i) {
                const HttpResponse response = httpRequest("GET", daemon_.url("/sleep?ms=5"), {}, {}, 20s);
                (response.status == 200 ? ok : failed)++;
            }
        });
    }
    ASSERT_TRUE(waitUntil([&] { return ok > 20; })) << daemon_.log();
    const CtlResult busy = ctl({"status", "--workers"});
    std::cout << "pyfpmctl status --workers under load:\n" << busy.out << std::flush;

    const CtlResult restart = ctl({"restart", "web"});
    const int atRestart = ok;
    loading = false;
    for (auto& client : clients) client.join();
    ASSERT_EQ(restart.exit, 0) << restart.err << daemon_.log();
    EXPECT_NE(restart.out.find("restarted"), std::string::npos) << restart.out;
    EXPECT_EQ(failed, 0) << daemon_.log();
    EXPECT_GT(ok, atRestart) << "no request after the restart";

    const std::set<int> after = pids();
    EXPECT_EQ(after.size(), 2u);
    for (const int pid : after) EXPECT_EQ(before.count(pid), 0u) << pid << " survived the restart";
}

TEST_F(Control, reload_of_an_invalid_file_reports_file_line_and_keeps_serving)
{
    writeFile(daemon_.configFile(), daemon_.expand(controlConfig("    pm: static\n    max_chidren: 2\n")));
    const CtlResult reload = ctl({"reload"});
    EXPECT_EQ(reload.exit, 1) << reload.out << reload.err;
    const std::string where = daemon_.configFile().string() + ":";
    EXPECT_NE(reload.err.find(where), std::string::npos) << reload.err;
    EXPECT_NE(reload.err.find("max_chidren"), std::string::npos) << reload.err;
    EXPECT_EQ(httpRequest("GET", daemon_.url("/hello")).status, 200);

    const CtlResult json = ctl({"reload", "--json"});
    EXPECT_EQ(json.exit, 1);
    const auto answer = json::parse(json.out);
    EXPECT_EQ(answer["error"], "failed");
    ASSERT_FALSE(answer["errors"].empty());
    EXPECT_NE(answer["errors"][0].get<std::string>().find(where), std::string::npos);
}

TEST_F(Control, reload_of_a_valid_file_applies_it)
{
    writeFile(daemon_.configFile(), daemon_.expand(controlConfig("    pm: static\n    max_children: 3\n")));
    const CtlResult reload = ctl({"reload"});
    ASSERT_EQ(reload.exit, 0) << reload.err << daemon_.log();
    EXPECT_EQ(status()["pools"][0]["max_children"], 3);
}

TEST_F(Control, reopen_logs_answers_ok)
{
    const CtlResult result = ctl({"reopen-logs"});
    EXPECT_EQ(result.exit, 0) << result.err;
    EXPECT_EQ(result.out, "logs reopened\n");
    EXPECT_TRUE(daemon_.waitForLog("pyfpmctl reopen-logs: log reopened")) << daemon_.log();
}

TEST_F(Control, stop_answers_then_the_daemon_exits_0)
{
    const CtlResult result = ctl({"stop", "--timeout", "5"});
    EXPECT_EQ(result.exit, 0) << result.err;
    EXPECT_EQ(result.out, "stopped\n");
    const auto exit = daemon_.process().wait(10s);
    ASSERT_TRUE(exit.has_value());
    EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << describeStatus(*exit);
    EXPECT_FALSE(std::filesystem::exists(socket()));
    // And now it is not running.
    EXPECT_EQ(ctl({"status"}).exit, 3);
}

TEST_F(Control, unknown_pool_exits_5_for_every_pool_command)
{
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"status", "nope"}, {"scale", "nope", "2"}, {"restart", "nope"}}) {
        const CtlResult result = ctl(args);
        EXPECT_EQ(result.exit, 5) << args[0] << ": " << result.err;
        EXPECT_NE(result.err.find("no pool named \"nope\"; pools are: web"), std::string::npos) << result.err;
    }
}

TEST_F(Control, config_option_finds_the_socket)
{
    const CtlResult result = runCtl(daemon_.dir(), {"-c", daemon_.configFile().string(), "status"});
    EXPECT_EQ(result.exit, 0) << result.err;
}

TEST(ControlWithoutDaemon, no_socket_exits_3)
{
    TempDir dir;
    const CtlResult result = runCtl(dir.path(), {"-s", (dir / "none.sock").string(), "status"});
    EXPECT_EQ(result.exit, 3);
    EXPECT_NE(result.err.find("pyfpm is not running"), std::string::npos) << result.err;
}

TEST(ControlWithoutDaemon, stale_socket_file_exits_3)
{
    TempDir dir;
    { Fd listener = listenUnix(dir / "stale.sock"); }  // closed: nobody listens, the file stays
    const CtlResult result = runCtl(dir.path(), {"-s", (dir / "stale.sock").string(), "status"});
    EXPECT_EQ(result.exit, 3);
    EXPECT_NE(result.err.find("nothing listens"), std::string::npos) << result.err;
}

TEST(ControlWithoutDaemon, bad_usage_exits_2)
{
    TempDir dir;
    EXPECT_EQ(runCtl(dir.path(), {"frobnicate"}).exit, 2);
    EXPECT_EQ(runCtl(dir.path(), {"scale", "web"}).exit, 2);
    EXPECT_EQ(runCtl(dir.path(), {"scale", "web", "0"}).exit, 2);
}

TEST(ControlWithoutDaemon, check_config_runs_locally)
{
    TempDir dir;
    Daemon daemon(controlConfig(kStatic2));  // not started: only its files
    writeFile(daemon.configFile(), daemon.expand(controlConfig(kStatic2)));
    const CtlResult valid = runCtl(dir.path(), {"check-config", daemon.configFile().string()});
    EXPECT_EQ(valid.exit, 0) << valid.err;
    EXPECT_EQ(valid.out, daemon.configFile().string() + ": ok\n");

    writeFile(daemon.configFile(), "pools:\n  web:\n    pm: sometimes\n");
    const CtlResult invalid = runCtl(dir.path(), {"check-config", daemon.configFile().string()});
    EXPECT_EQ(invalid.exit, 1);
    EXPECT_NE(invalid.err.find(daemon.configFile().string() + ":3:5: pools.web.pm"), std::string::npos)
        << invalid.err;
    const CtlResult json = runCtl(dir.path(), {"check-config", "--json", daemon.configFile().string()});
    EXPECT_EQ(json.exit, 1);
    EXPECT_FALSE(json::parse(json.out)["ok"].get<bool>());
}

TEST(ControlWithoutDaemon, a_second_daemon_on_the_same_control_socket_refuses_to_start)
{
    Daemon first(controlConfig(kStatic2));
    first.start();
    const std::string yaml = first.expand(controlConfig(kStatic2));
    TempDir dir;
    // Same control socket, another pool socket.
    std::string second = yaml;
    second.replace(second.find("listen: web.sock"), 16, "listen: \"" + (dir / "web.sock").string() + "\"");
    second.replace(second.find("127.0.0.1:" + std::to_string(first.port())),
                   10 + std::to_string(first.port()).size(), "127.0.0.1:" + std::to_string(ephemeralPort()));
    writeFile(dir / "pyfpm.yaml", second);
    Child other({.argv = {requiredEnv("PYFPM_DAEMON"), "-c", (dir / "pyfpm.yaml").string()},
                 .env = {}, .fds = {}, .stdoutFile = dir / "out", .stderrFile = dir / "err", .cwd = {}});
    const auto exit = other.wait(20s);
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(WEXITSTATUS(*exit), 3);
    EXPECT_NE(readFile(dir / "err").find("another process is listening there"), std::string::npos)
        << readFile(dir / "err");
    EXPECT_EQ(runCtl(dir.path(), {"-s", (first.dir() / "ctl.sock").string(), "status"}).exit, 0);
}

}  // namespace
}  // namespace pyfpm::test
