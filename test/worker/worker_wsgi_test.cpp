// PEP 3333 as the worker implements it, checked through the project's own
// FastCGI client against test/worker/apps/probe.py, one worker for the
// whole suite (as one server serves many requests).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "fcgi/client.hpp"
#include "test/support/fcgi_client.hpp"
#include "test/support/process.hpp"
#include "test/worker/raw_fcgi.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

using nlohmann::json;

std::string randomBytes(std::size_t size, unsigned seed)
{
    std::mt19937 generator(seed);
    std::string data(size, '\0');
    for (auto& byte : data) {
        byte = static_cast<char>(generator() & 0xff);
    }
    return data;
}

class ProbeApp : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        worker_ = std::make_unique<WorkerProcess>("probe:app",
                                                  std::vector<std::string>{WorkerProcess::testApps().string()});
        ASSERT_TRUE(worker_->waitReady()) << worker_->stderrLog();
    }
    static void TearDownTestSuite() { worker_.reset(); }

    void SetUp() override
    {
        if (!worker_ || !worker_->process().running()) {
            GTEST_SKIP() << "the probe worker is not running";
        }
    }

    static FcgiResponse get(const std::string& uri, const Params& extra = {})
    {
        return fcgiRequest(worker_->socket(), cgiParams("GET", uri, 0, extra));
    }
    static FcgiResponse post(const std::string& uri, const std::string& body, const Params& extra = {})
    {
        return fcgiRequest(worker_->socket(), cgiParams("POST", uri, body.size(), extra), body);
    }
    static json postJson(const std::string& uri, const std::string& body)
    {
        const FcgiResponse response = post(uri, body);
        EXPECT_EQ(response.status, 200) << response.body << response.stderrData;
        return json::parse(response.body);
    }
    static std::filesystem::path marker(const std::string& name) { return worker_->dir() / name; }

    static std::unique_ptr<WorkerProcess> worker_;
};

std::unique_ptr<WorkerProcess> ProbeApp::worker_;

TEST_F(ProbeApp, post_of_5_MiB_is_echoed_byte_exact)
{
    const std::string body = randomBytes(5 * 1024 * 1024, 1);
    const FcgiResponse response = post("/echo", body);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Length"), std::to_string(body.size()));
    ASSERT_EQ(response.body.size(), body.size());
    EXPECT_TRUE(response.body == body);
    EXPECT_EQ(response.end.appStatus, 0u);
}

TEST_F(ProbeApp, iterable_close_is_called)
{
    const FcgiResponse response = get("/recorded");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "recorded body");
    EXPECT_EQ(readFile(marker("recorded-closed")), "closed");
}

TEST_F(ProbeApp, generator_is_streamed_and_finalized)
{
    const FcgiResponse response = get("/generator");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "one,two,three");
    EXPECT_EQ(readFile(marker("generator-finally")), "finally");
}

TEST_F(ProbeApp, close_is_called_when_iteration_raises)
{
    const FcgiResponse response = get("/recorded-raising");
    EXPECT_EQ(response.status, 500);
    EXPECT_NE(response.stderrData.find("ValueError: probe iterable failed"), std::string::npos);
    EXPECT_EQ(readFile(marker("raising-closed")), "closed");
}

TEST_F(ProbeApp, write_callable_output_precedes_the_iterable)
{
    const FcgiResponse response = get("/write");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "first,second,third");
}

TEST_F(ProbeApp, two_set_cookie_headers_are_both_sent)
{
    const FcgiResponse response = get("/cookies");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.headerValues("Set-Cookie"),
              (std::vector<std::string>{"a=1; Path=/", "b=2; Path=/; HttpOnly"}));
}

TEST_F(ProbeApp, app_exception_answers_500_and_the_next_request_succeeds)
{
    const FcgiResponse failed = get("/raise");
    EXPECT_EQ(failed.status, 500);
    EXPECT_EQ(failed.body, "Internal Server Error\n");
    EXPECT_NE(failed.stderrData.find("Traceback (most recent call last)"), std::string::npos);
    EXPECT_NE(failed.stderrData.find("ZeroDivisionError: probe raised before start_response"),
              std::string::npos);

    const FcgiResponse next = get("/scheme");
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.body, "http");
    EXPECT_TRUE(waitUntil([] { return worker_->stderrLog().find("GET /raise: ZeroDivisionError") !=
                                      std::string::npos; }))
        << worker_->stderrLog();
    EXPECT_NE(worker_->stderrLog().find("[pool test] worker"), std::string::npos);
}

