#include "fcgi/name_value.hpp"

#include <cassert>
#include <cstdint>

namespace pyfpm::fcgi {

namespace {

std::size_t lengthSize(std::size_t length) { return length < 128 ? 1 : 4; }

// FastCGI 1.0 §3.4: nameLengthB0 (7 bits) or nameLengthB3..B0 (31 bits, high
// bit set in the first byte).
void appendLength(std::string& out, std::size_t length) {
    assert(length <= kMaxNameValueLength);
    if (length < 128) {
        out.push_back(static_cast<char>(length));
        return;
    }
    const auto n = static_cast<std::uint32_t>(length);
    const char b[4] = {static_cast<char>((n >> 24) | 0x80), static_cast<char>((n >> 16) & 0xff),
                       static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
    out.append(b, 4);
}

bool readLength(std::string_view& in, std::size_t& length) {
    if (in.empty()) return false;
    const auto first = static_cast<unsigned char>(in[0]);
    if ((first & 0x80) == 0) {
        length = first;
        in.remove_prefix(1);
        return true;
    }
    if (in.size() < 4) return false;
    const auto* b = reinterpret_cast<const unsigned char*>(in.data());
    length = (std::size_t{b[0] & 0x7fu} << 24) | (std::size_t{b[1]} << 16) |
             (std::size_t{b[2]} << 8) | std::size_t{b[3]};
    in.remove_prefix(4);
    return true;
}

}  // namespace

std::size_t encodedNameValueSize(std::string_view name, std::string_view value) {
    return lengthSize(name.size()) + lengthSize(value.size()) + name.size() + value.size();
}

void appendNameValue(std::string& out, std::string_view name, std::string_view value) {
    out.reserve(out.size() + encodedNameValueSize(name, value));
    appendLength(out, name.size());
    appendLength(out, value.size());
    out.append(name);
    out.append(value);
}

bool decodeNameValues(std::string_view stream, NameValuePairs& out) {
    while (!stream.empty()) {
        std::size_t nameLength = 0;
        std::size_t valueLength = 0;
        if (!readLength(stream, nameLength) || !readLength(stream, valueLength)) return false;
        // Compare without adding: two 31-bit lengths cannot overflow size_t,
        // but being explicit keeps the fuzzer quiet on 32-bit builds.
        if (nameLength > stream.size() || valueLength > stream.size() - nameLength) return false;
        out.emplace_back(std::string(stream.substr(0, nameLength)),
                         std::string(stream.substr(nameLength, valueLength)));
        stream.remove_prefix(nameLength + valueLength);
    }
    return true;
}

}  // namespace pyfpm::fcgi
