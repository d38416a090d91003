#include "fcgi/parser.hpp"

namespace pyfpm::fcgi {

std::string toString(ParseError error) {
    switch (error) {
    case ParseError::None: return "no error";
    case ParseError::BadVersion: return "record version is not FCGI_VERSION_1";
    case ParseError::BadType: return "record type 0 is not a FastCGI record type";
    case ParseError::BadBodyLength: return "fixed-size record body is not 8 bytes long";
    }
    return "unknown parse error";
}

namespace {

bool hasFixedBody(RecordType type) {
    switch (type) {
    case RecordType::BeginRequest:
    case RecordType::EndRequest:
    case RecordType::UnknownType:
        return true;
    case RecordType::AbortRequest:
    case RecordType::Params:
    case RecordType::Stdin:
    case RecordType::Stdout:
    case RecordType::Stderr:
    case RecordType::Data:
    case RecordType::GetValues:
    case RecordType::GetValuesResult:
        return false;
    }
    return false;  // types beyond the spec carry free-form bodies
}

}  // namespace

void RecordParser::feed(std::string_view bytes) {
    if (error_ != ParseError::None) return;
    // Records handed out by next() point into buffer_; they die here, as
    // documented, so this is the one place that moves bytes.
    if (offset_ == buffer_.size()) {
        buffer_.clear();
    } else if (offset_ > 0) {
        buffer_.erase(0, offset_);
    }
    offset_ = 0;
    buffer_.append(bytes);
}

RecordParser::Result RecordParser::next() {
    Result result;
    if (error_ != ParseError::None) {
        result.status = Status::Error;
        result.error = error_;
        return result;
    }
    if (buffered() < kHeaderLength) return result;

    const auto* start = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
    const RecordHeader header = decodeHeader(start);
    // Judge the header before its body arrives, so garbage fails at once
    // instead of waiting for up to 64 KiB that will never make sense.
    if (header.version != kVersion1) {
        error_ = ParseError::BadVersion;
    } else if (static_cast<std::uint8_t>(header.type) == 0) {
        error_ = ParseError::BadType;
    } else if (hasFixedBody(header.type) && header.contentLength != 8) {
        error_ = ParseError::BadBodyLength;
    }
    if (error_ != ParseError::None) {
        result.status = Status::Error;
        result.error = error_;
        return result;
    }

    const std::size_t total = kHeaderLength + header.contentLength + header.paddingLength;
    if (buffered() < total) return result;

    result.status = Status::Record;
    result.record.header = header;
    result.record.content =
        std::string_view(buffer_).substr(offset_ + kHeaderLength, header.contentLength);
    offset_ += total;
    return result;
}

}  // namespace pyfpm::fcgi
