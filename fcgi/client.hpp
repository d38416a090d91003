// The client side of one FastCGI 1.0 responder request (§5, §6.2), as nginx or
// pyfpm's HTTP bridge plays it: encodes FCGI_BEGIN_REQUEST, FCGI_PARAMS and
// FCGI_STDIN, and turns the application's FCGI_STDOUT, FCGI_STDERR and
// FCGI_END_REQUEST records into events, with the CGI response head parsed.
//
// No I/O: the caller moves bytes. Not thread-safe; one object per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fcgi/cgi_response.hpp"
#include "fcgi/name_value.hpp"
#include "fcgi/parser.hpp"
#include "fcgi/record.hpp"

namespace pyfpm::fcgi {

// Accumulates FCGI_PARAMS pairs and emits them as one stream. Pairs may be
// split across records (§3.4 allows it; libfcgi reassembles).
class ParamsBuilder {
public:
    void add(std::string_view name, std::string_view value);
    // Appends the pairs as FCGI_PARAMS records and the empty record that ends
    // the stream.
    void appendTo(std::string& out, std::uint16_t requestId) const;
    const std::string& encoded() const { return encoded_; }
    void clear() { encoded_.clear(); }

private:
    std::string encoded_;
};

struct ClientEvent {
    enum class Type {
        NeedMore,  // feed more bytes
        Head,      // the response head is complete: see ClientRequest::head()
        Body,      // `data`: response body bytes, in order
        Stderr,    // `data`: FCGI_STDERR bytes
        End,       // FCGI_END_REQUEST: `end`; next() repeats it from now on
        Error,     // `error` says why; next() repeats it from now on
    };
    Type type = Type::NeedMore;
    // Body/Stderr bytes; valid until the next feed() or next().
    std::string_view data;
    EndRequestBody end;
    std::string error;
};

class ClientRequest {
public:
    // `flags` is 0 or kKeepConn. `maxHeaderBytes` bounds the CGI head.
    explicit ClientRequest(std::uint16_t requestId = 1, std::uint8_t flags = 0,
                           std::size_t maxHeaderBytes = 64 * 1024);

    std::uint16_t requestId() const { return request_id_; }

    // --- client → application -------------------------------------------
    // FCGI_BEGIN_REQUEST, role FCGI_RESPONDER (§5.1).
    void appendBegin(std::string& out) const;
    // The whole FCGI_PARAMS stream, ended (§5.2).
    void appendParams(std::string& out, const ParamsBuilder& params) const;
    // FCGI_STDIN data (§5.3); may be called repeatedly as the body arrives.
    void appendStdin(std::string& out, std::string_view data) const;
    // The empty FCGI_STDIN record that ends the body.
    void appendStdinEnd(std::string& out) const;
    // FCGI_ABORT_REQUEST (§5.4). Note that libfcgi ignores it while a request
    // runs; closing the connection is the abort that works.
    void appendAbort(std::string& out) const;

    // --- application → client -------------------------------------------
    void feed(std::string_view bytes);
    // The next event. Errors: a malformed record stream, a record for another
    // requestId, a record type an application must not send, FCGI_STDOUT after
    // its end, a bad CGI head, FCGI_END_REQUEST before a complete head, or a
    // protocolStatus other than FCGI_REQUEST_COMPLETE.
    ClientEvent next();
    // The connection reached end of file: End again if End was returned,
    // otherwise Error ("connection closed before FCGI_END_REQUEST").
    ClientEvent eof();

    bool headComplete() const { return head_done_; }
    bool finished() const { return finished_; }
    // Valid once a Head event was returned.
    const ResponseHead& head() const { return cgi_.head(); }

private:
    ClientEvent fail(std::string why);

    std::uint16_t request_id_;
    std::uint8_t flags_;
    RecordParser parser_;
    CgiResponseParser cgi_;
    std::string_view pending_body_;  // body bytes that followed the head
    std::string pending_owned_;      // pending_body_'s copy across feed()
    ClientEvent terminal_;           // End or Error, repeated once finished
    bool head_done_ = false;
    bool stdout_closed_ = false;
    bool finished_ = false;          // End or Error returned
};

}  // namespace pyfpm::fcgi
