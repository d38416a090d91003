#include "fcgi/cgi_response.hpp"

#include <algorithm>
#include <charconv>

namespace pyfpm::fcgi {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        return lower(x) == lower(y);
    });
}

// RFC 9110 §5.6.2 token characters.
bool isTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Error messages quote what the worker sent, bounded, so a log line stays a line.
std::string quote(std::string_view s) {
    constexpr std::size_t kMax = 80;
    std::string out = "\"";
    for (char c : s.substr(0, kMax)) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
            out += hex[static_cast<unsigned char>(c) & 0xf];
        } else {
            out += c;
        }
    }
    out += s.size() > kMax ? "\"..." : "\"";
    return out;
}

// "bare CR (0x0d)", "NUL (0x00)", "0x1b": what the error names.
std::string controlName(unsigned char byte) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string code = "0x";
    code += hex[byte >> 4];
    code += hex[byte & 0xf];
    switch (byte) {
    case '\r': return "bare CR (" + code + ")";
    case '\0': return "NUL (" + code + ")";
    case 0x7f: return "DEL (" + code + ")";
    default: return code;
    }
}

}  // namespace

const std::string* ResponseHead::find(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return &value;
    }
    return nullptr;
}

CgiResponseParser::CgiResponseParser(std::size_t maxHeaderBytes)
    : max_header_bytes_(maxHeaderBytes) {}

CgiResponseParser::Status CgiResponseParser::fail(std::string why) {
    error_ = std::move(why);
    status_ = Status::Error;
    return status_;
}

CgiResponseParser::Status CgiResponseParser::feed(std::string_view bytes,
                                                  std::string_view& bodyStart) {
    bodyStart = {};
    if (status_ != Status::NeedMore) return status_;

    while (!bytes.empty()) {
        const std::size_t nl = bytes.find('\n');
        const std::size_t take = nl == std::string_view::npos ? bytes.size() : nl + 1;
        consumed_ += take;
        if (consumed_ > max_header_bytes_) {
            return fail("CGI header block longer than " + std::to_string(max_header_bytes_) +
                        " bytes");
        }
        if (nl == std::string_view::npos) {
            pending_.append(bytes);
            return status_;
        }

        std::string_view line;
        if (pending_.empty()) {
            line = bytes.substr(0, nl);
        } else {
            pending_.append(bytes.substr(0, nl));
            line = pending_;
        }
        bytes.remove_prefix(take);
        // RFC 3875 §6.2 says CRLF... but real scripts write bare LF; accept
        // both, as nginx and Apache do.
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

        if (line.empty()) {
            // RFC 3875 §6.2.3: a Location without Status is a redirect.
            if (!saw_status_ && head_.find("Location") != nullptr) {
                head_.status = 302;
                head_.reason = "Found";
            }
            pending_.clear();
            bodyStart = bytes;
            status_ = Status::Done;
            return status_;
        }
        const bool ok = parseLine(line);
        pending_.clear();
        if (!ok) return status_;
    }
    return status_;
}

CgiResponseParser::Status CgiResponseParser::finish() {
    if (status_ == Status::NeedMore) {
        return fail("FCGI_STDOUT ended before the blank line that ends the CGI header block");
    }
    return status_;
}

bool CgiResponseParser::parseLine(std::string_view line) {
    // RFC 9112 §5.2: obs-fold may be rejected or replaced; a proxy that
    // joined the lines would pass on whatever the worker put after the fold.
    if (line.front() == ' ' || line.front() == '\t') {
        fail("folded header line (obsolete line folding) " + quote(line));
        return false;
    }
    // Header injection: the bridge writes the value into the client's
    // response, so no byte may end a line there or confuse a downstream
    // parser. RFC 9110 §5.5 allows VCHAR, SP, HT and obs-text in a value;
    // a name is a token (checked below), which excludes every control byte.
    for (const char c : line) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) continue;
        if (c == '\t') continue;
        fail(std::string("control character ") + controlName(byte) + " in header line " +
             quote(line));
        return false;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        fail("header line without a colon " + quote(line));
        return false;
    }
    const std::string_view name = line.substr(0, colon);
    if (name.empty() || !std::all_of(name.begin(), name.end(), isTokenChar)) {
        fail("invalid header name " + quote(name) + " (not an RFC 9110 §5.6.2 token)");
        return false;
    }
    const std::string_view value = trim(line.substr(colon + 1));

    if (!iequals(name, "Status")) {
        head_.headers.emplace_back(std::string(name), std::string(value));
        return true;
    }
    // RFC 3875 §6.3.3: Status: 3-digit code, SP, reason phrase.
    if (saw_status_) {
        fail("second Status header " + quote(line));
        return false;
    }
    int code = 0;
    const char* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, code);
    if (ec != std::errc{} || ptr - value.data() != 3 || code < 100 ||
        (ptr != end && *ptr != ' ')) {
        fail("invalid Status header " + quote(line));
        return false;
    }
    saw_status_ = true;
    head_.status = code;
    head_.reason = std::string(trim(std::string_view(ptr, static_cast<std::size_t>(end - ptr))));
    return true;
}

}  // namespace pyfpm::fcgi
