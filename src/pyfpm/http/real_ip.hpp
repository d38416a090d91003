// The client's address and scheme behind trusted reverse proxies
// (http.trusted_proxies in pyfpm.yaml(5)): nginx's realip module with
// `real_ip_header X-Forwarded-For` and `real_ip_recursive on`, plus
// X-Forwarded-Proto for HTTPS. Pure and thread-safe.
//
// The headers are believed only when the connection's peer lies in one of
// the trusted ranges; anyone else could write them. Then X-Forwarded-For
// is walked from right to left (each proxy appends the address it saw),
// skipping addresses that are themselves trusted: the first untrusted one
// is the client. If every address is trusted, the leftmost is the client.
// An entry that is not an address (a name, "unknown", garbage) stops the
// walk and the peer stays the client, as nginx does: what lies left of it
// was written by someone we cannot vouch for. Entries are an IPv4 or IPv6
// address, optionally in brackets ("[::1]") and with a port ("10.0.0.1:80",
// "[::1]:443", as some load balancers write them); the port is dropped.
// Empty list elements are skipped (RFC 9110 §5.6.1).
//
// X-Forwarded-Proto from a trusted peer: its last element (the nearest
// proxy's, when proxies append) "https" turns HTTPS on, "http" off,
// compared case-insensitively; anything else, or no header, leaves the
// connection's own scheme.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "src/pyfpm/config/cidr.hpp"

namespace pyfpm::http {

struct RealClient {
    // REMOTE_ADDR: the peer as given, or the chosen X-Forwarded-For address
    // in its canonical text form (inet_ntop: "2001:db8::1", no brackets).
    std::string address;
    bool https = false;  // HTTPS=on for the application
    // Whether the headers were believed (the peer is trusted); for logs.
    bool fromProxy = false;
};

// `peer`: the connection's remote address as text ("127.0.0.1", "::1";
// brackets allowed). `forwardedFor` / `forwardedProto`: the header values,
// repeated fields joined with ", " (RFC 9110 §5.3), "" when absent.
// `trusted`: http.trusted_proxies. `connectionHttps`: the listener's own
// scheme.
RealClient resolveRealClient(std::string_view peer, std::string_view forwardedFor,
                             std::string_view forwardedProto,
                             std::span<const config::Cidr> trusted, bool connectionHttps);

}  // namespace pyfpm::http
