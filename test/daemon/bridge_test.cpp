// Requests through pyfpm's own HTTP listener to a pool of real workers, and
// static files from a root, with the traversal attempts that must fail.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

class Bridge : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = new Daemon(kBridgeConfig);
        const fs::path dir = daemon_->dir();
        fs::create_directories(dir / "static/sub");
        writeFile(dir / "static/hello.txt", "static hello\n");
        writeFile(dir / "static/style.css", "body { color: black; }\n");
        writeFile(dir / "static/sub/page.html", "<p>sub</p>\n");
        writeFile(dir / "secret.txt", "TOP SECRET\n");
        fs::create_symlink(dir / "secret.txt", dir / "static/escape.txt");
        fs::create_symlink(dir, dir / "static/up");
        daemon_->start();
    }
    static void TearDownTestSuite() {
        delete daemon_;
        daemon_ = nullptr;
    }

    static HttpResponse get(const std::string& path, const HttpHeaders& headers = {}) {
        return httpRequest("GET", daemon_->url(path), {}, headers);
    }
    static nlohmann::json environ(const std::string& path, const HttpHeaders& headers = {}) {
        const HttpResponse r = get(path, headers);
        EXPECT_EQ(r.status, 200) << r.body;
        return nlohmann::json::parse(r.body);
    }

    static Daemon* daemon_;
};

Daemon* Bridge::daemon_ = nullptr;

TEST_F(Bridge, GetReturnsTheAppsResponse) {
    const HttpResponse r = get("/hello");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, world!");
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("Content-Length"), "13");
}

TEST_F(Bridge, ClientThatClosesAfterAWholeResponseIsNotLoggedAs499) {
    // A client may close once it has Content-Length bytes, before the
    // worker's FCGI_END_REQUEST reaches the bridge.
    for (int i = 0; i < 3; ++i) {
        Fd client = connectTcp("127.0.0.1", daemon_->port());
        ASSERT_TRUE(client);
        const std::string request = "GET /slow-close HTTP/1.1\r\nHost: x\r\n\r\n";
        ASSERT_EQ(::write(client.get(), request.data(), request.size()),
                  static_cast<ssize_t>(request.size()));
        std::string response;
        char buf[4096];
        while (!response.ends_with("Hello, world!")) {
            const ssize_t n = ::read(client.get(), buf, sizeof buf);
            ASSERT_GT(n, 0) << response;
            response.append(buf, static_cast<std::size_t>(n));
        }
        // Closed at once, as curl does with a complete Content-Length body.
    }
    ASSERT_EQ(httpRequest("HEAD", daemon_->url("/hello")).status, 200);
    // The app's traceback on FCGI_STDERR is logged after those closes (the
    // two workers are free again only once each slow close() is over).
    ASSERT_EQ(get("/error").status, 500);
    ASSERT_TRUE(daemon_->waitForLog("/error raised on purpose")) << daemon_->log();
    EXPECT_EQ(daemon_->log().find("/slow-close: 499"), std::string::npos) << daemon_->log();
}

