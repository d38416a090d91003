// The HTTP bridge in-process: a real event loop on a thread, a static root
// in a temp dir, a FastCGI responder thread as the pool, libcurl as the
// client. Every server binds 127.0.0.1 on an ephemeral port.
#include "test/http/bridge_fixture.hpp"

namespace pyfpm::http {
namespace {

using namespace bridge;
using pyfpm::test::waitUntil;
using pyfpm::test::HttpClient;
using pyfpm::test::HttpHeaders;
using pyfpm::test::HttpRequest;
using pyfpm::test::HttpResponse;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// --- requests through a pool -------------------------------------------

TEST_F(Bridge, get_passes_nginx_style_cgi_params) {
    const HttpResponse response = request("GET", "/params?a=1&b=two%20x", {{"X-Custom", "v"}});
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Type"), "text/plain");
    auto params = parseParams(response.body);
    EXPECT_EQ(params["REQUEST_METHOD"], "GET");
    EXPECT_EQ(params["QUERY_STRING"], "a=1&b=two%20x");
    EXPECT_EQ(params["REQUEST_URI"], "/params?a=1&b=two%20x");
    EXPECT_EQ(params["DOCUMENT_URI"], "/params");
    EXPECT_EQ(params["SCRIPT_NAME"], "");
    EXPECT_EQ(params["PATH_INFO"], "/params");
    EXPECT_EQ(params["DOCUMENT_ROOT"], dir_.path().string());
    EXPECT_EQ(params["SERVER_PROTOCOL"], "HTTP/1.1");
    EXPECT_EQ(params["REQUEST_SCHEME"], "http");
    EXPECT_EQ(params["GATEWAY_INTERFACE"], "CGI/1.1");
    EXPECT_EQ(params["SERVER_SOFTWARE"].rfind("pyfpm/", 0), 0u);
    EXPECT_EQ(params["REMOTE_ADDR"], "127.0.0.1");
    EXPECT_NE(params["REMOTE_PORT"], "0");
    EXPECT_EQ(params["SERVER_ADDR"], "127.0.0.1");
    EXPECT_EQ(params["SERVER_PORT"], std::to_string(port_));
    EXPECT_EQ(params["SERVER_NAME"], "127.0.0.1");
    EXPECT_EQ(params["HTTP_HOST"], "127.0.0.1:" + std::to_string(port_));
    EXPECT_EQ(params["HTTP_X_CUSTOM"], "v");
    EXPECT_EQ(params["CONTENT_LENGTH"], "");
    EXPECT_EQ(params.count("HTTPS"), 0u);
}

TEST_F(Bridge, httpoxy_proxy_header_is_not_passed) {
    const HttpResponse response =
        request("GET", "/params", {{"Proxy", "http://evil.example:3128"}});
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(parseParams(response.body).count("HTTP_PROXY"), 0u);
}

TEST_F(Bridge, percent_encoded_path_is_decoded_for_path_info) {
    const HttpResponse response = request("GET", "/some%20dir/caf%C3%A9/../x%2By?q=%20");
    ASSERT_EQ(response.status, 200) << response.error;
    auto params = parseParams(response.body);
    EXPECT_EQ(params["PATH_INFO"], "/some dir/x+y");
    EXPECT_EQ(params["DOCUMENT_URI"], "/some dir/x+y");
    EXPECT_EQ(params["REQUEST_URI"], "/some%20dir/caf%C3%A9/../x%2By?q=%20");
    EXPECT_EQ(params["QUERY_STRING"], "q=%20");
}

TEST_F(Bridge, route_prefix_becomes_script_name) {
    auto params = parseParams(request("GET", "/app/x/y").body);
    EXPECT_EQ(params["SCRIPT_NAME"], "/app");
    EXPECT_EQ(params["PATH_INFO"], "/x/y");
    EXPECT_EQ(params["SCRIPT_FILENAME"], (dir_ / "app").string());

    params = parseParams(request("GET", "/app").body);
    EXPECT_EQ(params["SCRIPT_NAME"], "/app");
    EXPECT_EQ(params["PATH_INFO"], "");

    params = parseParams(request("GET", "/appendix").body);
    EXPECT_EQ(params["SCRIPT_NAME"], "");
    EXPECT_EQ(params["PATH_INFO"], "/appendix");
}

TEST_F(Bridge, head_sends_the_head_without_a_body) {
    const HttpResponse response = request("HEAD", "/params");
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Type"), "text/plain");
    EXPECT_TRUE(response.body.empty());

    // The connection stays usable: no stray body bytes were sent.
    HttpClient client;
    HttpRequest head;
    head.method = "HEAD";
    head.url = url("/hello");
    EXPECT_EQ(client.fetch(head).header("Content-Length"), "6");
    HttpRequest get;
    get.url = url("/hello");
    const HttpResponse second = client.fetch(get);
    EXPECT_EQ(second.body, "hello\n");
    EXPECT_EQ(client.connectionsOpened(), 1);
}

TEST_F(Bridge, post_body_is_echoed_byte_exact) {
    std::string body(5 * 1024 * 1024, '\0');
    std::mt19937 random(42);
    for (char& c : body) c = static_cast<char>(random());
    const HttpResponse response =
        request("POST", "/body", {{"Content-Type", "application/octet-stream"}}, body);
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Length"), std::to_string(body.size()));
    EXPECT_TRUE(response.body == body) << "echoed body differs (" << response.body.size()
                                       << " bytes back)";
}

TEST_F(Bridge, post_params_carry_content_type_and_length) {
    const HttpResponse response =
        request("POST", "/params", {{"Content-Type", "application/x-www-form-urlencoded"}},
                "a=1&b=2");
    auto params = parseParams(response.body);
    EXPECT_EQ(params["REQUEST_METHOD"], "POST");
    EXPECT_EQ(params["CONTENT_TYPE"], "application/x-www-form-urlencoded");
    EXPECT_EQ(params["CONTENT_LENGTH"], "7");
    EXPECT_EQ(params.count("HTTP_CONTENT_TYPE"), 0u);
    EXPECT_EQ(params.count("HTTP_CONTENT_LENGTH"), 0u);
}

TEST_F(Bridge, other_methods_reach_the_application) {
    for (const char* method : {"PUT", "DELETE", "OPTIONS", "PATCH"}) {
        const HttpResponse response = request(method, "/params");
        ASSERT_EQ(response.status, 200) << method;
        EXPECT_EQ(parseParams(response.body)["REQUEST_METHOD"], method);
    }
}

TEST_F(Bridge, webdav_methods_reach_the_application) {
    const HttpResponse response = request("PROPFIND", "/params");
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(parseParams(response.body)["REQUEST_METHOD"], "PROPFIND");
}

TEST_F(Bridge, unknown_methods_are_refused_before_the_pool) {
    const HttpResponse response = request("BREW", "/params");
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(responder_->accepted(), 0);
}

TEST_F(Bridge, repeated_request_headers_are_joined) {
    const HttpResponse response = request(
        "GET", "/params",
        {{"Accept", "text/html"}, {"X-Trace", "one"}, {"Accept", "application/json"},
         {"Cookie", "a=1"}, {"X-Trace", "two"}, {"Cookie", "b=2"}});
    auto params = parseParams(response.body);
    EXPECT_EQ(params["HTTP_ACCEPT"], "text/html, application/json");
    EXPECT_EQ(params["HTTP_X_TRACE"], "one, two");
    EXPECT_EQ(params["HTTP_COOKIE"], "a=1; b=2");
}

TEST_F(Bridge, two_set_cookie_headers_reach_the_client) {
    const HttpResponse response = request("GET", "/cookies");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.headerValues("Set-Cookie"),
              (std::vector<std::string>{"a=1; Path=/", "b=2; Path=/"}));
}

TEST_F(Bridge, application_statuses_pass_through) {
    HttpResponse response = request("GET", "/status/404");
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.body, "no such thing\n");

