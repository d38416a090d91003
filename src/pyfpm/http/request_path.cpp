#include "src/pyfpm/http/request_path.hpp"

#include <vector>

namespace pyfpm::http {

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string toString(PathError error) {
    switch (error) {
    case PathError::None: return "no error";
    case PathError::NotAbsolute: return "path does not start with '/'";
    case PathError::BadEscape: return "invalid percent-escape in path";
    case PathError::NulByte: return "%00 in path";
    case PathError::AboveRoot: return "path climbs above '/'";
    }
    return "unknown path error";
}

DecodedPath decodeRequestPath(std::string_view raw) {
    DecodedPath result;
    if (raw.empty() || raw.front() != '/') {
        result.error = PathError::NotAbsolute;
        return result;
    }

    std::string decoded;
    decoded.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '%') {
            decoded += raw[i];
            continue;
        }
        if (i + 2 >= raw.size()) {
            result.error = PathError::BadEscape;
            return result;
        }
        const int high = hexValue(raw[i + 1]);
        const int low = hexValue(raw[i + 2]);
        if (high < 0 || low < 0) {
            result.error = PathError::BadEscape;
            return result;
        }
        const char c = static_cast<char>(high * 16 + low);
        if (c == '\0') {
            result.error = PathError::NulByte;
            return result;
        }
        decoded += c;
        i += 2;
    }

    // RFC 3986 §5.2.4 over the decoded segments; empty segments ("//") are
    // dropped like nginx's merge_slashes, so "//etc" cannot name a root.
    std::vector<std::string_view> segments;
    bool trailingSlash = false;
    std::string_view rest(decoded);
    rest.remove_prefix(1);
    while (true) {
        const std::size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        const bool last = slash == std::string_view::npos;
        if (segment == "..") {
            if (segments.empty()) {
                result.error = PathError::AboveRoot;
                return result;
            }
            segments.pop_back();
            trailingSlash = last;
        } else if (segment == "." || segment.empty()) {
            trailingSlash = last;
        } else {
            segments.push_back(segment);
            trailingSlash = false;
        }
        if (last) break;
        rest.remove_prefix(slash + 1);
    }

    std::string& out = result.path;
    out.reserve(decoded.size());
    for (const std::string_view segment : segments) {
        out += '/';
        out += segment;
    }
    if (out.empty() || trailingSlash) out += '/';
    return result;
}

}  // namespace pyfpm::http
