// What to answer for a static file, decided from the request's method and
// conditional headers and the file's stat facts: the status, the response
// headers and the bytes of the file to send. Pure and thread-safe; no I/O,
// no libevent. The caller opens the file (static_files.hpp), picks the
// Content-Type from the original name (never from FILE.gz), and writes.
//
// Rules (RFC 9110; nginx's static, not_modified, range and gzip_static
// modules where the RFC leaves a choice):
//
// * Methods other than GET and HEAD: 405 with `Allow: GET, HEAD`.
// * Validators: a strong ETag as nginx makes it, "<mtime hex>-<size hex>"
//   in quotes (`"5f1c2e00-1a2b"`), and Last-Modified (formatHttpDate). A
//   gzip sibling is its own representation, so its facts give both.
// * Preconditions in the order of RFC 9110 §13.2.2: If-Match (strong
//   comparison) else If-Unmodified-Since (mtime after the date) → 412;
//   If-None-Match (weak comparison, `*` matches) → 304, and when it is
//   present If-Modified-Since is not looked at; else If-Modified-Since →
//   304 when the file's mtime (whole seconds) is at or before the date.
//   A date that does not parse is ignored (§13.1.3, §13.1.4).
// * Range (§14), GET only; a HEAD ignores it (§14.2: range handling is
//   defined for GET alone). One `bytes=` range (`a-b`, `a-`, `-n`) → 206
//   with Content-Range `bytes a-b/size`. No satisfiable range (every first
//   position at or past the size, or suffix length 0) → 416 with
//   Content-Range `bytes */size`. A syntactically invalid Range, or a unit
//   other than bytes, is ignored: 200 with the whole file. Several ranges:
//   when the satisfiable ones overlap or touch so that they form one span,
//   206 with that span; otherwise 200 with the whole file. nginx answers
//   the latter with multipart/byteranges; we do not, deliberately: a client
//   must accept a 200 in its place (§14.2), multipart responses are rare in
//   practice and a classic amplification vector. An empty file is always a
//   200 (no range of it can be written in a Content-Range). If-Range whose
//   entity tag (strong comparison) or date (exact, whole seconds) does not
//   match the file → the Range is ignored (§13.1.5).
// * 200/206 carry ETag, Last-Modified, Accept-Ranges: bytes,
//   Content-Length, Content-Encoding: gzip for the sibling, Vary:
//   Accept-Encoding when asked for, Cache-Control when the route sets one.
//   304 carries ETag, Last-Modified, Vary and Cache-Control only, no
//   Content-Length (§15.4.5). 412 and 416 carry no validators; 416 carries
//   Content-Range. For 405, 412 and 416 the caller writes its short error
//   body and its Content-Length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyfpm::http {

// The request as far as a static file cares. Header values are as
// received; repeated fields joined with ", " (RFC 9110 §5.3); nullopt when
// the header is absent.
struct StaticRequest {
    std::string_view method;  // "GET", "HEAD", anything else is a 405
    std::optional<std::string_view> ifMatch;
    std::optional<std::string_view> ifNoneMatch;
    std::optional<std::string_view> ifModifiedSince;
    std::optional<std::string_view> ifUnmodifiedSince;
    std::optional<std::string_view> ifRange;
    std::optional<std::string_view> range;
};

// The file that will be sent: FILE, or FILE.gz when the route's
// gzip_static picked the sibling (fstat of the opened descriptor).
struct StaticRepresentation {
    std::uint64_t size = 0;    // bytes (st_size)
    std::int64_t mtime = 0;    // seconds since the epoch (st_mtim.tv_sec)
    bool gzip = false;         // FILE.gz is sent: Content-Encoding: gzip
    // Vary: Accept-Encoding. Always sent with `gzip`; a caller that knows a
    // sibling exists but the client did not accept it should set it too, so
    // that a cache does not hand that identity answer to everyone.
    bool varyAcceptEncoding = false;
    std::string_view cacheControl;  // the route's cache_control; "" = none
};

// A span of the file: `length` bytes from byte `offset`.
struct ByteSpan {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    friend bool operator==(const ByteSpan&, const ByteSpan&) = default;
};

struct StaticAnswer {
    int status = 200;  // 200, 206, 304, 405, 412 or 416
    // In this order; names in their usual spelling. No Content-Type, no
    // Date: the caller adds them.
    std::vector<std::pair<std::string, std::string>> headers;
    // The bytes of the file to write: set for a GET answered 200 (the whole
    // file, possibly 0 bytes) or 206; nullopt for HEAD and every other
    // status.
    std::optional<ByteSpan> body;

    // The first value of `name` (ASCII case-insensitive), or nullptr.
    const std::string* header(std::string_view name) const;
};

StaticAnswer decideStaticAnswer(const StaticRequest& request, const StaticRepresentation& file);

// nginx's ETag, quotes included: "\"<mtime hex>-<size hex>\"", lower case.
std::string makeEtag(std::int64_t mtime, std::uint64_t size);

// RFC 9110 §5.6.7 HTTP-date in any of its three forms, to seconds since the
// epoch: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850
// form ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6
// 08:49:37 1994"). Case-sensitive, as the grammar is; no leading or
// trailing text. The day name is checked for spelling, not against the
// date. A two-digit RFC 850 year 70-99 is 19xx, 00-69 is 20xx (a fixed
// pivot, as nginx has, instead of the "50 years ahead" rule, which would
// make the result depend on the clock). nullopt when it does not parse or
// names an impossible date (31 Feb, hour 24).
std::optional<std::int64_t> parseHttpDate(std::string_view text);

// Whether to send the gzip sibling, from the Accept-Encoding value ("" when
// the header is absent: nginx's choice, though RFC 9110 §12.5.3 would allow
// any coding then). RFC 9110 §12.5.3 with q-values (§12.4.2): `gzip` or its
// alias `x-gzip` with q > 0 accepts; `gzip;q=0` refuses even when `*` is
// present; without a gzip entry, `*` with q > 0 accepts. Identity: when the
// client rates `identity` (or, lacking that, `*`) strictly above gzip
// ("gzip;q=0.5, identity"), it prefers the plain file and gets it. Names
// compare case-insensitively; a malformed q-value counts as q=0 for that
// entry.
bool acceptsGzip(std::string_view acceptEncoding);

// The Location of the 301 that sends a directory path without its slash to
// the path with it (nginx does this): `decodedPath` (request_path.hpp) +
// "/" percent-encoded where RFC 3986 §3.3 does not allow the byte in a
// path, then "?" + `query` when the query is not empty (passed through as
// received). A backslash is encoded too, so no browser can read the result
// as a protocol-relative "//host" location.
std::string directoryRedirectLocation(std::string_view decodedPath, std::string_view query);

}  // namespace pyfpm::http
