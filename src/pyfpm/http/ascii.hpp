// ASCII helpers for protocol tokens (header names, methods). HTTP field
// names are case-insensitive in ASCII only (RFC 9110 §5.1), so these fold
// 'A'..'Z' and nothing else: no locale (std::tolower consults the global C
// locale), and bytes >= 0x80 compare as themselves. Pure; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace pyfpm::http {

// 'A'..'Z' to 'a'..'z'; every other byte unchanged.
constexpr char asciiLower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Whether `a` and `b` are equal with ASCII letters case-folded
// ("Content-Length" == "content-length").
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (asciiLower(a[i]) != asciiLower(b[i])) return false;
    }
    return true;
}

}  // namespace pyfpm::http
