// A blocking FastCGI client for tests, built on fcgi/ClientRequest: one
// request per connection, like nginx without keepalive.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "fcgi/client.hpp"
#include "test/support/process.hpp"

namespace pyfpm::test {

using Params = std::vector<std::pair<std::string, std::string>>;

struct FcgiResponse {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string stderrData;  // FCGI_STDERR, concatenated
    fcgi::EndRequestBody end;

    // First value of a header (case-insensitive), "" when absent.
    std::string header(const std::string& name) const;
    // Every value of a header, in order.
    std::vector<std::string> headerValues(const std::string& name) const;
};

// Typical CGI/1.1 params for `method` and `uri` (split into PATH_INFO and
// QUERY_STRING; SCRIPT_NAME empty), CONTENT_LENGTH from `bodyLength` when
// non-zero, plus `extra` (which overrides).
Params cgiParams(const std::string& method, const std::string& uri,
                 std::size_t bodyLength = 0, const Params& extra = {});

// Sends one request over a fresh connection to the unix socket `socket` and
// reads the whole response. Throws std::runtime_error on connect failure, a
// protocol error or `timeout`.
FcgiResponse fcgiRequest(const std::filesystem::path& socket, const Params& params,
                         const std::string& stdinData = {},
                         std::chrono::milliseconds timeout = 10s);

}  // namespace pyfpm::test
