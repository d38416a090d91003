// The daemon's own HTTP paths and its access log, end to end: a real pyfpm
// with real workers (test/daemon/apps/bridge_app.py), real HTTP clients.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

// One pool `web` routed from /, with the daemon's paths, an access log in
// the daemon's dir, plus `httpKeys` (lines indented two spaces) and
// `poolKeys` (four spaces).
std::string statusConfig(const std::string& httpKeys, const std::string& poolKeys) {
    return R"(
http:
  listen: 127.0.0.1:{{port}}
  routes: [{prefix: /, pool: web}]
  status_path: /status
  ping_path: /ping
  metrics_path: /metrics
  access_log: "{{dir}}/access.log"
)" + httpKeys + R"(
pools:
  web:
    app: bridge_app:app
    python_path: ["{{source}}/test/daemon/apps"]
    listen: web.sock
    request_timeout: 20s
)" + poolKeys;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string fileOrEmpty(const std::filesystem::path& path) {
    return std::filesystem::exists(path) ? readFile(path) : std::string();
}

// The samples prometheus_client reads from `text`, one "name|labels|value"
// per line; empty when the parser refuses the text.
std::string prometheusSamples(const std::filesystem::path& dir, const std::string& text) {
    writeFile(dir / "metrics.txt", text);
    writeFile(dir / "parse.py",
              "import sys\n"
              "from prometheus_client.parser import text_string_to_metric_families\n"
              "for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
              "    for s in f.samples:\n"
              "        labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))\n"
              "        print(f'{s.name}|{labels}|{s.value}')\n");
    const std::string command = "/usr/bin/python3 " + (dir / "parse.py").string() + " " +
                                (dir / "metrics.txt").string() + " >" + (dir / "samples.txt").string();
    if (std::system(command.c_str()) != 0) return {};
    return readFile(dir / "samples.txt");
}

