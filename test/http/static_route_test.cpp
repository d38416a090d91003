// Static routes as nginx serves them, in-process: validators and 304,
// single ranges and 416, index files and the directory redirect,
// precompressed .gz siblings, Cache-Control per route, the try_files
// fallback to a pool, and a root switched by a deploy.

#include <string>

#include "test/http/bridge_fixture.hpp"

namespace pyfpm::http {
namespace {

using namespace bridge;
using pyfpm::test::HttpResponse;

class StaticRoute : public Bridge {
protected:
    void configure(config::Config& config) override {
        const fs::path site = dir_ / "site";
        fs::create_directories(site / "docs");
        fs::create_directories(site / "empty");
        pyfpm::test::writeFile(site / "index.html", "<h1>home</h1>\n");
        pyfpm::test::writeFile(site / "docs/index.html", "<h1>docs</h1>\n");
        pyfpm::test::writeFile(site / "app.js", "console.log('plain');\n");
        pyfpm::test::writeFile(site / "app.js.gz", "pretend-gzip-bytes");
        digits_ = std::string();
        for (int i = 0; i < 1000; ++i) digits_ += static_cast<char>('0' + i % 10);
        pyfpm::test::writeFile(site / "digits.txt", digits_);

        for (config::Route& route : config.http->routes) {
            if (route.prefix == "/static/") route.cache_control = "public, max-age=60";
        }
        config::Route route;
        route.prefix = "/site/";
        route.kind = config::Route::Kind::Static;
        route.root = site;
        route.pool = "web";  // fallback
        route.gzip_static = true;
        route.cache_control = "no-cache";
        config.http->routes.push_back(route);

        // Deployed releases behind a symlink that a deploy switches.
        for (const char* release : {"v1", "v2"}) {
            fs::create_directories(dir_ / release);
            pyfpm::test::writeFile(dir_ / release / "app.js", std::string("release ") + release + "\n");
        }
        fs::create_symlink("v1", dir_ / "current");
        config::Route releases;
        releases.prefix = "/release/";
        releases.kind = config::Route::Kind::Static;
        releases.root = dir_ / "current";
        config.http->routes.push_back(releases);
    }
    std::string digits_;
};

TEST_F(StaticRoute, etag_and_last_modified_validate_to_304) {
    const HttpResponse first = request("GET", "/static/hello.txt");
    ASSERT_EQ(first.status, 200);
    const std::string etag = first.header("ETag");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(first.header("Cache-Control"), "public, max-age=60");
    EXPECT_EQ(first.header("Accept-Ranges"), "bytes");

    const HttpResponse byEtag = request("GET", "/static/hello.txt", {{"If-None-Match", etag}});
    EXPECT_EQ(byEtag.status, 304);
    EXPECT_TRUE(byEtag.body.empty());
    EXPECT_EQ(byEtag.header("ETag"), etag);
    EXPECT_EQ(byEtag.header("Cache-Control"), "public, max-age=60");

    const HttpResponse otherEtag = request("GET", "/static/hello.txt", {{"If-None-Match", "\"nope\""}});
    EXPECT_EQ(otherEtag.status, 200);

    const HttpResponse byDate =
        request("GET", "/static/hello.txt", {{"If-Modified-Since", first.header("Last-Modified")}});
    EXPECT_EQ(byDate.status, 304);
    const HttpResponse oldDate =
        request("GET", "/static/hello.txt", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}});
    EXPECT_EQ(oldDate.status, 200);
    EXPECT_EQ(oldDate.body, "hello, static\n");
}

TEST_F(StaticRoute, a_single_range_is_206_and_an_unsatisfiable_one_416) {
    const HttpResponse middle = request("GET", "/site/digits.txt", {{"Range", "bytes=10-19"}});
    EXPECT_EQ(middle.status, 206);
    EXPECT_EQ(middle.body, digits_.substr(10, 10));
    EXPECT_EQ(middle.header("Content-Range"), "bytes 10-19/1000");
    EXPECT_EQ(middle.header("Content-Length"), "10");

    const HttpResponse suffix = request("GET", "/site/digits.txt", {{"Range", "bytes=-5"}});
    EXPECT_EQ(suffix.status, 206);
    EXPECT_EQ(suffix.body, digits_.substr(995));

    const HttpResponse open = request("GET", "/site/digits.txt", {{"Range", "bytes=990-"}});
    EXPECT_EQ(open.status, 206);
    EXPECT_EQ(open.body, digits_.substr(990));

    const HttpResponse beyond = request("GET", "/site/digits.txt", {{"Range", "bytes=1000-"}});
    EXPECT_EQ(beyond.status, 416);
    EXPECT_EQ(beyond.header("Content-Range"), "bytes */1000");

    const HttpResponse stale =
        request("GET", "/site/digits.txt", {{"Range", "bytes=0-0"}, {"If-Range", "\"stale\""}});
    EXPECT_EQ(stale.status, 200);
    EXPECT_EQ(stale.body, digits_);
}

