// The HTTP front's own rules, in-process: malformed and hostile requests
// answered before anything reaches a worker, limits and timeouts, keep-alive
// and pipelining, chunked uploads spooled to a CONTENT_LENGTH, client
// addresses from trusted proxies, and header injection from an application.
// Raw sockets where libcurl would refuse to send what a hostile client sends.
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "test/http/bridge_fixture.hpp"

namespace pyfpm::http {
namespace {

using namespace bridge;
using pyfpm::test::Fd;
using pyfpm::test::HttpResponse;
using pyfpm::test::waitUntil;
using namespace std::chrono_literals;

// Sends `bytes` and reads until the server closes or `limit` passes.
std::string exchangeRaw(std::uint16_t port, const std::string& bytes,
                        std::chrono::milliseconds limit = 5000ms) {
    Fd fd = pyfpm::test::connectTcp("127.0.0.1", port);
    if (!fd) return "connect failed";
    if (!bytes.empty()) {
        const ssize_t sent = ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent != static_cast<ssize_t>(bytes.size())) return "send failed";
    }
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd poll{fd.get(), POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (::poll(&poll, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) break;
        char buffer[16384];
        const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

int statusOf(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
    return std::stoi(response.substr(9, 3));
}

int countOf(const std::string& haystack, const std::string& needle) {
    int count = 0;
    for (std::size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

class Front : public Bridge {
protected:
    void configure(config::Config& config) override {
        config.http->client_header_timeout = 400ms;
        config.http->client_body_timeout = 400ms;
        config.http->max_connections = 8;
        config.http->max_header_size = 4096;
        config.http->client_body_temp_path = dir_.path();
        config::Route limited;
        limited.prefix = "/small/";
        limited.kind = config::Route::Kind::Pool;
        limited.pool = "web";
        limited.max_body_size = 1000;
        config.http->routes.push_back(limited);
    }
    std::string raw(const std::string& bytes, std::chrono::milliseconds limit = 5000ms) {
        return exchangeRaw(port_, bytes, limit);
    }
};

// --- 400: nothing reaches a worker --------------------------------------

TEST_F(Front, malformed_requests_are_400_and_never_reach_a_worker) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"invalid request line", "GARBAGE\r\n\r\n"},
        {"header without a colon", "GET /params HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"},
        {"NUL in the target", std::string("GET /par\0ams HTTP/1.1\r\nHost: x\r\n\r\n", 35)},
        {"space in the target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"Content-Length with Transfer-Encoding",
         "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
         "0\r\n\r\n"},
        {"two different Content-Lengths",
         "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
        {"a Transfer-Encoding other than chunked",
         "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"},
        {"a bad chunk size",
         "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
        {"HTTP/1.1 without Host", "GET /params HTTP/1.1\r\n\r\n"},
        {"a non-numeric Content-Length", "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"},
    };
    for (const auto& [what, bytes] : cases) {
        const std::string response = raw(bytes);
        EXPECT_EQ(statusOf(response), 400) << what << ": " << response;
        EXPECT_NE(response.find("Connection: close"), std::string::npos) << what;
    }
    EXPECT_EQ(responder_->accepted(), 0);
}

TEST_F(Front, a_version_other_than_1_x_is_505) {
    EXPECT_EQ(statusOf(raw("GET /params HTTP/2.0\r\nHost: x\r\n\r\n")), 505);
    EXPECT_EQ(responder_->accepted(), 0);
}

// --- head size: 414 and 431 --------------------------------------------

TEST_F(Front, long_request_line_is_414_and_large_headers_431) {
    EXPECT_EQ(statusOf(raw("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n")), 414);
    EXPECT_EQ(statusOf(raw("GET /params HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'b') +
                           "\r\n\r\n")),
              431);
    std::string many = "GET /params HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 500; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(statusOf(raw(many + "\r\n")), 431);
    EXPECT_EQ(responder_->accepted(), 0);
}

// --- bodies: 413, chunked spooling, 100-continue -------------------------

TEST_F(Front, content_length_over_the_route_limit_is_413_before_the_worker) {
    const std::string response =
        raw("POST /small/body HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
    EXPECT_EQ(statusOf(response), 413) << response;
    EXPECT_EQ(responder_->accepted(), 0);
    const HttpResponse fits = request("POST", "/small/body", {}, std::string(1000, 'z'));
    EXPECT_EQ(fits.status, 200);
    EXPECT_EQ(fits.body, std::string(1000, 'z'));
}

TEST_F(Front, chunked_upload_is_spooled_and_sent_with_its_content_length) {
    std::string bytes = "POST /params HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        "Connection: close\r\n\r\n";
    bytes += "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    const std::string response = raw(bytes);
    ASSERT_EQ(statusOf(response), 200) << response;
    EXPECT_NE(response.find("CONTENT_LENGTH=12\n"), std::string::npos) << response;
    EXPECT_EQ(response.find("HTTP_TRANSFER_ENCODING"), std::string::npos);

    std::string echo = "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    const std::string echoed = raw(echo);
    EXPECT_EQ(statusOf(echoed), 200);
    EXPECT_EQ(echoed.substr(echoed.find("\r\n\r\n") + 4), "abcdefg");
}

TEST_F(Front, chunked_upload_over_the_limit_is_413_and_never_reaches_the_worker) {
    std::string bytes = "POST /small/body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) bytes += "200\r\n" + std::string(512, 'q') + "\r\n";
    bytes += "0\r\n\r\n";
    const std::string response = raw(bytes);
    EXPECT_EQ(statusOf(response), 413) << response;
    EXPECT_EQ(responder_->accepted(), 0);
}

TEST_F(Front, expect_100_continue_is_answered_before_the_body) {
    Fd fd = pyfpm::test::connectTcp("127.0.0.1", port_);
    ASSERT_TRUE(fd);
    const std::string head = "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                             "Expect: 100-continue\r\nConnection: close\r\n\r\n";
    ASSERT_EQ(::send(fd.get(), head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
    pollfd poll{fd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&poll, 1, 5000), 1);
    char buffer[256];
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_EQ(::send(fd.get(), "ping", 4, MSG_NOSIGNAL), 4);
    std::string rest;
    while (::poll(&poll, 1, 5000) == 1) {
        const ssize_t got = ::recv(fd.get(), buffer, sizeof(buffer), 0);
        if (got <= 0) break;
        rest.append(buffer, static_cast<std::size_t>(got));
    }
    EXPECT_EQ(statusOf(rest), 200) << rest;
    EXPECT_EQ(rest.substr(rest.find("\r\n\r\n") + 4), "ping");
}

// --- timeouts: slow clients cannot hold connections ----------------------

TEST_F(Front, a_head_that_does_not_arrive_in_time_is_408_and_closed) {
    const auto started = std::chrono::steady_clock::now();
    const std::string response = raw("GET /params HTTP/1.1\r\nHost: x\r\nX-Slow: ", 5000ms);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(statusOf(response), 408) << response;
    EXPECT_LT(took, 4s) << "closed by the header timeout, not by the test's limit";
    EXPECT_EQ(responder_->accepted(), 0);
}

TEST_F(Front, a_silent_connection_is_closed_after_the_header_timeout) {
    // Closed without a word, as nginx does: a browser's pre-opened
    // connection must not read a stray 408 later.
    const auto started = std::chrono::steady_clock::now();
    const std::string response = raw("", 5000ms);
    EXPECT_EQ(response, "");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
}

TEST_F(Front, a_body_that_stops_arriving_is_408_and_the_worker_is_released) {
    const std::string response =
        raw("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", 5000ms);
    EXPECT_EQ(statusOf(response), 408) << response;
    // The FastCGI connection is closed, so the worker can go back to idle.
    EXPECT_TRUE(logged("client_body_timeout before the response was complete; closed the FastCGI "
                       "connection"));
    EXPECT_TRUE(waitUntil([&] { return inFlight() == 0; }, 5s));
}

// --- connections ---------------------------------------------------------

TEST_F(Front, connections_beyond_max_connections_get_503) {
    std::vector<Fd> held;
    for (int i = 0; i < 8; ++i) held.push_back(pyfpm::test::connectTcp("127.0.0.1", port_));
    ASSERT_TRUE(waitUntil([&] {
        std::size_t open = 0;
        loop_->run([&] { open = server_->connections(); });
        return open == 8;
    }, 5s));
    const std::string refused = raw("GET /params HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(statusOf(refused), 503) << refused;
    EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos);
    held.clear();
    EXPECT_TRUE(waitUntil([&] {
        std::size_t open = 0;
        loop_->run([&] { open = server_->connections(); });
        return open == 0;
    }, 5s));
    EXPECT_EQ(request("GET", "/hello").status, 200);
}

TEST_F(Front, pipelined_requests_are_answered_in_order) {
    const std::string response = raw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                                     "GET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n"
                                     "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(countOf(response, "HTTP/1.1 200 OK"), 2) << response;
    EXPECT_EQ(countOf(response, "HTTP/1.1 404"), 1) << response;
    EXPECT_LT(response.find("404"), response.rfind("HTTP/1.1 200")) << "in request order";
}

// --- what the application sends -------------------------------------------

TEST_F(Front, a_response_header_with_a_bare_cr_is_502_not_passed_on) {
    const HttpResponse response = request("GET", "/inject");
    EXPECT_EQ(response.status, 502);
    EXPECT_TRUE(response.header("Set-Cookie").empty());
    EXPECT_TRUE(logged("502 Bad Gateway"));
}

// --- client addresses -----------------------------------------------------

TEST_F(Front, forwarded_headers_are_ignored_from_untrusted_peers) {
    auto params = parseParams(request("GET", "/params", {{"X-Forwarded-For", "203.0.113.7"},
                                                         {"X-Forwarded-Proto", "https"}}).body);
    EXPECT_EQ(params["REMOTE_ADDR"], "127.0.0.1");
    EXPECT_EQ(params.count("HTTPS"), 0u);
}

class TrustedFront : public Front {
protected:
    void configure(config::Config& config) override {
        Front::configure(config);
        config.http->trusted_proxies = {*config::parseCidr("127.0.0.0/8")};
    }
};

TEST_F(TrustedFront, forwarded_headers_from_a_trusted_proxy_set_remote_addr_and_https) {
    auto params = parseParams(request("GET", "/params", {{"X-Forwarded-For", "203.0.113.7, 127.0.0.2"},
                                                         {"X-Forwarded-Proto", "https"}}).body);
    EXPECT_EQ(params["REMOTE_ADDR"], "203.0.113.7");
    EXPECT_EQ(params["HTTPS"], "on");
    EXPECT_EQ(params["REQUEST_SCHEME"], "https");
}

// --- uploads larger than one read ----------------------------------------
// The connection reads up to 256 KiB per readable event (libevent alone
// reads 4 KiB); these cases cross many reads, pauses and request ends.

TEST_F(Front, a_large_upload_and_a_pipelined_request_arrive_intact_and_in_order) {
    std::string body(6 * 1024 * 1024, '\0');
    std::mt19937 random(7);
    for (char& c : body) c = static_cast<char>(random());
    const std::string response =
        raw("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            30s);
    ASSERT_EQ(statusOf(response), 200) << response.substr(0, 200);
    const std::size_t start = response.find("\r\n\r\n") + 4;
    ASSERT_GE(response.size(), start + body.size());
    EXPECT_TRUE(response.compare(start, body.size(), body) == 0) << "the echoed body differs";
    const std::string after = response.substr(start + body.size());
    EXPECT_EQ(statusOf(after), 200) << after;
    EXPECT_EQ(after.substr(after.find("\r\n\r\n") + 4), "hello\n");
}

TEST_F(Front, a_large_chunked_upload_is_spooled_intact) {
    std::string body;
    std::string bytes = "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        "Connection: close\r\n\r\n";
    std::mt19937 random(11);
    while (body.size() < 3 * 1024 * 1024) {
        // Chunk sizes from 1 byte to more than one read, so chunk lines
        // fall on every kind of boundary between reads.
        const std::size_t size = 1 + random() % 100'000;
        std::string chunk(size, '\0');
        for (char& c : chunk) c = static_cast<char>('a' + random() % 26);
        body += chunk;
        bytes += fmt::format("{:x}\r\n", size) + chunk + "\r\n";
    }
    bytes += "0\r\n\r\n";
    const std::string response = raw(bytes, 30s);
    ASSERT_EQ(statusOf(response), 200) << response.substr(0, 200);
    EXPECT_NE(response.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
    EXPECT_TRUE(response.substr(response.find("\r\n\r\n") + 4) == body) << "the echoed body differs";
}

TEST_F(Front, a_large_upload_refused_with_413_is_drained_and_the_answer_arrives) {
    // The answer goes out before the body is read; the lingering close
    // then reads the 4 MiB nobody wants, so the client's send completes
    // and the 413 is not destroyed by a reset.
    const std::string response =
        raw("POST /small/body HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n" +
                std::string(4 * 1024 * 1024, 'u'),
            10s);
    EXPECT_EQ(statusOf(response), 413) << response;
    EXPECT_NE(response.find("413 Content Too Large\n"), std::string::npos) << response;
    EXPECT_EQ(responder_->accepted(), 0);
}

// A bare ClientConnection on the test loop, answered by a responder that
// pauses the body every `pauseEvery` bytes and waits for the test to resume
// it: what the Exchange does when the worker reads slower than the client.
class PausingOwner final : public ConnectionOwner, public Responder {
public:
    explicit PausingOwner(std::size_t pauseEvery) : pause_every_(pauseEvery), next_pause_(pauseEvery) {}

    void onRequest(ClientConnection& connection) override {
        connection_ = &connection;
        targets.push_back(connection.request().target);
        if (connection.request().hasBody()) {
            connection.readBody(*this);
        } else {
            connection.sendText(200, "no body\n");
        }
    }
    void onResponseEnd(ClientConnection&, int status, std::uint64_t) override { statuses.push_back(status); }
    void onConnectionClosed(ClientConnection&) override { closed = true; }
    bool closingConnections() const override { return false; }

    void onBodyData(std::string_view data) override {
        if (paused) ++deliveredWhilePaused;
        body.append(data);
        const auto total = connection_->request().contentLength.value_or(0);
        if (body.size() >= next_pause_ && body.size() < total) {
            next_pause_ += pause_every_;
            paused = true;
            ++pauses;
            connection_->pauseBody();
        }
    }
    void onBodyEnd() override { connection_->sendText(200, fmt::format("{} bytes\n", body.size())); }
    void onClientDrained() override {}
    void onClientGone(std::string_view why) override { gone = std::string(why); }

    void resume() {
        paused = false;
        connection_->resumeBody();
    }

    // Read and written on the loop thread only (the test goes through
    // LoopThread::run).
    std::vector<std::string> targets;
    std::vector<int> statuses;
    std::string body;
    bool paused = false;
    int pauses = 0;
    int deliveredWhilePaused = 0;
    bool closed = false;
    std::string gone;

private:
    std::size_t pause_every_;
    std::size_t next_pause_;
    ClientConnection* connection_ = nullptr;
};

TEST(ClientConnectionReading, a_paused_body_is_not_delivered_and_resumes_byte_exact_before_a_pipelined_request) {
    ::signal(SIGPIPE, SIG_IGN);
    Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    socklen_t length = sizeof(address);
    ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    Fd client = pyfpm::test::connectTcp("127.0.0.1", ntohs(address.sin_port));
    ASSERT_TRUE(client);
    const int accepted = ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ASSERT_GE(accepted, 0);

    constexpr std::size_t kBody = 3 * 1024 * 1024;
    constexpr std::size_t kPauseEvery = 512 * 1024;
    std::string body(kBody, '\0');
    std::mt19937 random(3);
    for (char& c : body) c = static_cast<char>(random());
    const std::string bytes = "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kBody) +
                              "\r\n\r\n" + body +
                              "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    test::LoopThread loop;
    PausingOwner owner(kPauseEvery);
    std::unique_ptr<ClientConnection> connection;
    ConnectionLimits limits;
    limits.bodyTimeout = 20'000ms;
    loop.run([&] { connection = std::make_unique<ClientConnection>(loop.base(), accepted, owner, limits); });

    // The whole upload and the next request in one stream, as a client
    // that pipelines sends them; it blocks while the body is paused.
    std::atomic<bool> sent{false};
    std::thread sender([&] {
        sent = ::send(client.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(bytes.size());
    });
    const auto state = [&](auto read) {
        decltype(read()) value{};
        loop.run([&] { value = read(); });
        return value;
    };
    constexpr int kPauses = static_cast<int>((kBody - 1) / kPauseEvery);  // one per 512 KiB
    for (int i = 0; i < kPauses; ++i) {
        if (!waitUntil([&] { return state([&] { return owner.paused; }); }, 10s)) {
            ADD_FAILURE() << "pause " << i + 1 << " never came";
            break;
        }
        const std::size_t atPause = state([&] { return owner.body.size(); });
        // Nothing signals "read nothing more"; give a wrong implementation
        // a bounded while to deliver bytes during the pause.
        EXPECT_FALSE(waitUntil([&] { return state([&] { return owner.body.size(); }) != atPause; }, 200ms))
            << "body bytes delivered while paused, at " << atPause;
        loop.run([&] { owner.resume(); });
    }

    std::string response;
    char buffer[65536];
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd poll{client.get(), POLLIN, 0};
        if (::poll(&poll, 1, 1000) <= 0) continue;
        const ssize_t n = ::recv(client.get(), buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        response.append(buffer, static_cast<std::size_t>(n));
    }
    ::shutdown(client.get(), SHUT_RDWR);  // a sender stuck on a failure gets EPIPE
    sender.join();
    EXPECT_TRUE(sent.load());

    EXPECT_EQ(countOf(response, "HTTP/1.1 200 OK"), 2) << response;
    EXPECT_NE(response.find(std::to_string(kBody) + " bytes\n"), std::string::npos) << response;
    EXPECT_LT(response.find(" bytes\n"), response.find("no body\n")) << "in request order";
    loop.run([&] {
        EXPECT_TRUE(owner.body == body) << "the body differs (" << owner.body.size() << " bytes)";
        EXPECT_EQ(owner.deliveredWhilePaused, 0);
        EXPECT_EQ(owner.pauses, kPauses);
        EXPECT_EQ(owner.targets, (std::vector<std::string>{"/up", "/after"}));
        EXPECT_EQ(owner.statuses, (std::vector<int>{200, 200}));
        EXPECT_EQ(owner.gone, "");
    });
    EXPECT_TRUE(waitUntil([&] { return state([&] { return owner.closed; }); }, 5s));
    loop.run([&] { connection.reset(); });
}

class NoKeepAlive : public Front {
protected:
    void configure(config::Config& config) override {
        Front::configure(config);
        config.http->keepalive_timeout = 0ms;
    }
};

TEST_F(NoKeepAlive, every_response_closes_its_connection) {
    const std::string response = raw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(countOf(response, "HTTP/1.1 200"), 1) << response;
    EXPECT_NE(response.find("Connection: close"), std::string::npos);
}

}  // namespace
}  // namespace pyfpm::http