TEST(DaemonStatus, status_page_in_every_format) {
    Daemon daemon(statusConfig("", "    pm: static\n    max_children: 2\n"));
    daemon.start();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(httpRequest("GET", daemon.url("/hello")).status, 200);

    // The scoreboard counts a request right after its worker ends it; the
    // second worker may still be loading the application.
    ASSERT_TRUE(waitUntil([&] {
        const auto doc = nlohmann::json::parse(httpRequest("GET", daemon.url("/status?json")).body);
        return doc["pools"][0]["accepted conn"].get<int>() >= 3 && doc["pools"][0]["total processes"] == 2;
    }));

    const HttpResponse text = httpRequest("GET", daemon.url("/status"));
    EXPECT_EQ(text.status, 200);
    EXPECT_EQ(text.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(std::regex_search(text.body, std::regex("^pool: +web\nprocess manager: +static\n")))
        << text.body;
    EXPECT_TRUE(std::regex_search(text.body, std::regex("\ntotal processes: +2\n"))) << text.body;
    EXPECT_TRUE(std::regex_search(text.body, std::regex("\npool state: +running\n"))) << text.body;
    EXPECT_EQ(text.body.find("pid:"), std::string::npos);

    const HttpResponse full = httpRequest("GET", daemon.url("/status?full"));
    std::smatch pids;
    std::string rest = full.body;
    int workers = 0;
    while (std::regex_search(rest, pids, std::regex("\npid: +(\\d+)\n"))) {
        ++workers;
        rest = pids.suffix();
    }
    EXPECT_EQ(workers, 2) << full.body;

    const HttpResponse json = httpRequest("GET", daemon.url("/status?json&full"));
    EXPECT_EQ(json.header("Content-Type"), "application/json");
    const auto doc = nlohmann::json::parse(json.body);
    const auto& pool = doc["pools"][0];
    EXPECT_EQ(pool["pool"], "web");
    EXPECT_EQ(pool["total processes"], 2);
    EXPECT_GE(pool["accepted conn"].get<int>(), 3);
    EXPECT_GE(pool["request duration"]["count"].get<int>(), 3);
    ASSERT_EQ(pool["processes"].size(), 2u);
    for (const auto& worker : pool["processes"]) EXPECT_TRUE(processAlive(worker["pid"].get<pid_t>()));

    for (const char* path : {"/status?format=prometheus", "/metrics"}) {
        const HttpResponse metrics = httpRequest("GET", daemon.url(path));
        EXPECT_EQ(metrics.status, 200);
        EXPECT_NE(metrics.header("Content-Type").find("version=0.0.4"), std::string::npos);
        const std::string samples = prometheusSamples(daemon.dir(), metrics.body);
        EXPECT_NE(samples.find("pyfpm_total_processes|pool=web|2.0\n"), std::string::npos) << samples;
        EXPECT_NE(samples.find("pyfpm_pool_state|pool=web,state=running|1.0\n"), std::string::npos) << samples;
        std::smatch count;
        ASSERT_TRUE(std::regex_search(samples, count,
                                      std::regex("pyfpm_request_duration_seconds_count\\|pool=web\\|(\\d+)")))
            << samples;
        EXPECT_GE(std::stoi(count[1]), 3);
    }
    EXPECT_EQ(httpRequest("POST", daemon.url("/status"), "x").status, 405);
}

TEST(DaemonStatus, status_and_ping_answer_while_every_worker_is_busy) {
    Daemon daemon(statusConfig("", "    pm: static\n    max_children: 1\n"));
    daemon.start();
    auto held = std::async(std::launch::async, [&] {
        return httpRequest("GET", daemon.url("/sleep?ms=4000"), {}, {}, 20s).status;
    });
    ASSERT_TRUE(waitUntil([&] {
        return std::regex_search(httpRequest("GET", daemon.url("/status")).body,
                                 std::regex("\nactive processes: +1\n"));
    }));
    // The only worker is busy for seconds yet: both answer at once.
    const HttpResponse ping = httpRequest("GET", daemon.url("/ping"), {}, {}, 2s);
    EXPECT_EQ(ping.status, 200);
    EXPECT_EQ(ping.body, "pong\n");
    const HttpResponse status = httpRequest("GET", daemon.url("/status?full"), {}, {}, 2s);
    EXPECT_EQ(status.status, 200);
    EXPECT_TRUE(std::regex_search(status.body, std::regex("\nstate: +Running\n"))) << status.body;
    EXPECT_NE(status.body.find("request URI:          /sleep?ms=4000\n"), std::string::npos) << status.body;
    EXPECT_EQ(held.get(), 200);
}

// GET `path` over a connection from `source` (an address of the loopback's
// 127/8) to 127.0.0.1:`port`; the status code, 0 on failure.
int statusFrom(const char* source, int port, const std::string& path) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local = {};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) return 0;
    sockaddr_in remote = {};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) return 0;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) return 0;
    std::string response;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd.get(), buffer, sizeof(buffer))) > 0;) response.append(buffer, static_cast<std::size_t>(n));
    return rawStatus(response);
}

TEST(DaemonStatus, allow_list_refuses_other_addresses) {
    Daemon daemon(statusConfig("  status_allow: [10.0.0.0/8]\n", "    pm: static\n    max_children: 1\n"));
    daemon.start();
    EXPECT_EQ(httpRequest("GET", daemon.url("/status")).status, 403);
    EXPECT_EQ(httpRequest("GET", daemon.url("/ping")).status, 403);
    EXPECT_EQ(httpRequest("GET", daemon.url("/metrics")).status, 403);
    EXPECT_EQ(httpRequest("GET", daemon.url("/hello")).status, 200);  // the application is not restricted
}

TEST(DaemonStatus, status_listen_serves_only_the_daemon_paths_to_allowed_peers) {
    const int statusPort = ephemeralPort();
    Daemon daemon(statusConfig("  status_listen: 127.0.0.1:{{status_port}}\n  status_allow: 127.0.0.1\n",
                               "    pm: static\n    max_children: 1\n"),
                  {{"status_port", std::to_string(statusPort)}});
    daemon.start();
    const std::string base = "http://127.0.0.1:" + std::to_string(statusPort);
    ASSERT_TRUE(waitUntil([&] { return statusFrom("127.0.0.1", statusPort, "/ping") == 200; }));
    EXPECT_EQ(httpRequest("GET", base + "/status").status, 200);
    EXPECT_EQ(httpRequest("GET", base + "/hello").status, 404);
    EXPECT_EQ(statusFrom("127.0.0.2", statusPort, "/status"), 403);
    EXPECT_EQ(statusFrom("127.0.0.2", statusPort, "/ping"), 403);
    // On the main listener the path is the application's again.
    EXPECT_EQ(httpRequest("GET", daemon.url("/ping")).body.find("pong"), std::string::npos);
}

