// The response of a CGI script run in-process (script_host.hpp): what the
// script writes to sys.stdout IS the CGI response (RFC 3875 §6: header
// lines, a blank line, the body) and goes out as FCGI_STDOUT (FastCGI 1.0
// §5.3) unchanged; the web server parses its head.
//
// The first kHoldBytes are held back in memory, so that a script that fails
// late (or exits with a non-zero status) can still be answered with a 500
// instead of half a page. Beyond that bound, or when the script flushes
// sys.stdout itself, what is held goes out and the rest streams as it is
// written; a later failure can then only cut the response short.
#pragma once

#include "src/worker/py_ref.hpp"

#include <fcgiapp.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace pyfpm::worker {

class CgiOutput {
public:
    static constexpr std::size_t kHoldBytes = std::size_t{1} << 20;

    // `out` is the request's FCGI_STDOUT stream, owned by the FCGX_Request.
    // With `nameWorker`, "X-Pyfpm-Worker: <pid>" is put in front of the
    // script's head (response_writer.hpp says why).
    CgiOutput(FCGX_Stream* out, bool nameWorker) : out_(out), nameWorker_(nameWorker) {}

    // True when write() of `size` more bytes only appends to memory (no
    // socket I/O, so the GIL may stay held).
    bool holds(std::size_t size) const { return !started_ && held_.size() + size <= kHoldBytes; }

    // Appends `data`; sends when !holds(data.size()). Returns false once a
    // write to the web server failed (everything after is discarded). May
    // block.
    bool write(std::string_view data);
    // Sends what is held and pushes it to the socket. May block.
    bool flush();
    // The script has ended normally: sends what is held. May block.
    bool finish();

    // True once bytes went to the web server: a failure can no longer
    // become a 500.
    bool started() const { return started_; }
    // True when the script wrote nothing at all.
    bool empty() const { return !started_ && held_.empty(); }
    bool broken() const { return broken_; }

private:
    bool put(std::string_view data);
    void start();

    FCGX_Stream* out_;
    bool nameWorker_;
    std::string held_;
    bool started_ = false;
    bool broken_ = false;
};

// The type of the object the script's sys.stdout.buffer writes through
// (created once per process, GIL held): write(bytes-like) -> int and
// flush(), on the CgiOutput of the request it is bound to
// (RequestContext::bind, RequestContext::cgiOutput). write raises
// BrokenPipeError once the web server has closed the connection, both raise
// ValueError once the request has ended. Returns nullptr with an exception
// set on failure.
PyTypeObject* createCgiStdoutType();

}  // namespace pyfpm::worker
