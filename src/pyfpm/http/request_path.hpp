// The request path as routing and static files see it: percent-decoded
// (RFC 3986 §2.1) and then normalised (RFC 3986 §5.2.4 dot segments, and
// repeated slashes merged as nginx's merge_slashes does).
//
// Decoding comes first, so "%2e%2e" and "%2f" cannot smuggle a ".." segment
// or a separator past normalisation: after this step a path never contains a
// "." or ".." segment, and a ".." that would climb above "/" is an error
// (nginx answers it 400 as well). Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace pyfpm::http {

enum class PathError {
    None,
    NotAbsolute,  // does not start with '/' (e.g. "*" of OPTIONS *)
    BadEscape,    // '%' not followed by two hex digits
    NulByte,      // "%00": no file name or CGI variable may hold it
    AboveRoot,    // a ".." segment above "/"
};

// "path does not start with '/'" etc., for logs and 400 bodies.
std::string toString(PathError error);

struct DecodedPath {
    std::string path;  // empty on error
    PathError error = PathError::None;
};

// `raw` is the path component of the request-target, without '?' and query.
// '+' stays '+' (it means space only in query strings). The result keeps a
// trailing slash when the raw path has one or ends in a dot segment
// ("/a/b/.." -> "/a/"), so "/static/" stays a directory path.
DecodedPath decodeRequestPath(std::string_view raw);

}  // namespace pyfpm::http