TEST(DaemonAccessLog, one_line_per_request_with_status_bytes_times_pool_and_pid) {
    Daemon daemon(statusConfig("", "    pm: static\n    max_children: 1\n"));
    daemon.start();
    const HttpResponse pid = httpRequest("GET", daemon.url("/pid"), {}, {{"User-Agent", "status-test/1"}});
    ASSERT_EQ(pid.status, 200);
    EXPECT_FALSE(pid.hasHeader("X-Pyfpm-Worker"));
    ASSERT_EQ(httpRequest("GET", daemon.url("/missing")).status, 404);
    ASSERT_EQ(httpRequest("GET", daemon.url("/ping")).status, 200);

    const auto log = daemon.dir() / "access.log";
    ASSERT_TRUE(waitUntil([&] { return lines(fileOrEmpty(log)).size() >= 3; })) << fileOrEmpty(log);
    const auto written = lines(readFile(log));
    ASSERT_EQ(written.size(), 3u) << readFile(log);
    const std::regex combined(
        R"re(^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET (\S+) HTTP/1\.1" (\d{3}) (\d+) "-" "([^"]*)" (\d+\.\d{3}) (\S+) (\S+) (\S+)$)re");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(written[0], m, combined)) << written[0];
    EXPECT_EQ(m[1], "/pid");
    EXPECT_EQ(m[2], "200");
    EXPECT_EQ(m[3], std::to_string(pid.body.size()));
    EXPECT_EQ(m[4], "status-test/1");
    EXPECT_TRUE(std::regex_match(m[6].str(), std::regex(R"(\d+\.\d{3})"))) << m[6];
    EXPECT_LE(std::stod(m[6]), std::stod(m[5]));  // the worker's part of the request time
    EXPECT_EQ(m[7], "web");
    EXPECT_EQ(m[8], pid.body);  // the worker that served it, from the worker itself

    ASSERT_TRUE(std::regex_match(written[1], m, combined)) << written[1];
    EXPECT_EQ(m[2], "404");
    EXPECT_EQ(m[7], "web");
    ASSERT_TRUE(std::regex_match(written[2], m, combined)) << written[2];
    EXPECT_EQ(m[1], "/ping");
    EXPECT_EQ(m[3], "5");  // "pong\n"
    EXPECT_EQ(m[6], "-");   // answered by the daemon: no worker
    EXPECT_EQ(m[7], "-");
    EXPECT_EQ(m[8], "-");
}

TEST(DaemonAccessLog, reopened_after_a_rename_and_SIGUSR1) {
    Daemon daemon(statusConfig("", "    pm: static\n    max_children: 1\n"));
    daemon.start();
    const auto log = daemon.dir() / "access.log";
    ASSERT_EQ(httpRequest("GET", daemon.url("/hello?before")).status, 200);
    ASSERT_TRUE(waitUntil([&] { return fileOrEmpty(log).find("/hello?before") != std::string::npos; }));

    std::filesystem::rename(log, daemon.dir() / "access.log.1");
    ASSERT_EQ(::kill(daemon.pid(), SIGUSR1), 0);
    ASSERT_TRUE(daemon.waitForLog("SIGUSR1: log reopened"));
    ASSERT_TRUE(std::filesystem::exists(log));
    ASSERT_EQ(httpRequest("GET", daemon.url("/hello?after")).status, 200);
    ASSERT_TRUE(waitUntil([&] { return fileOrEmpty(log).find("/hello?after") != std::string::npos; }));
    EXPECT_EQ(fileOrEmpty(log).find("/hello?before"), std::string::npos);
    EXPECT_EQ(lines(readFile(daemon.dir() / "access.log.1")).size(), 1u);
}

}  // namespace
}  // namespace pyfpm::test
