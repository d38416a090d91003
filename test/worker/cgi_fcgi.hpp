// Runs libfcgi's own client, `cgi-fcgi -bind -connect SOCKET`, as a test
// would run a CGI program: the CGI environment in its environment, the body
// on its stdin; it prints the application's CGI response on stdout.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "test/support/process.hpp"

namespace pyfpm::test {

struct CgiResponse {
    int status = 0;  // from "Status:", 200 when absent
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string stderrText;  // what cgi-fcgi printed on stderr (FCGI_STDERR)

    std::string header(const std::string& name) const;  // first, case-insensitive
    std::vector<std::string> headerValues(const std::string& name) const;
};

// The CGI/1.1 meta-variables (RFC 3875 §4.1) for `method` and `uri`, with
// CONTENT_LENGTH/CONTENT_TYPE when `body` is not empty; `extra` overrides.
std::map<std::string, std::string> cgiEnvironment(const std::string& method, const std::string& uri,
                                                  const std::string& body = {},
                                                  const std::map<std::string, std::string>& extra = {});

// Runs cgi-fcgi against `socket` with `environment` and `body`, using
// `workDir` for its files. Throws std::runtime_error if it does not exit 0
// within `timeout` or prints no CGI head.
CgiResponse runCgiFcgi(const std::filesystem::path& socket,
                       const std::map<std::string, std::string>& environment, const std::string& body,
                       const std::filesystem::path& workDir, std::chrono::milliseconds timeout = 30s);

}  // namespace pyfpm::test
