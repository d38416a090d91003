// The FastCGI params (CGI/1.1 meta-variables, RFC 3875 §4.1) that the bridge
// sends with FCGI_PARAMS for one HTTP request: nginx's fastcgi_params set,
// plus SCRIPT_NAME, PATH_INFO, SCRIPT_FILENAME and every request header as
// HTTP_*. Pure: a description in, name-value pairs out; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fcgi/name_value.hpp"

namespace pyfpm::http {

struct RequestDescription {
    std::string method;         // "GET"
    std::string requestUri;     // REQUEST_URI: the request-target as received
                                // (origin-form, undecoded, with the query)
    std::string query;          // QUERY_STRING: undecoded, without '?'
    std::string documentUri;    // DOCUMENT_URI: decoded, normalised path
    std::string scriptName;     // SCRIPT_NAME: route prefix without trailing '/'
    std::string pathInfo;       // PATH_INFO: the rest of documentUri
    // DOCUMENT_ROOT. For a pool route the pool's working_dir: the folder the
    // application runs in, which is what nginx's `root` names in a
    // fastcgi_pass location. SCRIPT_FILENAME is DOCUMENT_ROOT + SCRIPT_NAME,
    // nginx's `$document_root$fastcgi_script_name`: a WSGI app (PEP 3333)
    // ignores it; it is there so an environ looks the same behind pyfpm's
    // bridge and behind nginx.
    std::string documentRoot;
    // SCRIPT_FILENAME when set (a scripts pool: the file below its root);
    // empty: documentRoot + scriptName.
    std::string scriptFilename;
    std::string serverProtocol = "HTTP/1.1";
    bool https = false;         // REQUEST_SCHEME https and HTTPS=on
    std::string serverSoftware; // "pyfpm/0.1.0"
    std::string remoteAddr;
    std::uint16_t remotePort = 0;
    std::string serverAddr;
    std::uint16_t serverPort = 0;
    // CONTENT_LENGTH: the body's length in bytes when the request has one
    // (its Content-Length, or the size of a chunked body once spooled);
    // empty when absent, as nginx sends it.
    std::optional<std::size_t> contentLength;
    // Request headers in arrival order, names as the client wrote them.
    std::vector<std::pair<std::string, std::string>> headers;
};

// The params, in a stable order (the fixed variables first, then HTTP_* in
// first-arrival order). Header rules, as nginx applies them by default:
//  * the name is uppercased with '-' turned into '_' and prefixed HTTP_;
//  * names with characters other than letters, digits and '-' are dropped
//    (nginx's ignore_invalid_headers, underscores_in_headers off), so
//    "X_Forwarded_For" cannot spoof HTTP_X_FORWARDED_FOR;
//  * Proxy is dropped: HTTP_PROXY would become the app's proxy setting
//    (httpoxy, CVE-2016-5385);
//  * Content-Type and Content-Length become CONTENT_TYPE / CONTENT_LENGTH;
//    Transfer-Encoding is dropped because the body always arrives with a
//    CONTENT_LENGTH (a chunked one is spooled first);
//  * repeated headers are joined in order with ", " (RFC 9110 §5.3), Cookie
//    with "; " (RFC 6265 §5.4).
// SERVER_NAME is the Host header's host (lowercased, without port), else
// serverAddr: the bridge has no server_name of its own.
fcgi::NameValuePairs buildCgiParams(const RequestDescription& request);

// "HTTP_ACCEPT_LANGUAGE" for "Accept-Language"; "" for a name that is
// dropped by the rules above.
std::string cgiHeaderName(std::string_view headerName);

}  // namespace pyfpm::http