TEST_F(ProbeApp, exception_after_start_response_still_answers_500)
{
    const FcgiResponse response = get("/raise-after-start");
    EXPECT_EQ(response.status, 500);
    EXPECT_NE(response.stderrData.find("KeyError"), std::string::npos);
}

TEST_F(ProbeApp, exception_while_streaming_cuts_the_response_short)
{
    const FcgiResponse response = get("/raise-in-iterable");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "partial");
    EXPECT_EQ(response.end.appStatus, 1u);
    EXPECT_NE(response.stderrData.find("RuntimeError: probe raised while streaming"), std::string::npos);
}

TEST_F(ProbeApp, exc_info_before_any_output_replaces_the_head)
{
    const FcgiResponse response = get("/exc-info-early");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.body, "replaced by exc_info");
}

TEST_F(ProbeApp, exc_info_after_output_reraises_the_application_error)
{
    const FcgiResponse response = get("/exc-info-late");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "already sent");
    EXPECT_EQ(response.end.appStatus, 1u);
    EXPECT_NE(response.stderrData.find("LookupError: probe failure after the head"), std::string::npos)
        << response.stderrData;
}

TEST_F(ProbeApp, start_response_rejects_bad_status_lines_and_headers)
{
    const FcgiResponse response = get("/bad-head");
    ASSERT_EQ(response.status, 200) << response.body << response.stderrData;
    const json results = json::parse(response.body);
    const std::map<std::string, std::string> expected = {
        {"status-no-reason-space", "ValueError"}, {"status-letters", "ValueError"},
        {"status-type", "TypeError"},             {"headers-tuple", "TypeError"},
        {"header-crlf", "ValueError"},            {"header-name", "ValueError"},
        {"header-status", "ValueError"},          {"header-latin1", "ValueError"},
        {"header-bytes", "TypeError"},            {"header-pair", "TypeError"},
    };
    for (const auto& [attempt, error] : expected) {
        EXPECT_EQ(results.value(attempt, "missing"), error) << attempt;
    }
    EXPECT_FALSE(results.contains("latin1-ok")) << results.dump();
    EXPECT_EQ(response.header("X-Latin1"), "caf\xe9");
    EXPECT_TRUE(response.headerValues("Set-Cookie").empty());
}

TEST_F(ProbeApp, header_with_crlf_or_nul_is_refused_with_500_and_nothing_injected)
{
    // PEP 3333: no control characters in header names or values. Uncaught,
    // start_response's ValueError is the application's failure.
    for (const char* where : {"value", "name", "nul"}) {
        const FcgiResponse response = get("/header-injection", {{"QUERY_STRING", where}});
        EXPECT_EQ(response.status, 500) << where;
        EXPECT_EQ(response.header("X-Injected"), "") << where;
        EXPECT_TRUE(response.headerValues("Set-Cookie").empty()) << where;
        EXPECT_EQ(response.body.find("should not be sent"), std::string::npos) << where;
        EXPECT_NE(response.stderrData.find("ValueError: start_response"), std::string::npos)
            << where << response.stderrData;
    }
}

TEST_F(ProbeApp, start_response_twice_without_exc_info_raises)
{
    const FcgiResponse response = get("/twice");
    EXPECT_EQ(response.body, "RuntimeError: start_response() called a second time without exc_info");
}

TEST_F(ProbeApp, returning_without_start_response_answers_500)
{
    const FcgiResponse response = get("/no-start-response");
    EXPECT_EQ(response.status, 500);
    EXPECT_NE(response.stderrData.find("without calling start_response()"), std::string::npos);
}

TEST_F(ProbeApp, str_instead_of_bytes_answers_500)
{
    const FcgiResponse response = get("/str-body");
    EXPECT_EQ(response.status, 500);
    EXPECT_NE(response.stderrData.find("TypeError: the application's iterable yielded str, not bytes"),
              std::string::npos);
}

TEST_F(ProbeApp, empty_body_still_sends_the_head)
{
    const FcgiResponse response = get("/empty");
    EXPECT_EQ(response.status, 204);
    EXPECT_TRUE(response.body.empty());
}

TEST_F(ProbeApp, head_request_body_is_the_applications_choice)
{
    const FcgiResponse response = fcgiRequest(worker_->socket(), cgiParams("HEAD", "/head"));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "body for HEAD");
}

