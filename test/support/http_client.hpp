// A blocking HTTP/1.1 client for integration tests (libcurl's easy API):
// one request per call on a fresh connection, no redirects followed, no
// proxy, no "Expect: 100-continue" delay.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace pyfpm::test {

using namespace std::chrono_literals;

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
    long status = 0;       // e.g. 200
    HttpHeaders headers;   // in arrival order; repeated names (Set-Cookie) kept
    std::string body;      // decoded of transfer coding (chunked), not of content coding

    // First value of a header (case-insensitive), "" when absent.
    std::string header(const std::string& name) const;
    // Every value of a header, in order.
    std::vector<std::string> headerValues(const std::string& name) const;
};

// Sends `method` to `url` (http://127.0.0.1:PORT/path?query) with `body`
// (sent when non-empty, or always for POST/PUT/PATCH) and extra request
// `headers`, and reads the whole response. HEAD reads no body. Throws
// std::runtime_error with libcurl's message on a transport error or when
// `timeout` passes; an HTTP error status is a normal response.
HttpResponse httpRequest(const std::string& method, const std::string& url,
                         const std::string& body = {}, const HttpHeaders& headers = {},
                         std::chrono::milliseconds timeout = 30s);

}  // namespace pyfpm::test
