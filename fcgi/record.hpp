// FastCGI 1.0 records: header and fixed-body encoding, stream splitting.
// Pure byte manipulation: no sockets, no event loop, no allocation beyond the
// caller's output string. Thread-safe (no shared state).
//
// Byte buffers are std::string (bytes, not text) so they append cheaply and
// hand over to evbuffer or write(2) without copies.
#pragma once

#include <fastcgi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pyfpm::fcgi {

// FastCGI 1.0 §8, the `type` byte. Values above UnknownType are legal on the
// wire (§4.2: management records of types the peer does not know).
enum class RecordType : std::uint8_t {
    BeginRequest = FCGI_BEGIN_REQUEST,
    AbortRequest = FCGI_ABORT_REQUEST,
    EndRequest = FCGI_END_REQUEST,
    Params = FCGI_PARAMS,
    Stdin = FCGI_STDIN,
    Stdout = FCGI_STDOUT,
    Stderr = FCGI_STDERR,
    Data = FCGI_DATA,
    GetValues = FCGI_GET_VALUES,
    GetValuesResult = FCGI_GET_VALUES_RESULT,
    UnknownType = FCGI_UNKNOWN_TYPE,
};

// "FCGI_STDOUT" etc., or "type 42" for a type outside the spec.
std::string toString(RecordType type);

// FastCGI 1.0 §5.1, FCGI_BeginRequestBody.role.
enum class Role : std::uint16_t {
    Responder = FCGI_RESPONDER,
    Authorizer = FCGI_AUTHORIZER,
    Filter = FCGI_FILTER,
};

// FastCGI 1.0 §5.5, FCGI_EndRequestBody.protocolStatus.
enum class ProtocolStatus : std::uint8_t {
    RequestComplete = FCGI_REQUEST_COMPLETE,
    CantMpxConn = FCGI_CANT_MPX_CONN,
    Overloaded = FCGI_OVERLOADED,
    UnknownRole = FCGI_UNKNOWN_ROLE,
};

std::string toString(ProtocolStatus status);

inline constexpr std::size_t kHeaderLength = FCGI_HEADER_LEN;        // bytes
inline constexpr std::size_t kMaxContentLength = FCGI_MAX_LENGTH;    // bytes
inline constexpr std::uint8_t kVersion1 = FCGI_VERSION_1;
inline constexpr std::uint16_t kNullRequestId = FCGI_NULL_REQUEST_ID;
inline constexpr std::uint8_t kKeepConn = FCGI_KEEP_CONN;            // flags bit

// FastCGI 1.0 §3.3, FCGI_Header, decoded.
struct RecordHeader {
    std::uint8_t version = kVersion1;
    RecordType type = RecordType::Stdout;
    std::uint16_t requestId = 0;
    std::uint16_t contentLength = 0;  // bytes, 0..65535
    std::uint8_t paddingLength = 0;   // bytes, 0..255
    std::uint8_t reserved = 0;

    friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

// Encodes `header` into exactly kHeaderLength bytes at `out`.
void encodeHeader(const RecordHeader& header, unsigned char* out);
// Decodes kHeaderLength bytes at `in`. Never fails: validation is the
// parser's job (parser.hpp), since every byte pattern is a well-formed header.
RecordHeader decodeHeader(const unsigned char* in);

// Padding that brings `contentLength` to a multiple of 8 (§3.3 recommends
// aligned records; nginx and libfcgi pad the same way).
constexpr std::uint8_t paddingFor(std::size_t contentLength) {
    return static_cast<std::uint8_t>((8 - contentLength % 8) % 8);
}

// Appends one record: header, `content`, zero padding to 8 bytes.
// Precondition: content.size() <= kMaxContentLength (asserted; use
// appendStream for longer data).
void appendRecord(std::string& out, RecordType type, std::uint16_t requestId,
                  std::string_view content);

// Appends `data` as stream records of `type` (§3.3 "stream records"), split
// into records of at most kMaxContentLength bytes. Empty `data` appends
// nothing: the empty record ends a stream, see appendStreamEnd.
void appendStream(std::string& out, RecordType type, std::uint16_t requestId,
                  std::string_view data);

// Appends the empty record that ends a stream (§3.3).
void appendStreamEnd(std::string& out, RecordType type, std::uint16_t requestId);

// FastCGI 1.0 §5.1: FCGI_BEGIN_REQUEST with an FCGI_BeginRequestBody.
// `flags` is 0 or kKeepConn.
void appendBeginRequest(std::string& out, std::uint16_t requestId, Role role,
                        std::uint8_t flags);

// FastCGI 1.0 §5.4: FCGI_ABORT_REQUEST, empty body.
void appendAbortRequest(std::string& out, std::uint16_t requestId);

// FastCGI 1.0 §5.5: FCGI_END_REQUEST with an FCGI_EndRequestBody.
void appendEndRequest(std::string& out, std::uint16_t requestId, std::uint32_t appStatus,
                      ProtocolStatus protocolStatus);

// FastCGI 1.0 §4.2: FCGI_UNKNOWN_TYPE (requestId 0) naming `unknownType`.
void appendUnknownType(std::string& out, std::uint8_t unknownType);

// Fixed-size bodies (§5.1, §5.5, §4.2). Each decoder reports false when
// `content` is not exactly 8 bytes long.
struct BeginRequestBody {
    Role role = Role::Responder;
    std::uint8_t flags = 0;
};
struct EndRequestBody {
    std::uint32_t appStatus = 0;
    ProtocolStatus protocolStatus = ProtocolStatus::RequestComplete;
};
bool decodeBeginRequestBody(std::string_view content, BeginRequestBody& out);
bool decodeEndRequestBody(std::string_view content, EndRequestBody& out);
bool decodeUnknownTypeBody(std::string_view content, std::uint8_t& type);

}  // namespace pyfpm::fcgi