TEST_F(Bridge, HeadHasTheHeadersAndNoBody) {
    const HttpResponse r = httpRequest("HEAD", daemon_->url("/hello"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Length"), "13");
    EXPECT_TRUE(r.body.empty());
}

TEST_F(Bridge, PostOfFiveMebibytesIsEchoedByteExact) {
    std::string body(5 << 20, '\0');
    std::mt19937 random(7);
    for (char& c : body) c = static_cast<char>(random());
    const HttpResponse r = httpRequest("POST", daemon_->url("/echo"), body,
                                       {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), body.size());
    EXPECT_TRUE(r.body == body);
}

TEST_F(Bridge, TenMebibyteResponseIsStreamedChunkedAndIntact) {
    const std::size_t n = 10 << 20;
    const HttpResponse r = get("/big?n=" + std::to_string(n));
    EXPECT_EQ(r.status, 200);
    // The app gives no Content-Length: the bridge must stream it chunked
    // rather than collect it.
    EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
    ASSERT_EQ(r.body.size(), n);
    for (std::size_t i = 0; i < n; i += 4099) {
        ASSERT_EQ(static_cast<unsigned char>(r.body[i]), (i % 65511) % 251) << "at byte " << i;
    }
}

TEST_F(Bridge, CgiVariablesFollowRfc3875AndNginx) {
    const auto env = environ("/env?a=1&b=two%20words");
    EXPECT_EQ(env["REQUEST_METHOD"], "GET");
    EXPECT_EQ(env["QUERY_STRING"], "a=1&b=two%20words");
    EXPECT_EQ(env["REQUEST_URI"], "/env?a=1&b=two%20words");
    EXPECT_EQ(env["SCRIPT_NAME"], "");
    EXPECT_EQ(env["PATH_INFO"], "/env");
    EXPECT_EQ(env["SERVER_PROTOCOL"], "HTTP/1.1");
    EXPECT_EQ(env["GATEWAY_INTERFACE"], "CGI/1.1");
    EXPECT_EQ(env["REMOTE_ADDR"], "127.0.0.1");
    EXPECT_EQ(env["SERVER_PORT"], std::to_string(daemon_->port()));
    EXPECT_EQ(env["wsgi.url_scheme"], "http");
}

TEST_F(Bridge, MountedPrefixBecomesScriptName) {
    const auto env = environ("/mounted/env");
    EXPECT_EQ(env["SCRIPT_NAME"], "/mounted");
    EXPECT_EQ(env["PATH_INFO"], "/env");
}

TEST_F(Bridge, PercentEncodedPathIsDecodedIntoPathInfo) {
    const HttpResponse r = get("/caf%C3%A9%20x");
    EXPECT_EQ(r.status, 404);
    // The app echoes PATH_INFO's bytes: decoded once, spaces and UTF-8 intact.
    EXPECT_EQ(r.body, "no route for /caf\xc3\xa9 x");
}

TEST_F(Bridge, RepeatedRequestHeadersAreJoinedAndProxyIsDropped) {
    const auto env = environ("/env", {{"X-Multi", "one"},
                                      {"X-Multi", "two"},
                                      {"Proxy", "http://evil.example/"},
                                      {"Content-Type", "text/x-test"}});
    EXPECT_EQ(env["HTTP_X_MULTI"], "one, two");
    EXPECT_FALSE(env.contains("HTTP_PROXY")) << "httpoxy";
    EXPECT_EQ(env["CONTENT_TYPE"], "text/x-test");
    EXPECT_FALSE(env.contains("HTTP_CONTENT_TYPE"));
}

TEST_F(Bridge, TwoSetCookieHeadersStayTwo) {
    const HttpResponse r = get("/cookies");
    EXPECT_EQ(r.headerValues("Set-Cookie"),
              (std::vector<std::string>{"a=1; Path=/", "b=2; Path=/"}));
}

TEST_F(Bridge, AppStatusesPassThrough) {
    EXPECT_EQ(get("/missing").status, 404);
    const HttpResponse redirect = get("/redirect");
    EXPECT_EQ(redirect.status, 302);
    EXPECT_EQ(redirect.header("Location"), "/hello");
    const HttpResponse error = get("/error");
    EXPECT_EQ(error.status, 500);
    // The worker survived its app's exception.
    EXPECT_EQ(get("/hello").status, 200);
}

TEST_F(Bridge, StaticFileWithTypeLengthAndLastModified) {
    const HttpResponse r = get("/static/style.css");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "body { color: black; }\n");
    EXPECT_EQ(r.header("Content-Type"), "text/css");
    EXPECT_EQ(r.header("Content-Length"), "23");
    EXPECT_NE(r.header("Last-Modified").find(" GMT"), std::string::npos);
    EXPECT_EQ(get("/static/sub/page.html").header("Content-Type"), "text/html");
}

TEST_F(Bridge, StaticMissingIs404AndDirectoryIs403) {
    EXPECT_EQ(get("/static/nothing.txt").status, 404);
    EXPECT_EQ(get("/static/sub/").status, 403);
    EXPECT_EQ(get("/static/sub").status, 301);  // to its slash, as nginx answers
}

TEST_F(Bridge, NothingOutsideTheStaticRootIsServed) {
    const std::vector<std::string> attempts = {
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/sub/../../secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/escape.txt",
        "/static/up/secret.txt",
        "/static/./../secret.txt",
    };
    for (const auto& path : attempts) {
        const std::string response =
            rawHttp(daemon_->port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(response.find("TOP SECRET"), std::string::npos) << path;
        const int status = rawStatus(response);
        EXPECT_TRUE(status == 400 || status == 403 || status == 404) << path << " gave " << status;
    }
}

}  // namespace
}  // namespace pyfpm::test
