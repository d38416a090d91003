// Address ranges in CIDR notation for http.status_allow (pyfpm.yaml(5)):
// "127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8", or a bare address
// (a /32 or /128). Pure; thread-safe.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pyfpm::config {

struct Cidr {
    int family = AF_INET;               // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
    int prefix = 32;                    // bits that must match

    // "127.0.0.1/32", as status pages and errors show it.
    std::string toString() const;
    // Whether `address` (an AF_INET or AF_INET6 sockaddr) lies in the range.
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched as IPv4.
    bool contains(const sockaddr* address) const;
};

// nullopt for anything else: a name, a prefix past the family's width,
// host bits set ("10.0.0.1/8" is refused rather than guessed).
std::optional<Cidr> parseCidr(std::string_view text);

}  // namespace pyfpm::config
