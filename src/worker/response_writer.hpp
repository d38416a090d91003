// Writes a WSGI response to FCGI_STDOUT (FastCGI 1.0 §5.3) as a CGI
// response (RFC 3875 §6): the head at the first non-empty body chunk (or at
// the end), then the body as the application produces it (PEP 3333,
// "Buffering and Streaming").
#pragma once

#include <fcgiapp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "src/worker/response_head.hpp"

namespace pyfpm::worker {

// Writes all of `data` to `out` unless `broken` is set; sets it when the
// web server stops taking bytes (it closed the connection). Returns
// !broken. Shared by every writer of FCGI_STDOUT.
bool putAll(FCGX_Stream* out, std::string_view data, bool& broken);

class ResponseWriter {
public:
    // `out` is the request's FCGI_STDOUT stream, owned by the FCGX_Request.
    explicit ResponseWriter(FCGX_Stream* out) : out_(out) {}

    bool hasHead() const { return head_.has_value(); }
    bool headSent() const { return headSent_; }
    // True once a write to the web server failed (it closed the
    // connection); everything after is discarded.
    bool broken() const { return broken_; }
    // True once sendInternalError has answered.
    bool answeredInternalError() const { return answeredInternalError_; }

    // Adds "X-Pyfpm-Worker: <this pid>" to the head when it goes out: the
    // daemon's bridge asks for it (FastCGI param PYFPM_WORKER_HEADER) to log
    // which worker served, then strips it. nginx never asks.
    void nameWorker() { nameWorker_ = true; }

    // Sets the head, or replaces one not yet sent (start_response with
    // exc_info).
    void setHead(ResponseHead head);

    // Sends the head if it is not out yet, then `data`, cut short at the
    // application's Content-Length (PEP 3333, "Handling the Content-Length
    // Header"). With `flush`, pushes it to the socket now. Requires
    // hasHead(). Returns false if the connection broke. May block.
    bool write(std::string_view data, bool flush);

    // Sends the head if it is not out yet (an empty body). Requires
    // hasHead().
    bool finish();

    // True when write(data, false) with `size` bytes of data would only
    // copy into libfcgi's output buffer (FCGX_PutStr's fast path) and so
    // cannot block on the socket: the caller need not release the GIL.
    // Requires hasHead().
    bool buffers(std::size_t size) const;

    // Answers "500 Internal Server Error" with a short text body instead of
    // whatever head was set. Requires !headSent().
    void sendInternalError();

private:
    bool put(std::string_view data);
    void putWorkerHeader();

    FCGX_Stream* out_;
    std::optional<ResponseHead> head_;
    bool headSent_ = false;
    bool broken_ = false;
    bool answeredInternalError_ = false;
    bool nameWorker_ = false;
    std::uint64_t bodyBytes_ = 0;
};

}  // namespace pyfpm::worker
