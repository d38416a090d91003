// The status formatters (src/pyfpm/status), the allow-list ranges, the
// access log format: pure functions checked against golden text, JSON
// fields, and the Prometheus exposition as a real parser reads it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "src/pyfpm/config/cidr.hpp"
#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/config/loader.hpp"
#include "src/pyfpm/config/log_format.hpp"
#include "src/pyfpm/http/access_log.hpp"
#include "src/pyfpm/status/format.hpp"
#include "test/support/process.hpp"

namespace pyfpm {
namespace {

using namespace std::chrono_literals;
using manager::PoolStatus;
using manager::WorkerStatus;

class StatusFormat : public ::testing::Test {
protected:
    void SetUp() override {
        // Golden times are in UTC whatever the machine's zone.
        ::setenv("TZ", "UTC", 1);
        ::tzset();
        now.wall = std::chrono::system_clock::from_time_t(1'700'000'100);  // 14/Nov/2023:22:15:00
        now.steady = std::chrono::steady_clock::time_point(1000s);

        pool.name = "web";
        pool.state = manager::PoolState::Running;
        pool.pm = manager::ProcessManager::Dynamic;
        pool.maxChildren = 4;
        pool.limits.startServers = 2;
        pool.limits.minSpareServers = 1;
        pool.limits.maxSpareServers = 3;
        pool.limits.maxRequests = 500;
        pool.limits.requestTimeout = 30s;
        pool.startTime = std::chrono::system_clock::from_time_t(1'700'000'000);
        pool.idleWorkers = 1;
        pool.busyWorkers = 1;
        pool.listenQueue = -1;
        pool.maxListenQueue = 3;
        pool.listenBacklog = 511;
        pool.acceptedConnections = 42;
        pool.maxChildrenReached = 2;
        pool.slowRequests = 1;
        pool.recycles = {{"max_requests", 5}};
        pool.restarts = 1;
        pool.timeoutKills = 2;
        pool.maxActiveProcesses = 2;
        pool.requestDurations.buckets[0] = 40;  // <= 5 ms
        pool.requestDurations.buckets[7] = 1;   // <= 1 s
        pool.requestDurations.buckets[11] = 1;  // > 10 s
        pool.requestDurations.sumUs = 12'700'000;

        WorkerStatus busy;
        busy.pid = 4121;
        busy.activity = manager::SlotState::Busy;
        busy.startedAt = now.steady - 50s;
        busy.requests = 30;
        busy.method = "GET";
        busy.uri = "/report?x=1";
        busy.contentLength = 0;
        busy.requestDuration = 1500ms;
        busy.lastRequestDuration = 2000us;
        busy.rssBytes = 20'000'000;
        WorkerStatus idle;
        idle.pid = 4122;
        idle.activity = manager::SlotState::Idle;
        idle.startedAt = now.steady - 100s;
        idle.requests = 12;
        idle.method = "POST";
        idle.uri = "/form";
        idle.contentLength = 17;
        idle.lastRequestDuration = 3250us;
        idle.rssBytes = 19'000'000;
        pool.workers = {busy, idle};
    }

    status::Now now;
    PoolStatus pool;
};

TEST_F(StatusFormat, text_has_php_fpm_fields_in_php_fpm_order) {
    const std::string text = status::formatText({pool}, false, now);
    const std::string phpFpm =
        "pool:                 web\n"
        "process manager:      dynamic\n"
        "start time:           14/Nov/2023:22:13:20 +0000\n"
        "start since:          100\n"
        "accepted conn:        42\n"
        "listen queue:         0\n"
        "max listen queue:     3\n"
        "listen queue len:     511\n"
        "idle processes:       1\n"
        "active processes:     1\n"
        "total processes:      2\n"
        "max active processes: 2\n"
        "max children reached: 2\n"
        "slow requests:        1\n";
    EXPECT_EQ(text.substr(0, phpFpm.size()), phpFpm);
    const std::string extras =
        "pool state:           running\n"
        "max children:         4\n"
        "start servers:        2\n"
        "min spare servers:    1\n"
        "max spare servers:    3\n"
        "max requests:         500\n"
        "max rss:              0\n"
        "request timeout:      30000ms\n"
        "starting processes:   0\n"
        "stopping processes:   0\n"
        "recycles max_requests: 5\n"
        "recycles max_rss:     0\n"
        "kills request_timeout: 2\n"
        "restarts:             1\n"
        "emergency restarts:   0\n";
    EXPECT_EQ(text.substr(phpFpm.size()), extras);
}

TEST_F(StatusFormat, text_full_adds_a_block_per_worker) {
    const std::string text = status::formatText({pool}, true, now);
    const std::string busy =
        "\n************************\n"
        "pid:                  4121\n"
        "state:                Running\n"
        "start time:           14/Nov/2023:22:14:10 +0000\n"
        "start since:          50\n"
        "requests:             30\n"
        "request duration:     1500000\n"
        "request method:       GET\n"
        "request URI:          /report?x=1\n"
        "content length:       0\n"
        "last request memory:  20000000\n";
    EXPECT_NE(text.find(busy), std::string::npos) << text;
    EXPECT_NE(text.find("state:                Idle\n"), std::string::npos);
    EXPECT_NE(text.find("request duration:     3250\n"), std::string::npos);
    EXPECT_EQ(status::formatText({pool}, false, now).find("pid:"), std::string::npos);
}

TEST_F(StatusFormat, text_separates_pools_by_a_blank_line) {
    PoolStatus other = pool;
    other.name = "api";
    const std::string text = status::formatText({pool, other}, false, now);
    EXPECT_NE(text.find("emergency restarts:   0\n\npool:                 api\n"), std::string::npos) << text;
}

TEST_F(StatusFormat, json_uses_php_fpm_names_and_numbers) {
    const auto doc = nlohmann::json::parse(status::formatJson({pool}, true, now));
    ASSERT_EQ(doc["pools"].size(), 1u);
    const auto& p = doc["pools"][0];
    EXPECT_EQ(p["pool"], "web");
    EXPECT_EQ(p["process manager"], "dynamic");
    EXPECT_EQ(p["start time"], 1'700'000'000);
    EXPECT_EQ(p["start since"], 100);
    EXPECT_EQ(p["accepted conn"], 42);
    EXPECT_EQ(p["listen queue"], 0);
    EXPECT_EQ(p["max listen queue"], 3);
    EXPECT_EQ(p["listen queue len"], 511);
    EXPECT_EQ(p["idle processes"], 1);
    EXPECT_EQ(p["active processes"], 1);
    EXPECT_EQ(p["total processes"], 2);
    EXPECT_EQ(p["max active processes"], 2);
    EXPECT_EQ(p["max children reached"], 2);
    EXPECT_EQ(p["slow requests"], 1);
    EXPECT_EQ(p["pool state"], "running");
    EXPECT_EQ(p["limits"]["max children"], 4);
    EXPECT_EQ(p["limits"]["request timeout"], 30.0);
    EXPECT_EQ(p["recycles"]["max_requests"], 5);
    EXPECT_EQ(p["recycles"]["max_rss"], 0);
    EXPECT_EQ(p["kills"]["request_timeout"], 2);
    EXPECT_EQ(p["restarts"], 1);
    EXPECT_EQ(p["request duration"]["count"], 42);
    EXPECT_DOUBLE_EQ(p["request duration"]["sum"].get<double>(), 12.7);
    ASSERT_EQ(p["processes"].size(), 2u);
    const auto& w = p["processes"][0];
    EXPECT_EQ(w["pid"], 4121);
    EXPECT_EQ(w["state"], "Running");
    EXPECT_EQ(w["start time"], 1'700'000'050);
    EXPECT_EQ(w["requests"], 30);
    EXPECT_EQ(w["request duration"], 1'500'000);
    EXPECT_EQ(w["request method"], "GET");
    EXPECT_EQ(w["request uri"], "/report?x=1");
    EXPECT_EQ(w["content length"], 0);
    EXPECT_EQ(w["last request memory"], 20'000'000);
    EXPECT_FALSE(nlohmann::json::parse(status::formatJson({pool}, false, now))["pools"][0].contains("processes"));
}

TEST_F(StatusFormat, json_survives_a_uri_that_is_not_utf8) {
    pool.workers[0].uri = "/\xff\xfe";
    nlohmann::json doc;
    EXPECT_NO_THROW(doc = nlohmann::json::parse(status::formatJson({pool}, true, now)));
    EXPECT_TRUE(doc["pools"][0]["processes"][0]["request uri"].is_string());
}

// Runs Python's prometheus_client parser over the exposition and prints
// "name|labels|value" per sample; a line the parser refuses fails the run.
std::string parseWithPrometheusClient(const std::string& exposition) {
    test::TempDir dir;
    const auto input = dir.path() / "metrics.txt";
    test::writeFile(input, exposition);
    const auto output = dir.path() / "samples.txt";
    const std::string script =
        "import sys\n"
        "from prometheus_client.parser import text_string_to_metric_families\n"
        "text = open(sys.argv[1]).read()\n"
        "with open(sys.argv[2], 'w') as out:\n"
        "    for family in text_string_to_metric_families(text):\n"
        "        for s in family.samples:\n"
        "            labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))\n"
        "            out.write(f'{family.type}|{s.name}|{labels}|{s.value}\\n')\n";
    const auto scriptFile = dir.path() / "parse.py";
    test::writeFile(scriptFile, script);
    const std::string command = "/usr/bin/python3 " + scriptFile.string() + " " + input.string() + " " +
                                output.string() + " 2>" + (dir.path() / "err.txt").string();
    const int rc = std::system(command.c_str());
    EXPECT_EQ(rc, 0) << test::readFile(dir.path() / "err.txt");
    return rc == 0 ? test::readFile(output) : std::string();
}

TEST_F(StatusFormat, prometheus_exposition_parses_with_prometheus_client) {
    PoolStatus other = pool;
    other.name = "api";
    other.state = manager::PoolState::Failing;
    const std::string text = status::formatPrometheus({pool, other}, now);
    EXPECT_NE(text.find("# HELP pyfpm_accepted_connections_total "), std::string::npos);
    EXPECT_NE(text.find("# TYPE pyfpm_request_duration_seconds histogram\n"), std::string::npos);
    const std::string samples = parseWithPrometheusClient(text);
    for (const char* expected : {
             "counter|pyfpm_accepted_connections_total|pool=web|42.0\n",
             "gauge|pyfpm_active_processes|pool=web|1.0\n",
             "gauge|pyfpm_listen_queue_length|pool=api|511.0\n",
             "gauge|pyfpm_max_children|pool=web|4.0\n",
             "gauge|pyfpm_pool_state|pool=web,state=running|1.0\n",
             "gauge|pyfpm_pool_state|pool=api,state=failing|1.0\n",
             "gauge|pyfpm_pool_state|pool=api,state=running|0.0\n",
             "counter|pyfpm_recycles_total|pool=web,reason=max_requests|5.0\n",
             "counter|pyfpm_recycles_total|pool=web,reason=max_rss|0.0\n",
             "counter|pyfpm_kills_total|pool=web,reason=request_timeout|2.0\n",
             "histogram|pyfpm_request_duration_seconds_bucket|le=0.005,pool=web|40.0\n",
             "histogram|pyfpm_request_duration_seconds_bucket|le=0.5,pool=web|40.0\n",
             "histogram|pyfpm_request_duration_seconds_bucket|le=1.0,pool=web|41.0\n",
             "histogram|pyfpm_request_duration_seconds_bucket|le=10.0,pool=web|41.0\n",
             "histogram|pyfpm_request_duration_seconds_bucket|le=+Inf,pool=web|42.0\n",
             "histogram|pyfpm_request_duration_seconds_count|pool=web|42.0\n",
             "histogram|pyfpm_request_duration_seconds_sum|pool=web|12.7\n",
         }) {
        EXPECT_NE(samples.find(expected), std::string::npos) << expected << "\nin:\n" << samples;
    }
}

TEST(StatusQuery, php_fpm_spellings) {
    EXPECT_EQ(status::parseQuery("").format, status::Format::Text);
    EXPECT_EQ(status::parseQuery("json").format, status::Format::Json);
    EXPECT_FALSE(status::parseQuery("json").full);
    const auto both = status::parseQuery("json&full");
    EXPECT_EQ(both.format, status::Format::Json);
    EXPECT_TRUE(both.full);
    EXPECT_EQ(status::parseQuery("format=prometheus").format, status::Format::Prometheus);
    EXPECT_EQ(status::parseQuery("html&full").format, status::Format::Text);
    EXPECT_EQ(status::parseQuery("pool=web").pool, "web");
}

sockaddr_storage address(const char* text) {
    sockaddr_storage storage = {};
    if (::inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&storage)->sin_addr) == 1) {
        storage.ss_family = AF_INET;
    } else {
        EXPECT_EQ(::inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr), 1);
        storage.ss_family = AF_INET6;
    }
    return storage;
}

bool allows(const char* range, const char* peer) {
    const auto cidr = config::parseCidr(range);
    EXPECT_TRUE(cidr) << range;
    const auto storage = address(peer);
    return cidr && cidr->contains(reinterpret_cast<const sockaddr*>(&storage));
}

TEST(StatusAllow, cidr_ranges_match_by_prefix) {
    EXPECT_TRUE(allows("127.0.0.1/32", "127.0.0.1"));
    EXPECT_FALSE(allows("127.0.0.1/32", "127.0.0.2"));
    EXPECT_TRUE(allows("10.0.0.0/8", "10.200.3.4"));
    EXPECT_FALSE(allows("10.0.0.0/8", "11.0.0.1"));
    EXPECT_TRUE(allows("192.168.1.128/25", "192.168.1.200"));
    EXPECT_FALSE(allows("192.168.1.128/25", "192.168.1.100"));
    EXPECT_TRUE(allows("::1/128", "::1"));
    EXPECT_FALSE(allows("::1/128", "127.0.0.1"));
    EXPECT_TRUE(allows("127.0.0.0/8", "::ffff:127.0.0.5"));
    EXPECT_TRUE(allows("0.0.0.0/0", "8.8.8.8"));
    EXPECT_EQ(config::parseCidr("10.0.0.1")->toString(), "10.0.0.1/32");
    EXPECT_FALSE(config::parseCidr("10.0.0.1/8"));   // host bits set
    EXPECT_FALSE(config::parseCidr("10.0.0.0/33"));
    EXPECT_FALSE(config::parseCidr("localhost"));
    EXPECT_FALSE(config::parseCidr("10.0.0.0/"));
}

TEST(AccessLogFormat, unknown_variables_are_refused_with_the_known_ones) {
    std::string error;
    EXPECT_FALSE(config::parseLogFormat("$remote_addr $bogus", error));
    EXPECT_NE(error.find("unknown variable $bogus"), std::string::npos) << error;
    EXPECT_NE(error.find("$worker_pid"), std::string::npos) << error;
    EXPECT_TRUE(config::parseLogFormat("${status}x $ $pool", error));
}

TEST(AccessLogFormat, default_format_is_combined_plus_times_pool_and_pid) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    std::string error;
    const auto format = config::parseLogFormat(config::kDefaultAccessLogFormat, error);
    ASSERT_TRUE(format) << error;
    http::AccessRecord record;
    record.receivedWall = std::chrono::system_clock::from_time_t(1'700'000'000);
    record.received = std::chrono::steady_clock::time_point(10s);
    record.remoteAddr = "127.0.0.1";
    record.method = "GET";
    record.uri = "/a\"b";
    record.protocol = "HTTP/1.1";
    record.userAgent = "curl/8";
    record.status = 200;
    record.bodyBytes = 12;
    record.upstreamTime = 1234us;
    record.pool = "web";
    record.workerPid = 77;
    const std::string line = http::formatAccessLine(*format, record, record.received + 2500us,
                                                    std::chrono::system_clock::now());
    EXPECT_EQ(line, "127.0.0.1 - - [14/Nov/2023:22:13:20 +0000] \"GET /a\\x22b HTTP/1.1\" 200 12 \"-\" "
                    "\"curl/8\" 0.002 0.001 web 77");
    record.upstreamTime.reset();
    record.pool.clear();
    record.workerPid = 0;
    EXPECT_NE(http::formatAccessLine(*format, record, record.received, std::chrono::system_clock::now())
                  .find(" 0.000 - - -"),
              std::string::npos);
}

}  // namespace
}  // namespace pyfpm

namespace pyfpm {
namespace {

// The http.* status and access log keys and log_level, through the loader:
// what a bad value reports, file:line:col first.
std::vector<std::string> loadErrors(const std::string& httpKeys, const std::string& topKeys = "") {
    test::TempDir dir;
    test::writeFile(dir.path() / "pyfpm.yaml", topKeys +
                                                   "http:\n  listen: 127.0.0.1:8080\n  routes: [{prefix: /, pool: web}]\n" +
                                                   httpKeys + "pools:\n  web:\n    app: app:app\n    listen: web.sock\n");
    std::vector<std::string> errors;
    // Relative to the temp dir, as a user would read it next to the file.
    for (const auto& error : config::load(dir.path() / "pyfpm.yaml").errors) {
        const std::string text = error.toString();
        const auto at = text.find("pyfpm.yaml:");
        errors.push_back(at == std::string::npos ? text : text.substr(at));
    }
    return errors;
}

TEST(StatusConfig, keys_are_read_with_their_defaults) {
    test::TempDir dir;
    test::writeFile(dir.path() / "pyfpm.yaml",
                    "log_level: debug\nhttp:\n  listen: 127.0.0.1:8080\n  routes: [{prefix: /, pool: web}]\n"
                    "  status_path: /status\n  status_allow: [10.0.0.0/8, \"::1\"]\n  access_log: stdout\n"
                    "pools:\n  web:\n    app: app:app\n    listen: web.sock\n");
    const auto loaded = config::load(dir.path() / "pyfpm.yaml");
    ASSERT_TRUE(loaded.config);
    EXPECT_EQ(loaded.config->log_level, config::LogLevel::Debug);
    EXPECT_EQ(loaded.config->http->status_path, "/status");
    EXPECT_EQ(loaded.config->http->ping_path, "");
    ASSERT_EQ(loaded.config->http->status_allow.size(), 2u);
    EXPECT_EQ(loaded.config->http->status_allow[1].toString(), "::1/128");
    EXPECT_EQ(loaded.config->http->access_log, "stdout");
    EXPECT_EQ(loaded.config->http->access_log_format, config::kDefaultAccessLogFormat);
    EXPECT_EQ(config::HttpConfig{}.status_allow.size(), 2u);  // 127.0.0.1/32 and ::1/128
}

TEST(StatusConfig, bad_values_name_the_key_and_what_was_expected) {
    EXPECT_EQ(loadErrors("  status_allow: [10.0.0.1/8]\n"),
              std::vector<std::string>{"pyfpm.yaml:4:18: http.status_allow[0]: expected an address or a CIDR "
                                       "range such as 10.0.0.0/8 or ::1/128, got \"10.0.0.1/8\""});
    const auto format = loadErrors("  access_log_format: \"$status $nope\"\n");
    ASSERT_EQ(format.size(), 1u);
    EXPECT_NE(format[0].find("pyfpm.yaml:4:3: http.access_log_format: unknown variable $nope"), std::string::npos)
        << format[0];
    const auto path = loadErrors("  status_path: status\n");
    ASSERT_EQ(path.size(), 1u);
    EXPECT_NE(path[0].find("http.status_path: expected a path such as /status"), std::string::npos) << path[0];
    const auto level = loadErrors("", "log_level: verbose\n");
    ASSERT_EQ(level.size(), 1u);
    EXPECT_NE(level[0].find("log_level: expected one of error, warning, notice, info, debug"), std::string::npos)
        << level[0];
}

}  // namespace
}  // namespace pyfpm
