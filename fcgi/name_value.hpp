// FastCGI 1.0 §3.4 name-value pairs, the body of FCGI_PARAMS and of
// FCGI_GET_VALUES / FCGI_GET_VALUES_RESULT. Pure, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyfpm::fcgi {

// Lengths below 128 take one byte; longer ones four bytes with the high bit
// set (§3.4). Longest encodable length: 2^31 - 1 bytes.
inline constexpr std::size_t kMaxNameValueLength = 0x7fffffff;

// Appends one pair. Precondition: both lengths <= kMaxNameValueLength
// (asserted).
void appendNameValue(std::string& out, std::string_view name, std::string_view value);

// Encoded size of one pair, for sizing buffers.
std::size_t encodedNameValueSize(std::string_view name, std::string_view value);

using NameValuePairs = std::vector<std::pair<std::string, std::string>>;

// Decodes a complete FCGI_PARAMS stream (all its records' contents,
// concatenated). Appends to `out`. Returns false, leaving `out` with the
// pairs decoded so far, when a length or a pair runs past the end.
bool decodeNameValues(std::string_view stream, NameValuePairs& out);

}  // namespace pyfpm::fcgi
