// The worker behind a real nginx (`fastcgi_pass unix:SOCKET`), fetched over
// HTTP: the deployment the README describes for users who keep nginx.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "test/support/http_client.hpp"
#include "test/support/nginx.hpp"
#include "test/support/process.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

using nlohmann::json;

TEST(WorkerBehindNginx, flask_example_serves_page_json_form_and_static_files)
{
    WorkerProcess worker("app:app", {(WorkerProcess::examples() / "flask").string()},
                         {{"PYFPM_GREETING", "Hi through nginx"}});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    NginxFixture nginx(NginxFixture::fastcgiPassBody(worker.socket()));

    const HttpResponse page = httpRequest("GET", nginx.url("/"));
    EXPECT_EQ(page.status, 200) << nginx.errorLog();
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("<h1>Hi through nginx</h1>"), std::string::npos) << page.body;

    const HttpResponse info = httpRequest("GET", nginx.url("/api/info"));
    EXPECT_EQ(info.status, 200);
    const json parsed = json::parse(info.body);
    EXPECT_EQ(parsed["greeting"], "Hi through nginx");
    EXPECT_EQ(parsed["pid"], worker.process().pid());
    EXPECT_EQ(parsed["scheme"], "http");
    EXPECT_NE(parsed["server"].get<std::string>().find("nginx"), std::string::npos);

    const HttpResponse posted =
        httpRequest("POST", nginx.url("/form"), "name=Grace&message=Hello%2C+nginx",
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(posted.status, 200);
    EXPECT_NE(posted.body.find("<dd id=\"posted-name\">Grace</dd>"), std::string::npos) << posted.body;
    EXPECT_NE(posted.body.find("<dd id=\"posted-message\">Hello, nginx</dd>"), std::string::npos);

    const HttpResponse css = httpRequest("GET", nginx.url("/static/style.css"));
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.header("Content-Type").rfind("text/css", 0), 0u) << css.header("Content-Type");
    EXPECT_EQ(css.body, readFile(WorkerProcess::examples() / "flask" / "static" / "style.css"));
    const HttpResponse logo = httpRequest("GET", nginx.url("/static/logo.svg"));
    EXPECT_EQ(logo.status, 200);
    EXPECT_EQ(logo.body, readFile(WorkerProcess::examples() / "flask" / "static" / "logo.svg"));

    const HttpResponse head = httpRequest("HEAD", nginx.url("/"));
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());

    EXPECT_EQ(httpRequest("GET", nginx.url("/no/such/page")).status, 404);
}

class ProbeBehindNginx : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(worker_.waitReady()) << worker_.stderrLog();
        nginx_ = std::make_unique<NginxFixture>(NginxFixture::fastcgiPassBody(worker_.socket()));
    }

    WorkerProcess worker_{"probe:app", {WorkerProcess::testApps().string()}};
    std::unique_ptr<NginxFixture> nginx_;
};

TEST_F(ProbeBehindNginx, two_set_cookie_headers_reach_the_browser)
{
    const HttpResponse response = httpRequest("GET", nginx_->url("/cookies"));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.headerValues("Set-Cookie"),
              (std::vector<std::string>{"a=1; Path=/", "b=2; Path=/; HttpOnly"}));
}

TEST_F(ProbeBehindNginx, app_exception_is_a_500_with_the_traceback_in_nginx_error_log)
{
    const HttpResponse failed = httpRequest("GET", nginx_->url("/raise"));
    EXPECT_EQ(failed.status, 500);
    EXPECT_EQ(failed.body, "Internal Server Error\n");
    EXPECT_TRUE(waitUntil([&] {
        return nginx_->errorLog().find("ZeroDivisionError: probe raised before start_response") !=
               std::string::npos;
    })) << nginx_->errorLog();
    EXPECT_EQ(httpRequest("GET", nginx_->url("/scheme")).status, 200);
}

TEST_F(ProbeBehindNginx, post_of_5_MiB_is_echoed_byte_exact)
{
    std::mt19937 generator(11);
    std::string body(5 * 1024 * 1024, '\0');
    for (auto& byte : body) {
        byte = static_cast<char>(generator() & 0xff);
    }
    const HttpResponse response =
        httpRequest("POST", nginx_->url("/echo"), body, {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(response.status, 200) << nginx_->errorLog();
    ASSERT_EQ(response.body.size(), body.size());
    EXPECT_TRUE(response.body == body);
}

TEST_F(ProbeBehindNginx, streamed_generator_arrives_whole)
{
    const HttpResponse response = httpRequest("GET", nginx_->url("/generator"));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "one,two,three");
}

}  // namespace
}  // namespace pyfpm::test
