#include "src/pyfpm/http/real_ip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <optional>

#include "src/pyfpm/http/ascii.hpp"

namespace pyfpm::http {

namespace {

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool isPort(std::string_view text) {
    if (text.empty() || text.size() > 5) return false;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    return std::stoul(std::string(text)) <= 65535;
}

struct Address {
    sockaddr_storage storage{};
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// An address in any of the forms the header comment lists.
std::optional<Address> parseAddress(std::string_view text) {
    std::string_view host = text;
    if (!host.empty() && host.front() == '[') {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view after = host.substr(close + 1);
        if (!after.empty() && !(after.front() == ':' && isPort(after.substr(1)))) {
            return std::nullopt;
        }
        host = host.substr(1, close - 1);
        if (host.find(':') == std::string_view::npos) return std::nullopt;  // "[1.2.3.4]"
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
        // One colon: IPv4 with a port. IPv6 has at least two.
        const std::size_t colon = host.find(':');
        if (!isPort(host.substr(colon + 1))) return std::nullopt;
        host = host.substr(0, colon);
    }
    // INET6_ADDRSTRLEN bounds both families' text forms.
    if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string zeroTerminated(host);
    Address address;
    auto* in = reinterpret_cast<sockaddr_in*>(&address.storage);
    if (::inet_pton(AF_INET, zeroTerminated.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        return address;
    }
    address.storage = {};
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    if (::inet_pton(AF_INET6, zeroTerminated.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        return address;
    }
    return std::nullopt;
}

std::string toText(const Address& address) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* raw = nullptr;
    if (address.storage.ss_family == AF_INET) {
        raw = &reinterpret_cast<const sockaddr_in*>(&address.storage)->sin_addr;
    } else {
        raw = &reinterpret_cast<const sockaddr_in6*>(&address.storage)->sin6_addr;
    }
    if (::inet_ntop(address.storage.ss_family, raw, text.data(), text.size()) == nullptr) return {};
    return text.data();
}

bool isTrusted(const Address& address, std::span<const config::Cidr> trusted) {
    return std::any_of(trusted.begin(), trusted.end(),
                       [&](const config::Cidr& range) { return range.contains(address.get()); });
}

// The last non-empty element of a comma-separated list, trimmed.
std::string_view lastElement(std::string_view list) {
    while (!list.empty()) {
        const std::size_t comma = list.rfind(',');
        const std::string_view element =
            trimOws(comma == std::string_view::npos ? list : list.substr(comma + 1));
        if (!element.empty()) return element;
        if (comma == std::string_view::npos) break;
        list = list.substr(0, comma);
    }
    return {};
}

}  // namespace

RealClient resolveRealClient(std::string_view peer, std::string_view forwardedFor,
                             std::string_view forwardedProto,
                             std::span<const config::Cidr> trusted, bool connectionHttps) {
    RealClient client;
    client.address = std::string(peer);
    client.https = connectionHttps;

    const std::optional<Address> peerAddress = parseAddress(trimOws(peer));
    if (!peerAddress || !isTrusted(*peerAddress, trusted)) return client;
    client.fromProxy = true;

    const std::string_view proto = lastElement(forwardedProto);
    if (iequals(proto, "https")) {
        client.https = true;
    } else if (iequals(proto, "http")) {
        client.https = false;
    }

    // real_ip_recursive on: right to left, past every trusted hop.
    std::optional<Address> leftmost;
    std::string_view rest = forwardedFor;
    while (!rest.empty()) {
        const std::size_t comma = rest.rfind(',');
        const std::string_view element =
            trimOws(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        if (element.empty()) continue;
        const std::optional<Address> hop = parseAddress(element);
        if (!hop) return client;  // the peer stays the client
        if (!isTrusted(*hop, trusted)) {
            client.address = toText(*hop);
            return client;
        }
        leftmost = hop;
    }
    if (leftmost) client.address = toText(*leftmost);
    return client;
}

}  // namespace pyfpm::http
