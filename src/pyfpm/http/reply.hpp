// Small pieces every responder in the bridge shares: method names, plain-text
// answers of the bridge itself (400, 404, 405, 502, 503, 504), hop-by-hop
// header names, and how a request is named in the log.
//
// All on the daemon's event loop thread.
#pragma once

#include <event2/http.h>

#include <string>
#include <string_view>

namespace pyfpm::http {

// "GET", "POST", ... for evhttp's method enum; "UNKNOWN" otherwise.
std::string_view methodName(evhttp_cmd_type method);

// The request's HTTP version, e.g. {1, 1}. evhttp has no accessor for it;
// this is the one place that reads its struct.
struct HttpVersion {
    int major = 1;
    int minor = 1;
};
HttpVersion httpVersion(const evhttp_request* request);

// Answers `request` with `status` (RFC 9110 §15 reason phrase) and `body`
// as text/plain. Hands the request back to evhttp: the caller must not use
// it afterwards.
void sendPlainText(evhttp_request* request, int status, std::string_view body);

// Hop-by-hop headers (RFC 9110 §7.6.1: Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade): the bridge
// frames its own responses, so an application's copy is dropped.
bool isHopByHopHeader(std::string_view name);

// "GET /path?query" for log lines, the URI cut to a bounded length and
// control bytes escaped so one request stays one log line.
std::string describeRequest(std::string_view method, std::string_view uri);

}  // namespace pyfpm::http
