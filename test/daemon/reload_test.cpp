// Reload (SIGHUP) under load: three reloads that change a pool, while wrk
// drives 32 connections through the bridge and 32 through nginx for 10 s.
// Not one request may fail, and the responses must switch to each new value.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "test/daemon/helpers.hpp"
#include "test/support/nginx.hpp"

namespace pyfpm::test {
namespace {

std::string withValue(int n) {
    return webPoolConfig("    pm: static\n    max_children: 2\n    env: {PYFPM_VALUE: \"value-" +
                         std::to_string(n) + "\"}\n");
}

struct WrkResult {
    long requests = 0;
    long non2xx = 0;
    long socketErrors = 0;
    std::string output;
};

WrkResult parseWrk(const std::string& output) {
    WrkResult result;
    result.output = output;
    std::smatch m;
    if (std::regex_search(output, m, std::regex(R"((\d+) requests in)"))) result.requests = std::stol(m[1]);
    if (std::regex_search(output, m, std::regex(R"(Non-2xx or 3xx responses: (\d+))"))) {
        result.non2xx = std::stol(m[1]);
    }
    if (std::regex_search(output, m,
                          std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))"))) {
        for (int i = 1; i <= 4; ++i) result.socketErrors += std::stol(m[i]);
    }
    return result;
}

Child startWrk(const std::string& url, const std::filesystem::path& out) {
    return Child({.argv = {"/usr/bin/wrk", "-t1", "-c32", "-d10s", url},
                  .env = {}, .fds = {}, .stdoutFile = out, .stderrFile = out, .cwd = {}});
}

TEST(Reload, ThreeReloadsUnderLoadDropNothingAndSwitchValues) {
    Daemon daemon(withValue(0));
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("pool running")) << daemon.log();
    ASSERT_EQ(httpRequest("GET", daemon.url("/value")).body, "value-0");
    NginxFixture nginx(NginxFixture::fastcgiPassBody(daemon.dir() / "web.sock"));

    Child bridgeLoad = startWrk(daemon.url("/value"), daemon.dir() / "wrk-bridge.txt");
    Child nginxLoad = startWrk(nginx.url("/value"), daemon.dir() / "wrk-nginx.txt");

    for (int n = 1; n <= 3; ++n) {
        writeFile(daemon.configFile(), daemon.expand(withValue(n)));
        daemon.process().signal(SIGHUP);
        const std::string expected = "value-" + std::to_string(n);
        EXPECT_TRUE(waitUntil([&] {
            return httpRequest("GET", daemon.url("/value")).body == expected &&
                   httpRequest("GET", nginx.url("/value")).body == expected;
        }, 8s)) << "reload " << n << " did not switch; log:\n" << daemon.log();
        EXPECT_TRUE(daemon.waitForLog("(reload: done[\\s\\S]*){" + std::to_string(n) + "}")) << daemon.log();
    }

    ASSERT_TRUE(bridgeLoad.wait(30s).has_value());
    ASSERT_TRUE(nginxLoad.wait(30s).has_value());
    for (const char* name : {"wrk-bridge.txt", "wrk-nginx.txt"}) {
        const WrkResult result = parseWrk(readFile(daemon.dir() / name));
        RecordProperty(std::string(name) + "_requests", static_cast<int>(result.requests));
        EXPECT_GT(result.requests, 1000) << name << ":\n" << result.output;
        EXPECT_EQ(result.non2xx, 0) << name << ":\n" << result.output << "\nlog:\n" << daemon.log();
        EXPECT_EQ(result.socketErrors, 0) << name << ":\n" << result.output;
    }
}

TEST(Reload, InvalidFileKeepsTheRunningConfiguration) {
    Daemon daemon(withValue(0));
    daemon.start();
    ASSERT_TRUE(daemon.waitForLog("pool running")) << daemon.log();
    writeFile(daemon.configFile(), "pools:\n  web:\n    max_chidren: 2\n");
    daemon.process().signal(SIGHUP);
    EXPECT_TRUE(daemon.waitForLog("keeping the running configuration")) << daemon.log();
    EXPECT_TRUE(daemon.waitForLog("max_chidren")) << daemon.log();
    EXPECT_EQ(httpRequest("GET", daemon.url("/value")).body, "value-0");
    EXPECT_TRUE(daemon.process().running());
}

}  // namespace
}  // namespace pyfpm::test
