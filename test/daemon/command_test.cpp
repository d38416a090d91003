// Command pools end to end: the real daemon running foreign FastCGI
// responders on the pool socket (fd 0, spawn-fcgi's contract), reached
// through the HTTP bridge and through nginx. A C program built on libfcgi
// (apps/command/responder.c) and Debian's fcgiwrap running a shell CGI
// script (apps/command/cgi-bin/hello.sh).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "test/daemon/helpers.hpp"
#include "test/support/nginx.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

constexpr char kFcgiwrap[] = "/usr/sbin/fcgiwrap";

// The value of "key=value" lines in the responder's answer.
std::string valueOf(const std::string& body, const std::string& key) {
    const std::string prefix = key + "=";
    std::size_t at = 0;
    while (at < body.size()) {
        const std::size_t end = std::min(body.find('\n', at), body.size());
        if (body.compare(at, prefix.size(), prefix) == 0)
            return body.substr(at + prefix.size(), end - at - prefix.size());
        at = end + 1;
    }
    return "(no " + key + ")";
}

std::set<pid_t> workersOf(const Daemon& daemon) {
    const auto pids = childrenOf(daemon.pid());
    return {pids.begin(), pids.end()};
}

// `pyfpmctl -c CONFIG args...`: its exit status, stdout then stderr.
std::pair<int, std::string> ctl(const Daemon& daemon, std::vector<std::string> args) {
    static int counter = 0;
    const fs::path out = daemon.dir() / ("ctl-" + std::to_string(counter++) + ".out");
    std::vector<std::string> argv{requiredEnv("PYFPM_CTL"), "-c", daemon.configFile().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    Child child({.argv = argv, .env = {}, .fds = {}, .stdoutFile = out, .stderrFile = out.string() + ".err",
                 .cwd = {}});
    const auto status = child.wait(30s);
    const int exit = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return {exit, readFile(out) + readFile(out.string() + ".err")};
}

// One static pool `cmd` of the libfcgi responder, routed from /app/.
const char* const kResponderConfig = R"(
stop_timeout: 10s
control:
  socket: "{{dir}}/ctl.sock"
http:
  listen: 127.0.0.1:{{port}}
  status_path: /status
  routes:
    - {prefix: /app/, pool: cmd}
pools:
  cmd:
    command: ["{{responder}}", "--from-config"]
    listen: cmd.sock
    pm: static
    max_children: 2
    env: {COMMAND_TEST_VALUE: daemon}
)";

TEST(CommandPool, LibfcgiResponderServesThroughTheBridgeAndNginxAndIsRestarted) {
    Daemon daemon(kResponderConfig, {{"responder", COMMAND_RESPONDER}});
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("\\[pool cmd\\] pool running")) << daemon.log();
    std::set<pid_t> pids;
    ASSERT_TRUE(waitUntil([&] { return (pids = workersOf(daemon)).size() == 2; })) << daemon.log();

    // Through the bridge: SCRIPT_NAME is the route's prefix, PATH_INFO the
    // rest; DOCUMENT_ROOT the pool's working_dir (the config's folder).
    HttpResponse r = httpRequest("GET", daemon.url("/app/hello/there?q=1"));
    ASSERT_EQ(r.status, 200) << r.body << daemon.log();
    EXPECT_EQ(r.header("Content-Type"), "text/plain");
    EXPECT_TRUE(pids.count(std::stoi(valueOf(r.body, "pid")))) << r.body;
    EXPECT_EQ(valueOf(r.body, "script_name"), "/app");
    EXPECT_EQ(valueOf(r.body, "path_info"), "/hello/there");
    EXPECT_EQ(valueOf(r.body, "query"), "q=1");
    EXPECT_EQ(valueOf(r.body, "argv"), "--from-config");
    EXPECT_EQ(valueOf(r.body, "env"), "daemon");
    EXPECT_EQ(valueOf(r.body, "fds"), "0,1,2,3") << "the pool socket, the output pipe, the connection";
    EXPECT_EQ(fs::canonical(valueOf(r.body, "cwd")), fs::canonical(daemon.dir()));

    // Through nginx, straight to the pool socket.
    NginxFixture nginx(NginxFixture::fastcgiPassBody(daemon.dir() / "cmd.sock"));
    r = httpRequest("GET", nginx.url("/via/nginx?q=2"));
    ASSERT_EQ(r.status, 200) << r.body << nginx.errorLog();
    EXPECT_TRUE(pids.count(std::stoi(valueOf(r.body, "pid")))) << r.body;
    EXPECT_EQ(valueOf(r.body, "path_info"), "/via/nginx");
    EXPECT_EQ(valueOf(r.body, "query"), "q=2");

    // max_children is a bound, not only a first count: still the same two.
    EXPECT_EQ(workersOf(daemon), pids);

    // Status: the two workers, running, without request detail.
    const auto [exit, table] = ctl(daemon, {"status", "--workers"});
    EXPECT_EQ(exit, 0) << table;
    for (const pid_t pid : pids) {
        EXPECT_TRUE(std::regex_search(table, std::regex("\\ncmd +" + std::to_string(pid) + " +running +- ")))
            << table;
    }
    r = httpRequest("GET", daemon.url("/status?json&full"));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto page = nlohmann::json::parse(r.body);
    const auto& processes = page["pools"][0]["processes"];
    ASSERT_EQ(processes.size(), 2u) << r.body;
    for (const auto& process : processes) {
        EXPECT_TRUE(pids.count(process["pid"].get<pid_t>())) << process;
        EXPECT_EQ(process["state"], "Running");
        EXPECT_EQ(process["request uri"], "-");
    }
    EXPECT_EQ(page["pools"][0]["total processes"], 2);
    r = httpRequest("GET", daemon.url("/status?full"));
    EXPECT_TRUE(std::regex_search(r.body, std::regex("state: +Running"))) << r.body;

    // A killed worker is replaced, and its replacement serves.
    const pid_t victim = *pids.begin();
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    ASSERT_TRUE(daemon.waitForLog("worker " + std::to_string(victim) + " killed by SIGKILL")) << daemon.log();
    std::set<pid_t> after;
    ASSERT_TRUE(waitUntil([&] {
        after = workersOf(daemon);
        return after.size() == 2 && !after.count(victim);
    })) << daemon.log();
    const pid_t replacement = *std::find_if(after.begin(), after.end(), [&](pid_t p) { return !pids.count(p); });
    bool servedByReplacement = false;
    for (int i = 0; i < 50 && !servedByReplacement; ++i) {
        r = httpRequest("GET", daemon.url("/app/again"));
        ASSERT_EQ(r.status, 200) << r.body;
        servedByReplacement = valueOf(r.body, "pid") == std::to_string(replacement);
    }
    EXPECT_TRUE(servedByReplacement) << "replacement " << replacement;

    // SIGTERM to the daemon: libfcgi programs leave on SIGTERM, no SIGKILL.
    daemon.process().signal(SIGTERM);
    const auto status = daemon.process().wait(15s);
    ASSERT_TRUE(status.has_value()) << daemon.log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
    for (const pid_t pid : after) EXPECT_FALSE(processAlive(pid)) << pid;
    EXPECT_EQ(daemon.log().find("SIGKILL to"), std::string::npos) << daemon.log();
}