TEST_F(ProbeApp, input_read_n_returns_blocks_of_n_then_empty)
{
    const json result = postJson("/input/read-chunks?n=3", "abcdefghij");
    EXPECT_EQ(result["sizes"], json::array({3, 3, 3, 1}));
    EXPECT_EQ(result["data"], "abcdefghij");
}

TEST_F(ProbeApp, input_readline_splits_at_newlines)
{
    const json result = postJson("/input/readline", "one\ntwo\n\nthree");
    EXPECT_EQ(result["lines"], json::array({"one\n", "two\n", "\n", "three"}));
}

TEST_F(ProbeApp, input_readline_honours_its_size_limit)
{
    const json result = postJson("/input/readline?n=2", "abc\nd");
    EXPECT_EQ(result["lines"], json::array({"ab", "c\n", "d"}));
}

TEST_F(ProbeApp, input_readlines_stops_once_the_hint_is_reached)
{
    const json all = postJson("/input/readlines", "a\nbb\nccc\n");
    EXPECT_EQ(all["lines"], json::array({"a\n", "bb\n", "ccc\n"}));
    EXPECT_EQ(all["rest"], "");
    const json hinted = postJson("/input/readlines?n=3", "a\nbb\nccc\n");
    EXPECT_EQ(hinted["lines"], json::array({"a\n", "bb\n"}));
    EXPECT_EQ(hinted["rest"], "ccc\n");
}

TEST_F(ProbeApp, input_iterates_over_lines)
{
    const json result = postJson("/input/iterate", "x\ny\nz");
    EXPECT_EQ(result["lines"], json::array({"x\n", "y\n", "z"}));
}

TEST_F(ProbeApp, input_mixes_read_and_readline)
{
    const json result = postJson("/input/mixed", "abcdef\nghi\njkl");
    EXPECT_EQ(result["head"], "abc");
    EXPECT_EQ(result["line"], "def\n");
    EXPECT_EQ(result["rest"], "ghi\njkl");
}

TEST_F(ProbeApp, input_never_reads_past_content_length)
{
    // FCGI_STDIN carries more than CONTENT_LENGTH announces; the extra bytes
    // are not the application's.
    const FcgiResponse response = fcgiRequest(
        worker_->socket(), cgiParams("POST", "/input/past-end", 10), "0123456789EXTRA-BYTES\nMORE");
    ASSERT_EQ(response.status, 200) << response.stderrData;
    const json result = json::parse(response.body);
    EXPECT_EQ(result["first"], "0123456789");
    EXPECT_EQ(result["read"], "");
    EXPECT_EQ(result["read_n"], "");
    EXPECT_EQ(result["readline"], "");
    EXPECT_EQ(result["readlines"], json::array());
    EXPECT_EQ(get("/scheme").status, 200);
}

TEST_F(ProbeApp, input_without_content_length_is_empty)
{
    const FcgiResponse response =
        fcgiRequest(worker_->socket(), cgiParams("POST", "/input/past-end"), "unannounced");
    ASSERT_EQ(response.status, 200) << response.stderrData;
    EXPECT_EQ(json::parse(response.body)["first"], "");
}

TEST_F(ProbeApp, url_scheme_follows_https_then_request_scheme)
{
    EXPECT_EQ(get("/scheme").body, "http");
    EXPECT_EQ(get("/scheme", {{"HTTPS", "on"}}).body, "https");
    EXPECT_EQ(get("/scheme", {{"HTTPS", "1"}}).body, "https");
    EXPECT_EQ(get("/scheme", {{"REQUEST_SCHEME", "https"}}).body, "https");
    EXPECT_EQ(get("/scheme", {{"HTTPS", "off"}, {"REQUEST_SCHEME", "http"}}).body, "http");
}