    response = request("GET", "/redirect");
    EXPECT_EQ(response.status, 302);
    EXPECT_EQ(response.header("Location"), "/elsewhere");

    response = request("GET", "/error");
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.body, "boom\n");
}

TEST_F(Bridge, hop_by_hop_headers_from_the_application_are_dropped) {
    const HttpResponse response = request("GET", "/hop");
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_EQ(response.body, "hop\n");
    EXPECT_EQ(response.header("X-Kept"), "yes");
    EXPECT_FALSE(response.hasHeader("Keep-Alive"));
    EXPECT_FALSE(response.hasHeader("Upgrade"));
    EXPECT_NE(response.header("Connection"), "close");
    // The bridge's own chunked framing, exactly once.
    EXPECT_EQ(response.headerValues("Transfer-Encoding"), std::vector<std::string>{"chunked"});
}

TEST_F(Bridge, large_response_streams_chunked_and_intact) {
    const std::uint64_t size = 10 * 1024 * 1024;
    const HttpResponse response = request("GET", "/big?bytes=" + std::to_string(size));
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_EQ(response.header("Transfer-Encoding"), "chunked");
    EXPECT_FALSE(response.hasHeader("Content-Length"));
    ASSERT_EQ(response.body.size(), size);
    EXPECT_TRUE(response.body == bigBody(size)) << "body differs";
}

