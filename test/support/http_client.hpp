// A blocking HTTP client for integration tests, on libcurl's easy API. No
// redirects followed, no proxy (whatever http_proxy says), no "Expect:
// 100-continue" delay, and the path sent as given ("..", "%2e" untouched).
//
//   httpRequest(...)     one request on a fresh connection; throws on a
//                        transport error. What most tests want.
//   HttpClient::fetch()  one request on a connection kept between calls
//                        (keep-alive), HTTP/1.0 on request, and the transport
//                        error reported in the response instead of thrown:
//                        for tests of truncated or timed-out responses.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pyfpm::test {

using namespace std::chrono_literals;

// Header fields as (name, value) pairs, in order; a name may repeat.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "GET";  // sent as given; "HEAD" sends and reads no body
    std::string url;             // http://127.0.0.1:PORT/path?query
    // Sent when non-empty, or always (perhaps empty) for POST, PUT and PATCH;
    // never for HEAD.
    std::string body;
    // Extra request headers; one with an empty value is sent empty ("Name:").
    // A name libcurl sets itself (Host, Accept) replaces libcurl's.
    HttpHeaders headers;
    // For the whole exchange, connecting included.
    std::chrono::milliseconds timeout = 30s;
    bool http10 = false;  // send HTTP/1.0 instead of HTTP/1.1
};

struct HttpResponse {
    // libcurl's result: CURLE_OK when a complete response arrived; otherwise
    // (refused, timed out, body cut short) `error` holds libcurl's message and
    // the fields below hold whatever arrived before the failure.
    CURLcode code = CURLE_OK;
    std::string error;

    long status = 0;       // e.g. 200; 0 when no status line arrived
    HttpHeaders headers;   // in arrival order; repeated names (Set-Cookie) kept
    std::string body;      // decoded of transfer coding (chunked), not of content coding

    // First value of a header (name compared ASCII case-insensitively), ""
    // when absent.
    std::string header(const std::string& name) const;
    // Every value of a header, in order.
    std::vector<std::string> headerValues(const std::string& name) const;
    // Whether the header is present at all (an empty value counts).
    bool hasHeader(const std::string& name) const;
};

// One libcurl easy handle and its connection cache: a connection left open
// by the server is reused by the next fetch() to the same host and port.
// Blocking; one request at a time and one thread at a time (give each thread
// its own client). The destructor closes any connection still open.
class HttpClient {
public:
    // Throws std::runtime_error when libcurl cannot make a handle.
    HttpClient();
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends `request` and reads the whole response, or until it fails or
    // `request.timeout` passes. Never throws on transport errors: see
    // HttpResponse::code. An HTTP error status is a normal response.
    HttpResponse fetch(const HttpRequest& request);

    // Connections opened so far by this client's fetch() calls; 1 after any
    // number of requests that all reused the first connection.
    long connectionsOpened() const { return connections_; }

private:
    struct CurlDeleter {
        void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
    };
    std::unique_ptr<CURL, CurlDeleter> curl_;
    long connections_ = 0;
};

// Sends `method` to `url` with `body` and extra request `headers` on a fresh
// connection (an HttpClient of its own, closed before returning) and reads
// the whole response. Throws std::runtime_error naming the method, the URL
// and libcurl's message on a transport error, a truncated response, or when
// `timeout` passes.
HttpResponse httpRequest(const std::string& method, const std::string& url,
                         const std::string& body = {}, const HttpHeaders& headers = {},
                         std::chrono::milliseconds timeout = 30s);

}  // namespace pyfpm::test
