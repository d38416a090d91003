// A libcurl client for the bridge tests: one request at a time, optionally
// over a reused connection (keep-alive), every response header kept in order.
#pragma once

#include <curl/curl.h>

#include <string>
#include <utility>
#include <vector>

namespace pyfpm::http::test {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::string body;                  // sent when non-empty (or method is POST)
    std::vector<std::string> headers;  // "Name: value"; repeats are sent as given
    long timeoutMs = 20'000;
    bool http10 = false;
};

struct HttpResponse {
    CURLcode code = CURLE_OK;  // CURLE_OK: a complete response
    std::string error;         // curl's message otherwise
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // First value of a header (case-insensitive), "" when absent.
    std::string header(const std::string& name) const;
    std::vector<std::string> headerValues(const std::string& name) const;
    bool hasHeader(const std::string& name) const;
};

class HttpClient {
public:
    HttpClient();
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Reuses the previous connection to the same host when it is still open.
    HttpResponse fetch(const HttpRequest& request);
    // Connections curl opened so far on this client.
    long connectionsOpened() const { return connections_; }

private:
    CURL* curl_;
    long connections_ = 0;
};

// A one-off request on a fresh client.
HttpResponse fetch(const HttpRequest& request);
HttpResponse get(const std::string& url);

}  // namespace pyfpm::http::test
