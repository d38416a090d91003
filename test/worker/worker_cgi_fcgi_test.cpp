// The worker behind libfcgi's own client, `cgi-fcgi -bind -connect`, and
// the PEP 3333 validator (wsgiref.validate) through both clients.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "test/support/fcgi_client.hpp"
#include "test/support/process.hpp"
#include "test/worker/cgi_fcgi.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

using nlohmann::json;

class CgiFcgi : public ::testing::Test {
protected:
    CgiResponse request(WorkerProcess& worker, const std::string& method, const std::string& uri,
                        const std::string& body = {}, const std::map<std::string, std::string>& extra = {})
    {
        return runCgiFcgi(worker.socket(), cgiEnvironment(method, uri, body, extra), body, work_.path());
    }

    TempDir work_;
};

TEST_F(CgiFcgi, hello_example_answers_13_bytes)
{
    WorkerProcess worker("app:app", {(WorkerProcess::examples() / "hello").string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    const CgiResponse response = request(worker, "GET", "/");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(response.header("Content-Length"), "13");
    EXPECT_EQ(response.body, "Hello, world!");
}

TEST_F(CgiFcgi, hello_example_through_the_project_client)
{
    WorkerProcess worker("app:app", {(WorkerProcess::examples() / "hello").string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    for (int i = 0; i < 20; ++i) {
        const FcgiResponse response = fcgiRequest(worker.socket(), cgiParams("GET", "/"));
        ASSERT_EQ(response.status, 200);
        ASSERT_EQ(response.body, "Hello, world!");
    }
}

TEST_F(CgiFcgi, validator_sees_no_violation_for_get_post_and_head)
{
    WorkerProcess worker("validated:app", {WorkerProcess::testApps().string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();

    const CgiResponse get = request(worker, "GET", "/checked?x=1");
    EXPECT_EQ(get.status, 200) << get.stderrText << get.body;
    EXPECT_EQ(get.body, "GET /checked");

    const std::string form = "line one\nline two\n";
    const CgiResponse post = request(worker, "POST", "/checked", form);
    EXPECT_EQ(post.status, 200) << post.stderrText << post.body;
    EXPECT_EQ(post.body, "posted " + form);

    const CgiResponse head = request(worker, "HEAD", "/checked");
    EXPECT_EQ(head.status, 200) << head.stderrText;
    EXPECT_EQ(head.body, "HEAD /checked");

    for (const auto* response : {&get, &post, &head}) {
        EXPECT_EQ(response->stderrText, "");
    }
    // Validator complaints that escape the request (an iterator collected
    // unclosed) would land on the worker's own stderr.
    const std::string log = worker.stderrLog();
    EXPECT_EQ(log.find("Warning"), std::string::npos) << log;
    EXPECT_EQ(log.find("error"), std::string::npos) << log;
}

TEST_F(CgiFcgi, validator_sees_no_violation_through_the_project_client)
{
    WorkerProcess worker("validated:app", {WorkerProcess::testApps().string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    for (const std::string method : {"GET", "HEAD", "POST"}) {
        const std::string body = method == "POST" ? "abc\ndef" : "";
        const FcgiResponse response =
            fcgiRequest(worker.socket(), cgiParams(method, "/v", body.size()), body);
        EXPECT_EQ(response.status, 200) << method << ": " << response.stderrData;
        EXPECT_EQ(response.stderrData, "") << method;
    }
    EXPECT_EQ(worker.stderrLog().find("error"), std::string::npos) << worker.stderrLog();
}

TEST_F(CgiFcgi, post_of_5_MiB_is_echoed_byte_exact)
{
    WorkerProcess worker("probe:app", {WorkerProcess::testApps().string()});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();
    std::mt19937 generator(7);
    std::string body(5 * 1024 * 1024, '\0');
    for (auto& byte : body) {
        byte = static_cast<char>(generator() & 0xff);
    }
    const CgiResponse response = request(worker, "POST", "/echo", body);
    EXPECT_EQ(response.status, 200);
    ASSERT_EQ(response.body.size(), body.size());
    EXPECT_TRUE(response.body == body);
}

TEST_F(CgiFcgi, flask_example_serves_page_json_form_and_static_files)
{
    WorkerProcess worker("app:app", {(WorkerProcess::examples() / "flask").string()},
                         {{"PYFPM_GREETING", "Hi from the cgi-fcgi test"}});
    ASSERT_TRUE(worker.waitReady()) << worker.stderrLog();

    const CgiResponse page = request(worker, "GET", "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("<h1>Hi from the cgi-fcgi test</h1>"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("/static/style.css"), std::string::npos);

    const CgiResponse info = request(worker, "GET", "/api/info");
    EXPECT_EQ(info.status, 200);
    EXPECT_EQ(info.header("Content-Type"), "application/json");
    const json parsed = json::parse(info.body);
    EXPECT_EQ(parsed["greeting"], "Hi from the cgi-fcgi test");
    EXPECT_EQ(parsed["pid"], worker.process().pid());

    const std::string form = "name=Ada+Lovelace&message=%3Cb%3Ehi%3C%2Fb%3E";
    const CgiResponse posted = request(worker, "POST", "/form", form,
                                       {{"CONTENT_TYPE", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(posted.status, 200);
    EXPECT_NE(posted.body.find("<dd id=\"posted-name\">Ada Lovelace</dd>"), std::string::npos) << posted.body;
    EXPECT_NE(posted.body.find("&lt;b&gt;hi&lt;/b&gt;"), std::string::npos) << posted.body;

    const CgiResponse css = request(worker, "GET", "/static/style.css");
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.body, readFile(WorkerProcess::examples() / "flask" / "static" / "style.css"));

    EXPECT_EQ(request(worker, "GET", "/missing").status, 404);
}

}  // namespace
}  // namespace pyfpm::test