TEST_F(Bridge, large_response_with_content_length_is_not_chunked) {
    const std::uint64_t size = 3 * 1024 * 1024 + 17;
    const HttpResponse response =
        request("GET", "/big?length=1&bytes=" + std::to_string(size));
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_EQ(response.header("Content-Length"), std::to_string(size));
    EXPECT_FALSE(response.hasHeader("Transfer-Encoding"));
    EXPECT_TRUE(response.body == bigBody(size));
}

TEST_F(Bridge, http10_client_gets_the_body_until_close) {
    HttpRequest request;
    request.url = url("/big?bytes=100000");
    request.http10 = true;
    const HttpResponse response = HttpClient().fetch(request);
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_FALSE(response.hasHeader("Transfer-Encoding"));
    EXPECT_TRUE(response.body == bigBody(100000));
}

TEST_F(Bridge, keep_alive_connection_serves_requests_after_a_stream) {
    HttpClient client;
    HttpRequest big;
    big.url = url("/big?bytes=300000");
    EXPECT_EQ(client.fetch(big).body.size(), 300000u);
    for (int i = 0; i < 5; ++i) {
        HttpRequest hello;
        hello.url = url("/hello");
        EXPECT_EQ(client.fetch(hello).body, "hello\n");
    }
    EXPECT_EQ(client.connectionsOpened(), 1);
}

// --- failures ----------------------------------------------------------

TEST_F(Bridge, refused_unix_socket_is_502) {
    const HttpResponse response = request("GET", "/refused/x");
    EXPECT_EQ(response.status, 502);
    EXPECT_EQ(response.body, "502 Bad Gateway\n");
    EXPECT_TRUE(logged("[pool refused] GET /refused/x: 502 Bad Gateway: connect(2) unix:" +
                       (dir_ / "refused.sock").string() + ": Connection refused"));
}

TEST_F(Bridge, refused_tcp_port_is_502) {
    const HttpResponse response = request("GET", "/tcp-refused/x");
    EXPECT_EQ(response.status, 502);
    EXPECT_TRUE(logged("[pool tcp-refused] GET /tcp-refused/x: 502 Bad Gateway"));
    EXPECT_TRUE(logged("Connection refused"));
}

