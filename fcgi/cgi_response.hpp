// The CGI response header block that a responder writes at the start of
// FCGI_STDOUT (RFC 3875 §6.2, §6.3; FastCGI 1.0 §6.2). Incremental: the block
// may arrive split across any number of records.
//
// Not thread-safe; one parser per response.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyfpm::fcgi {

struct ResponseHead {
    // From `Status: 404 Not Found` (RFC 3875 §6.3.3); 302 when the block has a
    // `Location:` and no `Status:` (§6.2.3, as nginx does); 200 otherwise.
    int status = 200;
    std::string reason;  // the Status line's reason phrase; may be empty
    // Every other header, in order, repeated ones (two Set-Cookie) kept
    // apart, names as the application wrote them, values without the
    // surrounding whitespace.
    std::vector<std::pair<std::string, std::string>> headers;

    // First value of `name` (ASCII case-insensitive), or nullptr.
    const std::string* find(std::string_view name) const;
};

class CgiResponseParser {
public:
    enum class Status { NeedMore, Done, Error };

    // `maxHeaderBytes` bounds the block (bytes) so a worker that never ends
    // its headers cannot make the client buffer without limit.
    explicit CgiResponseParser(std::size_t maxHeaderBytes = 64 * 1024);

    // Feeds FCGI_STDOUT bytes. On Done, `bodyStart` is the part of `bytes`
    // after the blank line (possibly empty) and later bytes are body; call
    // feed() no more. Error is sticky; error() says why.
    //
    // Lines end in LF or CRLF. A header the bridge would copy into the
    // client's response is an Error rather than passed on (header
    // injection; the bridge answers 502): a CR anywhere but before the
    // line's LF, a NUL or any other control byte (DEL included) except HT,
    // a name that is not an RFC 9110 §5.6.2 token, a line without a colon,
    // and obsolete line folding (a line starting with SP or HT; RFC 9112
    // §5.2 allows rejecting it). Bytes 0x80-0xff (obs-text) are allowed in
    // values. The error text names the offending byte and quotes the line.
    Status feed(std::string_view bytes, std::string_view& bodyStart);

    // Call when FCGI_STDOUT ended before Done: always an error ("missing blank
    // line after the header block"), recorded in error().
    Status finish();

    const ResponseHead& head() const { return head_; }
    const std::string& error() const { return error_; }

private:
    Status fail(std::string why);
    bool parseLine(std::string_view line);

    std::size_t max_header_bytes_;
    std::string pending_;    // an unfinished line
    std::size_t consumed_ = 0;  // header bytes seen so far
    bool saw_status_ = false;
    ResponseHead head_;
    std::string error_;
    Status status_ = Status::NeedMore;
};

}  // namespace pyfpm::fcgi
