// The same application behind a real nginx that fastcgi_passes to the pool
// socket: pyfpm as php-fpm is used. The config has no http section.
#include <gtest/gtest.h>

#include <random>

#include "test/daemon/helpers.hpp"
#include "test/support/nginx.hpp"

namespace pyfpm::test {
namespace {

class BehindNginx : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = new Daemon(webPoolConfig("    pm: static\n    max_children: 2\n", false));
        daemon_->start();
        ASSERT_TRUE(daemon_->waitForLog("worker \\d+ ready")) << daemon_->log();
        nginx_ = new NginxFixture(NginxFixture::fastcgiPassBody(daemon_->dir() / "web.sock"));
    }
    static void TearDownTestSuite() {
        delete nginx_;
        delete daemon_;
    }

    static Daemon* daemon_;
    static NginxFixture* nginx_;
};

Daemon* BehindNginx::daemon_ = nullptr;
NginxFixture* BehindNginx::nginx_ = nullptr;

TEST_F(BehindNginx, Get) {
    const HttpResponse r = httpRequest("GET", nginx_->url("/hello"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, world!");
}

TEST_F(BehindNginx, PostOfFiveMebibytesIsEchoedByteExact) {
    std::string body(5 << 20, '\0');
    std::mt19937 random(11);
    for (char& c : body) c = static_cast<char>(random());
    const HttpResponse r = httpRequest("POST", nginx_->url("/echo"), body);
    EXPECT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), body.size());
    EXPECT_TRUE(r.body == body);
}

TEST_F(BehindNginx, TenMebibyteResponse) {
    const HttpResponse r = httpRequest("GET", nginx_->url("/big?n=10485760"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 10485760u);
}

TEST_F(BehindNginx, StatusesCookiesAndRedirects) {
    EXPECT_EQ(httpRequest("GET", nginx_->url("/missing")).status, 404);
    EXPECT_EQ(httpRequest("GET", nginx_->url("/error")).status, 500);
    const HttpResponse redirect = httpRequest("GET", nginx_->url("/redirect"));
    EXPECT_EQ(redirect.status, 302);
    EXPECT_EQ(httpRequest("GET", nginx_->url("/cookies")).headerValues("Set-Cookie").size(), 2u);
}

TEST_F(BehindNginx, QueryStringReachesTheApp) {
    const HttpResponse r = httpRequest("GET", nginx_->url("/env?x=1&y=2"));
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"QUERY_STRING\": \"x=1&y=2\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace pyfpm::test