TEST_F(StaticRoute, directories_serve_their_index_or_redirect_to_their_slash) {
    const HttpResponse home = request("GET", "/site/");
    EXPECT_EQ(home.status, 200);
    EXPECT_EQ(home.body, "<h1>home</h1>\n");
    EXPECT_EQ(home.header("Content-Type").rfind("text/html", 0), 0u);

    const HttpResponse docs = request("GET", "/site/docs/");
    EXPECT_EQ(docs.body, "<h1>docs</h1>\n");

    const HttpResponse redirect = request("GET", "/site/docs?x=1");
    EXPECT_EQ(redirect.status, 301);
    EXPECT_EQ(redirect.header("Location"), "/site/docs/?x=1");
}

TEST_F(StaticRoute, a_gz_sibling_is_sent_to_clients_that_accept_gzip) {
    const HttpResponse gzip = request("GET", "/site/app.js", {{"Accept-Encoding", "gzip, br"}});
    EXPECT_EQ(gzip.status, 200);
    EXPECT_EQ(gzip.body, "pretend-gzip-bytes");
    EXPECT_EQ(gzip.header("Content-Encoding"), "gzip");
    EXPECT_EQ(gzip.header("Vary"), "Accept-Encoding");
    EXPECT_NE(gzip.header("Content-Type").find("javascript"), std::string::npos)
        << "the type of the file asked for, not of its .gz";
    EXPECT_EQ(gzip.header("Cache-Control"), "no-cache");

    const HttpResponse plain = request("GET", "/site/app.js", {{"Accept-Encoding", "gzip;q=0"}});
    EXPECT_EQ(plain.body, "console.log('plain');\n");
    EXPECT_TRUE(plain.header("Content-Encoding").empty());
    EXPECT_EQ(plain.header("Vary"), "Accept-Encoding");
}

TEST_F(StaticRoute, a_missing_file_falls_back_to_the_pool) {
    const HttpResponse missing = request("GET", "/site/api/items?x=1");
    ASSERT_EQ(missing.status, 200);
    auto params = parseParams(missing.body);
    EXPECT_EQ(params["SCRIPT_NAME"], "/site");
    EXPECT_EQ(params["PATH_INFO"], "/api/items");
    EXPECT_EQ(params["QUERY_STRING"], "x=1");

    const HttpResponse emptyDir = request("GET", "/site/empty/");
    EXPECT_EQ(emptyDir.status, 200) << "a directory without an index goes to the pool";
    EXPECT_EQ(parseParams(emptyDir.body)["PATH_INFO"], "/empty/");

    const HttpResponse post = request("POST", "/site/index.html", {}, "x=1");
    EXPECT_EQ(post.status, 200) << "a method a file cannot answer goes to the pool";
    EXPECT_EQ(parseParams(post.body)["REQUEST_METHOD"], "POST");

    const HttpResponse file = request("GET", "/site/index.html");
    EXPECT_EQ(file.body, "<h1>home</h1>\n");
    EXPECT_EQ(responder_->accepted(), 3);
}

TEST_F(StaticRoute, a_root_switched_by_a_deploy_is_served_from_the_next_request) {
    EXPECT_EQ(request("GET", "/release/app.js").body, "release v1\n");
    EXPECT_EQ(request("GET", "/release/app.js").body, "release v1\n");
    fs::create_symlink("v2", dir_ / "current.new");
    fs::rename(dir_ / "current.new", dir_ / "current");
    const HttpResponse switched = request("GET", "/release/app.js");
    EXPECT_EQ(switched.status, 200);
    EXPECT_EQ(switched.body, "release v2\n");
    fs::remove(dir_ / "current");
    EXPECT_EQ(request("GET", "/release/app.js").status, 404);
}

TEST_F(StaticRoute, head_gets_the_length_without_the_body) {
    const HttpResponse head = request("HEAD", "/site/digits.txt");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Length"), "1000");
    EXPECT_TRUE(head.body.empty());
}

}  // namespace
}  // namespace pyfpm::http