TEST_F(Bridge, worker_closing_before_the_head_is_502) {
    const HttpResponse response = request("GET", "/close-before-head");
    EXPECT_EQ(response.status, 502);
    EXPECT_TRUE(logged("[pool web] GET /close-before-head: 502 Bad Gateway: connection closed "
                       "before FCGI_END_REQUEST"));
}

TEST_F(Bridge, malformed_records_are_502) {
    const HttpResponse response = request("GET", "/garbage");
    EXPECT_EQ(response.status, 502);
    EXPECT_TRUE(logged("[pool web] GET /garbage: 502 Bad Gateway: malformed FastCGI record"));
}

TEST_F(Bridge, worker_closing_mid_body_truncates_the_response) {
    const HttpResponse response = request("GET", "/close-early");
    EXPECT_EQ(response.status, 200);
    EXPECT_NE(response.code, CURLE_OK) << "a truncated body must not look complete";
    EXPECT_LE(response.body.size(), 1000u);
    EXPECT_TRUE(logged("[pool web] GET /close-early: response truncated"));
}

TEST_F(Bridge, silent_worker_is_504_after_request_timeout) {
    const auto start = std::chrono::steady_clock::now();
    const HttpResponse response = request("GET", "/quick/silent");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(response.status, 504);
    EXPECT_EQ(response.body, "504 Gateway Timeout\n");
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 10s);
    EXPECT_TRUE(waitUntil([this] { return responder_->peerClosed() == 1; }, 5s))
        << "the FastCGI connection was not closed";
    EXPECT_TRUE(logged("[pool quick] GET /quick/silent: 504 Gateway Timeout: no response "
                       "within request_timeout (300ms)"));
}

TEST_F(Bridge, unavailable_pool_is_503_with_retry_after) {
    const int acceptedBefore = responder_->accepted();
    const HttpResponse response = request("GET", "/down/x");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.header("Retry-After"), "1");
    EXPECT_NE(response.body.find("pool down"), std::string::npos) << response.body;
    EXPECT_EQ(responder_->accepted(), acceptedBefore) << "no connection for an unavailable pool";
    EXPECT_TRUE(logged("[pool down] GET /down/x: 503 Service Unavailable: in backoff"));
}

TEST_F(Bridge, client_disconnect_closes_the_fastcgi_connection) {
    HttpRequest request;
    request.url = url("/silent");
    request.timeout = 300ms;
    const HttpResponse response = HttpClient().fetch(request);
    EXPECT_EQ(response.code, CURLE_OPERATION_TIMEDOUT);
    EXPECT_TRUE(waitUntil([this] { return responder_->peerClosed() == 1; }, 5s))
        << "the bridge kept the FastCGI connection of a gone client";
    EXPECT_TRUE(logged("[pool web] GET /silent: 499"));
    EXPECT_TRUE(waitUntil([this] { return inFlight() == 0; }, 5s));
}

TEST_F(Bridge, stderr_lines_are_logged_with_pool_and_request) {
    const HttpResponse response = request("GET", "/stderr");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "ok\n");
    EXPECT_TRUE(logged("[pool web] GET /stderr: stderr: first line"));
    EXPECT_TRUE(logged("[pool web] GET /stderr: stderr: second line"));
}

TEST_F(Bridge, failures_do_not_affect_other_requests) {
    std::atomic<int> good{0};
    std::atomic<int> bad{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t) {
        clients.emplace_back([&, t] {
            for (int i = 0; i < 6; ++i) {
                const bool failing = (t + i) % 2 == 0;
                const HttpResponse response =
                    request("GET", failing ? "/close-before-head" : "/hello");
                if (failing ? response.status == 502 : response.body == "hello\n") {
                    ++(failing ? bad : good);
                }
            }
        });
    }
    for (std::thread& client : clients) client.join();
    EXPECT_EQ(good.load(), 24);
    EXPECT_EQ(bad.load(), 24);
    EXPECT_TRUE(waitUntil([this] { return inFlight() == 0; }, 5s));
}

