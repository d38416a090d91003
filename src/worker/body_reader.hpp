// The request body as PEP 3333's wsgi.input needs it: FCGI_STDIN
// (FastCGI 1.0 §5.3) read through libfcgi, never past CONTENT_LENGTH
// (RFC 3875 §4.1.2), with a buffer for readline().
#pragma once

#include <fcgiapp.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace pyfpm::worker {

class BodyReader {
public:
    // `in` is the request's FCGI_STDIN stream, owned by the FCGX_Request;
    // `contentLength` is CONTENT_LENGTH in bytes (0 when absent or
    // invalid). Reads may block on the socket.
    BodyReader(FCGX_Stream* in, std::uint64_t contentLength);

    // Bytes the application may still read: CONTENT_LENGTH minus what it
    // has read (fewer may arrive if the client gave up).
    std::uint64_t available() const { return buffered() + unread_; }

    // Copies up to `size` bytes into `out`; returns how many (0 = end of
    // the body). Fewer than `size` only at the end of the body.
    std::size_t read(char* out, std::size_t size);

    // Appends one line, including its '\n', to `line`: at most `limit`
    // bytes, fewer at the end of the body. Returns the number appended.
    std::size_t readLine(std::string& line, std::size_t limit);

private:
    std::size_t buffered() const { return buffer_.size() - position_; }
    // Reads up to `want` more bytes (bounded by CONTENT_LENGTH) into the
    // buffer; returns how many arrived.
    std::size_t fill(std::size_t want);
    std::size_t pull(char* out, std::size_t size);

    FCGX_Stream* in_;
    std::uint64_t unread_;  // CONTENT_LENGTH bytes not yet taken from `in_`
    bool ended_ = false;    // FCGI_STDIN ended (or broke) early
    std::string buffer_;
    std::size_t position_ = 0;
};

// CONTENT_LENGTH as RFC 3875 §4.1.2 writes it (1*digit); 0 when absent,
// empty or malformed.
std::uint64_t parseContentLength(const char* value);

}  // namespace pyfpm::worker
