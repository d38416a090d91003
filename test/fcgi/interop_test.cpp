// pyfpm's fcgi/ client against libfcgi, the library the worker is built on:
// a real responder process accepting on descriptor 0 of a unix socket.
#include <gtest/gtest.h>

#include <random>

#include "fcgi/name_value.hpp"
#include "test/support/fcgi_client.hpp"
#include "test/support/process.hpp"

namespace pyfpm::test {
namespace {

class LibfcgiInterop : public ::testing::Test {
protected:
    void SetUp() override {
        socket_ = dir_ / "responder.sock";
        Fd listener = listenUnix(socket_);
        responder_ = Child({.argv = {requiredEnv("PYFPM_ECHO_RESPONDER")},
                            .env = {},
                            .fds = {{0, listener.get()}},
                            .stdoutFile = {},
                            .stderrFile = {},
                            .cwd = {}});
    }

    TempDir dir_;
    std::filesystem::path socket_;
    Child responder_;
};

TEST_F(LibfcgiInterop, ParamsRoundTripIncludingLargeAndBinaryValues) {
    std::string binary;
    for (int i = 1; i < 256; ++i) binary.push_back(static_cast<char>(i));
    const Params extra = {{"HTTP_X_LARGE", std::string(100000, 'L')},
                          {"HTTP_X_BINARY", binary},
                          {"HTTP_X_EMPTY", ""},
                          {"HTTP_X_127", std::string(127, 's')},
                          {"HTTP_X_128", std::string(128, 's')}};
    const FcgiResponse r = fcgiRequest(socket_, cgiParams("GET", "/params?a=1", 0, extra));
    ASSERT_EQ(r.status, 200);
    fcgi::NameValuePairs seen;
    ASSERT_TRUE(fcgi::decodeNameValues(r.body, seen));
    for (const auto& [name, value] : cgiParams("GET", "/params?a=1", 0, extra)) {
        bool found = false;
        for (const auto& [n, v] : seen) {
            if (n == name) {
                EXPECT_EQ(v, value) << name;
                found = true;
            }
        }
        EXPECT_TRUE(found) << name;
    }
}

TEST_F(LibfcgiInterop, OneMebibyteOfBinaryStdinIsEchoedByteExact) {
    std::string body(1 << 20, '\0');
    std::mt19937 random(42);
    for (char& c : body) c = static_cast<char>(random());
    const FcgiResponse r = fcgiRequest(socket_, cgiParams("POST", "/echo", body.size()), body);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Length"), std::to_string(body.size()));
    EXPECT_TRUE(r.body == body) << "echoed " << r.body.size() << " bytes differ";
    EXPECT_EQ(r.end.protocolStatus, fcgi::ProtocolStatus::RequestComplete);
}

TEST_F(LibfcgiInterop, StderrArrivesApartFromStdout) {
    const FcgiResponse r = fcgiRequest(socket_, cgiParams("GET", "/stderr"));
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(r.stderrData, "first stderr line\nsecond stderr line\n");
}

TEST_F(LibfcgiInterop, LargeResponseHeaderValue) {
    const FcgiResponse r = fcgiRequest(socket_, cgiParams("GET", "/bigheader?40000"));
    EXPECT_EQ(r.header("X-Big"), std::string(40000, 'h'));
    EXPECT_EQ(r.body, "big");
}

TEST_F(LibfcgiInterop, StatusFromTheResponder) {
    const FcgiResponse r = fcgiRequest(socket_, cgiParams("GET", "/nothing"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.reason, "Not Found");
}

TEST_F(LibfcgiInterop, ManyRequestsInARow) {
    for (int i = 0; i < 200; ++i) {
        const std::string body = "request " + std::to_string(i);
        const FcgiResponse r = fcgiRequest(socket_, cgiParams("POST", "/echo", body.size()), body);
        ASSERT_EQ(r.body, body);
    }
}

}  // namespace
}  // namespace pyfpm::test
