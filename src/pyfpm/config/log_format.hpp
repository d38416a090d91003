// http.access_log_format (pyfpm.yaml(5)): text with nginx-style variables,
// "$status" or "${status}", compiled once into parts. Lives with the config
// so that a bad format is reported at load time with its file:line:col; the
// access log (src/pyfpm/http/access_log.hpp) fills the variables. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyfpm::config {

// Every variable, as nginx names it where nginx has it.
enum class LogVariable {
    RemoteAddr,            // $remote_addr: the client's address
    RemoteUser,            // $remote_user: always "-" (no auth in the bridge)
    TimeLocal,             // $time_local: 20/Nov/2026:10:00:00 +0100
    TimeIso8601,           // $time_iso8601: 2026-11-20T10:00:00+01:00
    Msec,                  // $msec: Unix seconds with ms, at the log write
    Request,               // $request: "GET /path?q HTTP/1.1"
    RequestMethod,         // $request_method
    RequestUri,            // $request_uri: path and query as sent
    ServerProtocol,        // $server_protocol: HTTP/1.1
    Host,                  // $host: the Host header, "-" without one
    Status,                // $status: the status sent; 499 when the client left first
    BodyBytesSent,         // $body_bytes_sent: response body bytes
    HttpReferer,           // $http_referer
    HttpUserAgent,         // $http_user_agent
    RequestTime,           // $request_time: seconds.milliseconds, request in to last byte out
    UpstreamResponseTime,  // $upstream_response_time: seconds.ms with the worker; "-" for none
    Pool,                  // $pool: the pool that served, "-" for static files and the daemon
    WorkerPid,             // $worker_pid: the worker that served, "-" when unknown
};

struct LogFormatPart {
    std::string literal;                   // when !variable
    std::optional<LogVariable> variable;
};

// The variable names, without '$', in enum order: for errors and docs.
const std::vector<std::string_view>& logVariableNames();

// nullopt, with `error` naming the unknown variable and listing the known
// ones, for a format that uses a name not in the list.
std::optional<std::vector<LogFormatPart>> parseLogFormat(std::string_view format, std::string& error);

}  // namespace pyfpm::config