TEST_F(ProbeApp, environ_holds_every_param_as_latin1_str_and_the_wsgi_keys)
{
    const FcgiResponse response =
        get("/environ?a=1", {{"HTTP_X_CUSTOM", "caf\xe9"}, {"SERVER_SOFTWARE", "probe-test"}});
    ASSERT_EQ(response.status, 200) << response.stderrData;
    const json environ = json::parse(response.body);
    EXPECT_EQ(environ["REQUEST_METHOD"], "GET");
    EXPECT_EQ(environ["QUERY_STRING"], "a=1");
    EXPECT_EQ(environ["PATH_INFO"], "/environ");
    EXPECT_EQ(environ["SERVER_SOFTWARE"], "probe-test");
    EXPECT_EQ(environ["HTTP_X_CUSTOM"], "caf\xc3\xa9");  // U+00E9, shown as UTF-8 JSON
    EXPECT_EQ(environ["wsgi.version"], "(1, 0)");
    EXPECT_EQ(environ["wsgi.url_scheme"], "http");
    EXPECT_EQ(environ["wsgi.multithread"], "False");
    EXPECT_EQ(environ["wsgi.multiprocess"], "True");
    EXPECT_EQ(environ["wsgi.run_once"], "False");
    EXPECT_EQ(environ["wsgi.input"], "Input");
    EXPECT_EQ(environ["wsgi.errors"], "Errors");
    EXPECT_EQ(environ["wsgi.file_wrapper"], "type");
    EXPECT_EQ(environ["all_str_keys"], true);
}

// The worker reuses the last request's environ when the param names come
// in the same order (wsgi_environ.hpp): every request must still see
// exactly its own params.
TEST_F(ProbeApp, environ_holds_each_requests_own_values_when_the_names_repeat)
{
    const std::string longValue(1000, 'v');
    const std::vector<std::pair<std::string, std::string>> values = {
        {"41000", "a"}, {"41001", "a"}, {"41001", "b"}, {"41002", longValue}, {"41002", longValue + "w"},
        {"41002", "b"},
    };
    for (const auto& [port, custom] : values) {
        const FcgiResponse response = get("/environ", {{"REMOTE_PORT", port}, {"HTTP_X_CUSTOM", custom}});
        ASSERT_EQ(response.status, 200) << response.stderrData;
        const json environ = json::parse(response.body);
        EXPECT_EQ(environ["REMOTE_PORT"], port);
        EXPECT_EQ(environ["HTTP_X_CUSTOM"], custom);
    }
}

TEST_F(ProbeApp, environ_has_no_param_of_an_earlier_request)
{
    for (int round = 0; round < 2; ++round) {
        const json with = json::parse(get("/environ", {{"HTTP_X_EXTRA", "1"}}).body);
        EXPECT_EQ(with["HTTP_X_EXTRA"], "1");
        const json without = json::parse(get("/environ").body);
        EXPECT_FALSE(without.contains("HTTP_X_EXTRA"));
        EXPECT_EQ(without["HTTP_HOST"], "localhost");
    }
}

// Kinds of request (orders of names) taking turns, fewer and then more
// than the builder keeps templates for, each seen again with other values;
// HTTP_X_SHARED's value goes back and forth across kinds.
TEST_F(ProbeApp, environ_is_right_whichever_kinds_of_request_came_before)
{
    for (const int kinds : {3, 6}) {
        for (int round = 0; round < 3; ++round) {
            for (int kind = 0; kind < kinds; ++kind) {
                const std::string value = std::to_string(round) + "." + std::to_string(kind);
                const std::string shared = std::to_string((round + kind) % 2);
                Params extra{{"HTTP_X_SHARED", shared}};
                for (int header = 0; header <= kind; ++header) {
                    extra.emplace_back("HTTP_X_KIND_" + std::to_string(header), value);
                }
                if (kind % 2 == 1) {
                    extra.emplace_back("HTTPS", "on");
                }
                const FcgiResponse response = get("/environ", extra);
                ASSERT_EQ(response.status, 200) << response.stderrData;
                const json environ = json::parse(response.body);
                EXPECT_EQ(environ["HTTP_X_SHARED"], shared) << kinds << " kinds, kind " << kind;
                for (int header = 0; header < kinds; ++header) {
                    const std::string name = "HTTP_X_KIND_" + std::to_string(header);
                    if (header <= kind) {
                        EXPECT_EQ(environ[name], value) << name;
                    } else {
                        EXPECT_FALSE(environ.contains(name)) << name << " in kind " << kind;
                    }
                }
                EXPECT_EQ(environ["wsgi.url_scheme"], kind % 2 == 1 ? "https" : "http");
                EXPECT_EQ(environ.contains("HTTPS"), kind % 2 == 1);
            }
        }
    }
}

TEST_F(ProbeApp, environ_changes_by_the_application_do_not_reach_the_next_request)
{
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(get("/mutate-environ").body, "mutated");
        const FcgiResponse response = get("/environ");
        ASSERT_EQ(response.status, 200) << response.stderrData;
        const json environ = json::parse(response.body);
        EXPECT_EQ(environ["PATH_INFO"], "/environ");
        EXPECT_EQ(environ["HTTP_HOST"], "localhost");
        EXPECT_EQ(environ["wsgi.url_scheme"], "http");
        EXPECT_EQ(environ["wsgi.input"], "Input");
        EXPECT_FALSE(environ.contains("probe.added"));
    }
}

