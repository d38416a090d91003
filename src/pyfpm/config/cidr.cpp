#include "src/pyfpm/config/cidr.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace pyfpm::config {

namespace {

bool prefixMatches(const std::uint8_t* network, const std::uint8_t* address, int prefix) {
    const int whole = prefix / 8;
    if (std::memcmp(network, address, static_cast<std::size_t>(whole)) != 0) return false;
    const int rest = prefix % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (network[whole] & mask) == (address[whole] & mask);
}

}  // namespace

std::optional<Cidr> parseCidr(std::string_view text) {
    const std::size_t slash = text.find('/');
    const std::string address(text.substr(0, slash));
    Cidr cidr;
    if (::inet_pton(AF_INET, address.c_str(), cidr.bytes.data()) == 1) {
        cidr.family = AF_INET;
        cidr.prefix = 32;
    } else if (::inet_pton(AF_INET6, address.c_str(), cidr.bytes.data()) == 1) {
        cidr.family = AF_INET6;
        cidr.prefix = 128;
    } else {
        return std::nullopt;
    }
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        int prefix = -1;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || prefix < 0 ||
            prefix > cidr.prefix) {
            return std::nullopt;
        }
        cidr.prefix = prefix;
    }
    // Host bits past the prefix must be zero.
    const int width = cidr.family == AF_INET ? 32 : 128;
    for (int bit = cidr.prefix; bit < width; ++bit) {
        if ((cidr.bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1) return std::nullopt;
    }
    return cidr;
}

std::string Cidr::toString() const {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, bytes.data(), text, sizeof(text));
    return std::string(text) + "/" + std::to_string(prefix);
}

bool Cidr::contains(const sockaddr* address) const {
    if (address == nullptr) return false;
    if (address->sa_family == AF_INET) {
        if (family != AF_INET) return false;
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        return prefixMatches(bytes.data(), reinterpret_cast<const std::uint8_t*>(&in->sin_addr), prefix);
    }
    if (address->sa_family != AF_INET6) return false;
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    const auto* raw = reinterpret_cast<const std::uint8_t*>(&in6->sin6_addr);
    if (family == AF_INET6) return prefixMatches(bytes.data(), raw, prefix);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) return prefixMatches(bytes.data(), raw + 12, prefix);
    return false;
}

}  // namespace pyfpm::config