TEST(CommandPool, ReloadReplacesCommandWorkersWithoutHanging) {
    Daemon daemon(kResponderConfig, {{"responder", COMMAND_RESPONDER}});
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("\\[pool cmd\\] pool running")) << daemon.log();
    std::set<pid_t> before;
    ASSERT_TRUE(waitUntil([&] { return (before = workersOf(daemon)).size() == 2; }));

    std::string config = readFile(daemon.configFile());
    config.replace(config.find("--from-config"), 13, "--reloaded");
    writeFile(daemon.configFile(), config);
    const auto [exit, out] = ctl(daemon, {"reload"});
    EXPECT_EQ(exit, 0) << out << daemon.log();
    ASSERT_TRUE(waitUntil([&] {
        const auto now = workersOf(daemon);
        return now.size() == 2 && std::none_of(now.begin(), now.end(), [&](pid_t p) { return before.count(p); });
    }, 15s)) << daemon.log();
    const HttpResponse r = httpRequest("GET", daemon.url("/app/"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(valueOf(r.body, "argv"), "--reloaded");
}

// fcgiwrap runs the CGI script SCRIPT_FILENAME names. The bridge sends
// DOCUMENT_ROOT (the pool's working_dir) + SCRIPT_NAME (the route prefix);
// nginx sends what its config says.
TEST(CommandPool, FcgiwrapRunsAShellCgiScriptThroughTheBridgeAndNginx) {
    if (!fs::exists(kFcgiwrap)) GTEST_SKIP() << kFcgiwrap << " is missing (Debian package fcgiwrap)";
    const fs::path root = sourceRoot() / "test/daemon/apps/command";
    Daemon daemon(R"(
stop_timeout: 10s
http:
  listen: 127.0.0.1:{{port}}
  routes:
    - {prefix: /cgi-bin/hello.sh, pool: cgi}
pools:
  cgi:
    command: [/usr/sbin/fcgiwrap]
    listen: cgi.sock
    working_dir: "{{root}}"
    pm: static
    max_children: 1
)",
                  {{"root", root.string()}});
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("\\[pool cgi\\] listening on .* starting 1 worker of /usr/sbin/fcgiwrap"))
        << daemon.log();
    ASSERT_TRUE(daemon.waitForLog("\\[pool cgi\\] pool running")) << daemon.log();

    HttpResponse r = httpRequest("GET", daemon.url("/cgi-bin/hello.sh?name=bridge&x=1"));
    ASSERT_EQ(r.status, 200) << r.body << daemon.log();
    EXPECT_EQ(r.header("X-Cgi-Script"), "hello.sh");
    EXPECT_NE(r.body.find("hello from cgi\n"), std::string::npos) << r.body;
    EXPECT_EQ(valueOf(r.body, "query"), "name=bridge&x=1");
    EXPECT_EQ(valueOf(r.body, "method"), "GET");
    EXPECT_EQ(valueOf(r.body, "script_name"), "/cgi-bin/hello.sh");

    NginxFixture nginx(R"(
        location /cgi-bin/ {
            root )" + root.string() + R"(;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass unix:)" + (daemon.dir() / "cgi.sock").string() + R"(;
        }
)");
    r = httpRequest("GET", nginx.url("/cgi-bin/hello.sh?name=nginx"));
    ASSERT_EQ(r.status, 200) << r.body << nginx.errorLog();
    EXPECT_EQ(r.header("X-Cgi-Script"), "hello.sh");
    EXPECT_EQ(valueOf(r.body, "query"), "name=nginx");

    // fcgiwrap leaves on SIGTERM too: the daemon stops promptly.
    const auto pids = workersOf(daemon);
    daemon.process().signal(SIGTERM);
    const auto status = daemon.process().wait(15s);
    ASSERT_TRUE(status.has_value()) << daemon.log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
    for (const pid_t pid : pids) EXPECT_FALSE(processAlive(pid)) << pid;
    EXPECT_EQ(daemon.log().find("SIGKILL to"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace pyfpm::test