TEST_F(ProbeApp, repeated_param_name_keeps_the_last_value)
{
    for (const auto& [first, second] : {std::pair{"one", "two"}, std::pair{"three", "two"},
                                        std::pair{"three", "four"}}) {
        Params params = cgiParams("GET", "/environ");
        params.emplace_back("HTTP_X_TWICE", first);
        params.emplace_back("HTTP_X_TWICE", second);
        const FcgiResponse response = fcgiRequest(worker_->socket(), params);
        ASSERT_EQ(response.status, 200) << response.stderrData;
        EXPECT_EQ(json::parse(response.body)["HTTP_X_TWICE"], second);
    }
}

TEST_F(ProbeApp, url_scheme_follows_the_values_when_the_names_repeat)
{
    for (const char* https : {"on", "off", "1", "0", "ON", ""}) {
        const bool secure = std::string(https) == "on" || std::string(https) == "1" || std::string(https) == "ON";
        EXPECT_EQ(get("/scheme", {{"HTTPS", https}}).body, secure ? "https" : "http") << https;
    }
    for (const char* scheme : {"https", "http", "HTTPS"}) {
        EXPECT_EQ(get("/scheme", {{"REQUEST_SCHEME", scheme}}).body, std::string(scheme) == "http" ? "http" : "https")
            << scheme;
    }
}

TEST_F(ProbeApp, start_response_and_write_take_keywords_and_reject_wrong_calls)
{
    const FcgiResponse response = get("/keywords");
    ASSERT_EQ(response.status, 200) << response.stderrData;
    const json outcomes = json::parse(response.body);
    EXPECT_EQ(outcomes["missing-headers"], "TypeError");
    EXPECT_EQ(outcomes["too-many"], "TypeError");
    EXPECT_EQ(outcomes["unknown-keyword"], "TypeError");
    EXPECT_EQ(outcomes["status-twice"], "TypeError");
    EXPECT_EQ(response.header("Content-Type"), "application/json");
}

TEST_F(ProbeApp, wsgi_errors_goes_to_fcgi_stderr)
{
    const FcgiResponse response = get("/errors");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "logged");
    EXPECT_EQ(response.stderrData,
              "probe: one line to wsgi.errors\nprobe: two lines\nprobe: \xc3\xa9 \xc3\xbcn\xc3\xaf" "code\n");
}

TEST_F(ProbeApp, file_wrapper_sends_the_file_from_its_current_position)
{
    const std::string data = randomBytes(300 * 1024 + 7, 2);
    const auto path = worker_->dir() / "payload.bin";
    writeFile(path, data);
    const FcgiResponse whole = get("/file?path=" + path.string());
    EXPECT_EQ(whole.status, 200);
    EXPECT_TRUE(whole.body == data) << whole.body.size();
    const FcgiResponse tail = get("/file?path=" + path.string() + "&skip=1000");
    EXPECT_TRUE(tail.body == data.substr(1000)) << tail.body.size();
}

TEST_F(ProbeApp, objects_kept_past_their_request_raise_value_error)
{
    EXPECT_EQ(get("/stale").body, "kept");
    EXPECT_EQ(get("/stale").body, "input:ValueError,errors:ValueError,start_response:ValueError");
}

TEST_F(ProbeApp, unread_body_is_drained_before_the_next_request_on_a_kept_connection)
{
    Fd connection = connectUnix(worker_->socket());
    ASSERT_TRUE(connection);
    const std::string body(200 * 1024, 'x');

    fcgi::ClientRequest first(1, fcgi::kKeepConn);
    // Sent whole before reading: the worker drains what the application
    // left unread, so the socket buffers never fill in both directions.
    sendAll(connection.get(), encodeRequest(first, cgiParams("POST", "/ignore-body", body.size()), body));
    EXPECT_EQ(finishOn(connection.get(), first), "ignored");

    fcgi::ClientRequest second(2, fcgi::kKeepConn);
    sendAll(connection.get(), encodeRequest(second, cgiParams("GET", "/scheme"), {}));
    EXPECT_EQ(finishOn(connection.get(), second), "http");
}

}  // namespace
}  // namespace pyfpm::test