TEST_F(Bridge, body_over_the_limit_is_413) {
    const HttpResponse response = request("POST", "/body", {}, std::string(9 * 1024 * 1024, 'x'));
    EXPECT_EQ(response.status, 413);
    EXPECT_EQ(responder_->completed(), 0);
}

TEST_F(Bridge, oversized_request_head_is_431_before_the_pool) {
    const HttpResponse response =
        request("GET", "/params", {{"X-Huge", std::string(100 * 1024, 'h')}});
    EXPECT_EQ(response.status, 431);
    EXPECT_EQ(responder_->accepted(), 0);
}

TEST_F(Bridge, slow_client_pauses_the_worker) {
    // A client that does not read: a small receive buffer, and no recv().
    pyfpm::test::Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int small = 16 * 1024;
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    const std::uint64_t size = 64 * 1024 * 1024;
    const std::string head =
        "GET /big?bytes=" + std::to_string(size) + " HTTP/1.1\r\nHost: test\r\n\r\n";
    ASSERT_EQ(::send(client.get(), head.data(), head.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(head.size()));

    ASSERT_TRUE(waitUntil([this] { return responder_->bigBytesSent() > 0; }));
    // Nothing signals "stopped"; give it a bounded while to (wrongly) finish.
    EXPECT_FALSE(waitUntil([this] { return responder_->completed() > 0; }, 1500ms))
        << "the whole response was buffered for a client that reads nothing";
    EXPECT_LT(responder_->bigBytesSent(), 24u * 1024 * 1024);

    // Reading resumes the worker; the response then completes.
    std::uint64_t received = 0;
    std::string tail;
    std::string buffer(256 * 1024, '\0');
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (tail.find("\r\n0\r\n\r\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        pollfd fd = {client.get(), POLLIN, 0};
        if (::poll(&fd, 1, 1000) <= 0) continue;
        const ssize_t n = ::recv(client.get(), buffer.data(), buffer.size(), 0);
        if (n <= 0) break;
        received += static_cast<std::uint64_t>(n);
        tail = (tail + buffer.substr(0, static_cast<std::size_t>(n)));
        if (tail.size() > 16) tail.erase(0, tail.size() - 16);
    }
    EXPECT_GT(received, size);
    EXPECT_TRUE(waitUntil([this] { return responder_->completed() == 1; }));
}

// --- static files --------------------------------------------------------

TEST_F(Bridge, static_file_with_type_length_and_last_modified) {
    const HttpResponse response = request("GET", "/static/hello.txt");
    ASSERT_EQ(response.code, CURLE_OK) << response.error;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "hello, static\n");
    EXPECT_EQ(response.header("Content-Type"), "text/plain");
    EXPECT_EQ(response.header("Content-Length"), "14");
    struct stat info = {};
    ASSERT_EQ(::stat((root_ / "hello.txt").c_str(), &info), 0);
    EXPECT_EQ(response.header("Last-Modified"), formatHttpDate(info.st_mtime));

    EXPECT_EQ(request("GET", "/static/style.css").header("Content-Type"), "text/css");
}

TEST_F(Bridge, static_head_has_length_and_no_body) {
    const HttpResponse response = request("HEAD", "/static/hello.txt");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Length"), "14");
    EXPECT_TRUE(response.body.empty());
}

TEST_F(Bridge, static_if_modified_since_is_304) {
    const std::string lastModified = request("GET", "/static/hello.txt").header("Last-Modified");
    const HttpResponse response =
        request("GET", "/static/hello.txt", {{"If-Modified-Since", lastModified}});
    EXPECT_EQ(response.status, 304);
    EXPECT_TRUE(response.body.empty());
}

TEST_F(Bridge, static_directory_missing_and_wrong_method) {
    // A directory without an index file: 403 with its slash, and first
    // redirected to its slash (as nginx answers).
    EXPECT_EQ(request("GET", "/static/").status, 403);
    EXPECT_EQ(request("GET", "/static").status, 301);
    const HttpResponse sub = request("GET", "/static/sub");
    EXPECT_EQ(sub.status, 301);
    EXPECT_EQ(sub.header("Location"), "/static/sub/");
    EXPECT_EQ(request("GET", "/static/sub/").status, 403);
    EXPECT_EQ(request("GET", "/static/missing.txt").status, 404);
    const HttpResponse post = request("POST", "/static/hello.txt", {}, "x");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.header("Allow"), "GET, HEAD");
    EXPECT_EQ(responder_->accepted(), 0) << "static requests never reach the pool";
}

