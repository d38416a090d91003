// The response head a WSGI application gives start_response (PEP 3333,
// "The start_response() Callable"), checked and written as the header block
// of a CGI response (RFC 3875 §6.2, §6.3.3): "Status: 200 OK\r\n", the
// application's headers in order (repeated names kept), "\r\n".
//
// Everything here works on latin-1 bytes: the WSGI layer encodes each str
// with latin-1 first (PEP 3333, "Unicode Issues") and reports the ones
// that do not encode.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace pyfpm::worker {

// "" when `status` is "NNN Reason-Phrase" (RFC 9110 §15: three digits,
// 100-999, one space, a phrase of visible characters, spaces or tabs; the
// phrase may be empty); otherwise what is wrong.
std::string checkStatus(std::string_view status);

// "" when `name` is an RFC 9110 §5.1 token and not "Status", which the CGI
// head reserves for the status line; otherwise what is wrong.
std::string checkHeaderName(std::string_view name);

// "" when `value` holds no control character but horizontal tab (so no CR
// or LF can split the head); otherwise what is wrong.
std::string checkHeaderValue(std::string_view value);

struct ResponseHead {
    std::string block;                          // the CGI header block, ending "\r\n\r\n"
    std::optional<std::uint64_t> contentLength; // the application's Content-Length, if valid
};

// Builds a ResponseHead from checked parts.
class ResponseHeadBuilder {
public:
    // `status` must have passed checkStatus.
    explicit ResponseHeadBuilder(std::string_view status);
    // `name` and `value` must have passed their checks.
    void add(std::string_view name, std::string_view value);
    ResponseHead finish() &&;

private:
    void append(std::initializer_list<std::string_view> pieces);

    // The block while it fits here (most heads do: no allocation until
    // finish()), then in overflow_.
    std::array<char, 512> buffer_;
    std::size_t used_ = 0;
    std::string overflow_;
    std::optional<std::uint64_t> contentLength_;
};

}  // namespace pyfpm::worker
