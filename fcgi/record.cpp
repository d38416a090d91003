#include "fcgi/record.hpp"

#include <cassert>

namespace pyfpm::fcgi {

std::string toString(RecordType type) {
    switch (type) {
    case RecordType::BeginRequest: return "FCGI_BEGIN_REQUEST";
    case RecordType::AbortRequest: return "FCGI_ABORT_REQUEST";
    case RecordType::EndRequest: return "FCGI_END_REQUEST";
    case RecordType::Params: return "FCGI_PARAMS";
    case RecordType::Stdin: return "FCGI_STDIN";
    case RecordType::Stdout: return "FCGI_STDOUT";
    case RecordType::Stderr: return "FCGI_STDERR";
    case RecordType::Data: return "FCGI_DATA";
    case RecordType::GetValues: return "FCGI_GET_VALUES";
    case RecordType::GetValuesResult: return "FCGI_GET_VALUES_RESULT";
    case RecordType::UnknownType: return "FCGI_UNKNOWN_TYPE";
    }
    return "type " + std::to_string(static_cast<unsigned>(type));
}

std::string toString(ProtocolStatus status) {
    switch (status) {
    case ProtocolStatus::RequestComplete: return "FCGI_REQUEST_COMPLETE";
    case ProtocolStatus::CantMpxConn: return "FCGI_CANT_MPX_CONN";
    case ProtocolStatus::Overloaded: return "FCGI_OVERLOADED";
    case ProtocolStatus::UnknownRole: return "FCGI_UNKNOWN_ROLE";
    }
    return "protocolStatus " + std::to_string(static_cast<unsigned>(status));
}

void encodeHeader(const RecordHeader& header, unsigned char* out) {
    out[0] = header.version;
    out[1] = static_cast<unsigned char>(header.type);
    out[2] = static_cast<unsigned char>(header.requestId >> 8);
    out[3] = static_cast<unsigned char>(header.requestId & 0xff);
    out[4] = static_cast<unsigned char>(header.contentLength >> 8);
    out[5] = static_cast<unsigned char>(header.contentLength & 0xff);
    out[6] = header.paddingLength;
    out[7] = header.reserved;
}

RecordHeader decodeHeader(const unsigned char* in) {
    RecordHeader header;
    header.version = in[0];
    header.type = static_cast<RecordType>(in[1]);
    header.requestId = static_cast<std::uint16_t>((in[2] << 8) | in[3]);
    header.contentLength = static_cast<std::uint16_t>((in[4] << 8) | in[5]);
    header.paddingLength = in[6];
    header.reserved = in[7];
    return header;
}

void appendRecord(std::string& out, RecordType type, std::uint16_t requestId,
                  std::string_view content) {
    assert(content.size() <= kMaxContentLength);
    RecordHeader header;
    header.type = type;
    header.requestId = requestId;
    header.contentLength = static_cast<std::uint16_t>(content.size());
    header.paddingLength = paddingFor(content.size());

    const std::size_t start = out.size();
    out.resize(start + kHeaderLength);
    encodeHeader(header, reinterpret_cast<unsigned char*>(out.data() + start));
    out.append(content);
    out.append(header.paddingLength, '\0');
}

void appendStream(std::string& out, RecordType type, std::uint16_t requestId,
                  std::string_view data) {
    // Reserve once: a 1 MiB body becomes 17 records, not 17 reallocations.
    const std::size_t records = (data.size() + kMaxContentLength - 1) / kMaxContentLength;
    out.reserve(out.size() + data.size() + records * (kHeaderLength + 7));
    while (!data.empty()) {
        const std::size_t n = data.size() < kMaxContentLength ? data.size() : kMaxContentLength;
        appendRecord(out, type, requestId, data.substr(0, n));
        data.remove_prefix(n);
    }
}

void appendStreamEnd(std::string& out, RecordType type, std::uint16_t requestId) {
    appendRecord(out, type, requestId, {});
}

void appendBeginRequest(std::string& out, std::uint16_t requestId, Role role,
                        std::uint8_t flags) {
    const auto r = static_cast<std::uint16_t>(role);
    const char body[8] = {static_cast<char>(r >> 8), static_cast<char>(r & 0xff),
                          static_cast<char>(flags), 0, 0, 0, 0, 0};
    appendRecord(out, RecordType::BeginRequest, requestId, std::string_view(body, sizeof body));
}

void appendAbortRequest(std::string& out, std::uint16_t requestId) {
    appendRecord(out, RecordType::AbortRequest, requestId, {});
}

void appendEndRequest(std::string& out, std::uint16_t requestId, std::uint32_t appStatus,
                      ProtocolStatus protocolStatus) {
    const char body[8] = {static_cast<char>(appStatus >> 24),
                          static_cast<char>((appStatus >> 16) & 0xff),
                          static_cast<char>((appStatus >> 8) & 0xff),
                          static_cast<char>(appStatus & 0xff),
                          static_cast<char>(protocolStatus),
                          0, 0, 0};
    appendRecord(out, RecordType::EndRequest, requestId, std::string_view(body, sizeof body));
}

void appendUnknownType(std::string& out, std::uint8_t unknownType) {
    const char body[8] = {static_cast<char>(unknownType), 0, 0, 0, 0, 0, 0, 0};
    appendRecord(out, RecordType::UnknownType, kNullRequestId, std::string_view(body, sizeof body));
}

namespace {
const unsigned char* bytes(std::string_view content) {
    return reinterpret_cast<const unsigned char*>(content.data());
}
}  // namespace

bool decodeBeginRequestBody(std::string_view content, BeginRequestBody& out) {
    if (content.size() != 8) return false;
    const unsigned char* b = bytes(content);
    out.role = static_cast<Role>((b[0] << 8) | b[1]);
    out.flags = b[2];
    return true;
}

bool decodeEndRequestBody(std::string_view content, EndRequestBody& out) {
    if (content.size() != 8) return false;
    const unsigned char* b = bytes(content);
    out.appStatus = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                    (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    out.protocolStatus = static_cast<ProtocolStatus>(b[4]);
    return true;
}

bool decodeUnknownTypeBody(std::string_view content, std::uint8_t& type) {
    if (content.size() != 8) return false;
    type = bytes(content)[0];
    return true;
}

}  // namespace pyfpm::fcgi