TEST_F(Bridge, traversal_attempts_never_serve_outside_the_root) {
    struct Attempt {
        const char* path;
        long status;  // 0: any status, as long as the secret stays secret
    };
    const Attempt attempts[] = {
        {"/static/escape", 403},
        {"/static/../secret.txt", 0},  // normalises to /secret.txt: the app's route
        {"/static/%2e%2e/secret.txt", 0},
        {"/static/%2E%2E%2Fsecret.txt", 0},
        {"/static/..%2fsecret.txt", 0},
        {"/static/../../secret.txt", 400},
        {"/static/%2e%2e/%2e%2e/secret.txt", 400},
        {"/static/..%2f..%2f..%2fetc/passwd", 400},
        {"/static/sub/../../../secret.txt", 400},
        {"/static/%00", 400},
        {"/static/hello.txt%00.css", 400},
        {"/static/%zz", 400},
        {"/static/sub/..%5c..%5csecret.txt", 404},
    };
    for (const Attempt& attempt : attempts) {
        const HttpResponse response = request("GET", attempt.path);
        EXPECT_EQ(response.body.find("TOP-SECRET"), std::string::npos) << attempt.path;
        if (attempt.status != 0) {
            EXPECT_EQ(response.status, attempt.status) << attempt.path;
        }
        EXPECT_NE(response.status, 0) << attempt.path << ": " << response.error;
    }
}

// --- graceful stop -------------------------------------------------------

TEST_F(Bridge, stop_accepting_lets_in_flight_requests_finish) {
    HttpResponse held;
    std::thread client([&] { held = request("GET", "/hold"); });
    ASSERT_TRUE(waitUntil([this] { return responder_->holding() == 1; }));

    std::atomic<bool> drained{false};
    loop_->run([&] { server_->stopAccepting([&drained] { drained = true; }); });
    EXPECT_EQ(inFlight(), 1u);
    EXPECT_FALSE(pyfpm::test::connectTcp("127.0.0.1", port_)) << "still accepting";
    EXPECT_FALSE(drained.load());

    responder_->releaseHeld();
    client.join();
    EXPECT_EQ(held.status, 200);
    EXPECT_EQ(held.body, "held\n");
    EXPECT_EQ(held.header("Connection"), "close");
    EXPECT_TRUE(waitUntil([&drained] { return drained.load(); }));
    EXPECT_EQ(inFlight(), 0u);
}

TEST_F(Bridge, stop_accepting_when_idle_drains_at_once) {
    std::atomic<bool> drained{false};
    loop_->run([&] { server_->stopAccepting([&drained] { drained = true; }); });
    EXPECT_TRUE(waitUntil([&drained] { return drained.load(); }));
}

TEST_F(Bridge, destroying_the_server_drops_requests_in_flight) {
    HttpResponse held;
    std::thread client([&] { held = request("GET", "/silent"); });
    ASSERT_TRUE(waitUntil([this] { return responder_->accepted() == 1; }));
    ASSERT_TRUE(waitUntil([this] { return inFlight() == 1; }));
    loop_->run([this] { server_.reset(); });
    client.join();
    EXPECT_NE(held.code, CURLE_OK);
    EXPECT_TRUE(waitUntil([this] { return responder_->peerClosed() == 1; }));
}

}  // namespace
}  // namespace pyfpm::http
