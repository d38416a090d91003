// Small pieces every responder in the bridge shares: hop-by-hop header
// names, and how a request is named in the log. (Reason phrases:
// reasonPhrase in connection.hpp.)
//
// All on the daemon's event loop thread.
#pragma once

#include <string>
#include <string_view>

namespace pyfpm::http {

// Hop-by-hop headers (RFC 9110 §7.6.1: Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade): the bridge
// frames its own responses, so an application's copy is dropped.
bool isHopByHopHeader(std::string_view name);

// "GET /path?query" for log lines, the URI cut to a bounded length and
// control bytes escaped so one request stays one log line.
std::string describeRequest(std::string_view method, std::string_view uri);

}  // namespace pyfpm::http
