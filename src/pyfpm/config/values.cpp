#include "src/pyfpm/config/values.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace pyfpm::config {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool isIdentifierStart(char c) { return isAlpha(c) || c == '_'; }
bool isIdentifierChar(char c) { return isIdentifierStart(c) || isDigit(c); }

bool allDigits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), isDigit);
}

bool isIdentifier(std::string_view text) {
    return !text.empty() && isIdentifierStart(text.front()) &&
           std::all_of(text.begin(), text.end(), isIdentifierChar);
}

// Unsigned decimal digits only; nullopt on anything else or overflow.
std::optional<std::uint64_t> parseDigits(std::string_view text) {
    if (!allDigits(text)) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Splits "123unit" into its number and unit; nullopt if there is no number
// or it overflows.
std::optional<std::pair<std::uint64_t, std::string_view>> splitNumberUnit(std::string_view text) {
    auto unitStart = std::find_if_not(text.begin(), text.end(), isDigit);
    auto digits = text.substr(0, static_cast<std::size_t>(unitStart - text.begin()));
    auto number = parseDigits(digits);
    if (!number) return std::nullopt;
    return std::pair{*number, text.substr(digits.size())};
}

std::optional<std::uint64_t> multiply(std::uint64_t value, std::uint64_t factor,
                                      std::uint64_t limit) {
    if (factor != 0 && value > limit / factor) return std::nullopt;
    return value * factor;
}

bool isHostName(std::string_view host) {
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
        return isAlpha(c) || isDigit(c) || c == '.' || c == '-';
    });
}

}  // namespace

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
    if (text == "0") return std::chrono::milliseconds{0};
    auto split = splitNumberUnit(text);
    if (!split) return std::nullopt;
    struct Unit {
        std::string_view name;
        std::uint64_t ms;
    };
    static constexpr std::array units{Unit{"ms", 1}, Unit{"s", 1000}, Unit{"m", 60'000},
                                      Unit{"h", 3'600'000}};
    auto unit = std::find_if(units.begin(), units.end(),
                             [&](const Unit& u) { return u.name == split->second; });
    if (unit == units.end()) return std::nullopt;
    constexpr auto limit =
        static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max());
    auto ms = multiply(split->first, unit->ms, limit);
    if (!ms) return std::nullopt;
    return std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(*ms)};
}

std::string formatDuration(std::chrono::milliseconds duration) {
    auto ms = duration.count();
    if (ms == 0) return "0s";
    if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::optional<std::uint64_t> parseSize(std::string_view text) {
    auto split = splitNumberUnit(text);
    if (!split) return std::nullopt;
    struct Unit {
        std::string_view name;
        std::uint64_t bytes;
    };
    static constexpr std::array units{Unit{"", 1}, Unit{"B", 1}, Unit{"KiB", 1ULL << 10},
                                      Unit{"MiB", 1ULL << 20}, Unit{"GiB", 1ULL << 30}};
    auto unit = std::find_if(units.begin(), units.end(),
                             [&](const Unit& u) { return u.name == split->second; });
    if (unit == units.end()) return std::nullopt;
    return multiply(split->first, unit->bytes, std::numeric_limits<std::uint64_t>::max());
}

std::optional<bool> parseBool(std::string_view text) {
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    return std::nullopt;
}

std::optional<long long> parseInteger(std::string_view text) {
    auto digits = text;
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
    if (!allDigits(digits)) return std::nullopt;
    // from_chars accepts '-' but not '+'.
    auto number = text.front() == '+' ? digits : text;
    long long value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc{} || end != number.data() + number.size()) return std::nullopt;
    return value;
}

std::optional<mode_t> parseFileMode(std::string_view text) {
    if (text.starts_with("0o") || text.starts_with("0O")) text.remove_prefix(2);
    if (text.empty() || text.size() > 5) return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; }))
        return std::nullopt;
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value, 8);
    if (value > 07777) return std::nullopt;
    return static_cast<mode_t>(value);
}

std::optional<HttpListen> parseHostPort(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = text.substr(0, colon);
    auto port = parseDigits(text.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535) return std::nullopt;

    if (host.starts_with('[')) {
        if (!host.ends_with(']')) return std::nullopt;
        host = host.substr(1, host.size() - 2);
        std::string address{host};
        in6_addr parsed{};
        if (inet_pton(AF_INET6, address.c_str(), &parsed) != 1) return std::nullopt;
    } else if (!isHostName(host)) {
        // Also rejects an unbracketed IPv6 address: its last ':' is ambiguous.
        return std::nullopt;
    }
    return HttpListen{std::string{host}, static_cast<std::uint16_t>(*port)};
}

std::optional<manager::ListenAddress> parseListenAddress(std::string_view text) {
    manager::ListenAddress address;
    if (text.starts_with("unix:")) text.remove_prefix(5);
    else if (text.find('/') == std::string_view::npos && text.find(':') != std::string_view::npos) {
        auto tcp = parseHostPort(text);
        if (!tcp) return std::nullopt;
        address.kind = manager::ListenAddress::Kind::Tcp;
        address.host = std::move(tcp->host);
        address.port = tcp->port;
        return address;
    } else if (allDigits(text)) {
        return std::nullopt;
    }
    if (text.empty() || text.find('\0') != std::string_view::npos) return std::nullopt;
    address.kind = manager::ListenAddress::Kind::Unix;
    address.path = std::string{text};
    return address;
}

bool isAppSpec(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    auto module = text.substr(0, colon);
    if (!isIdentifier(text.substr(colon + 1))) return false;
    for (std::size_t start = 0;;) {
        auto dot = module.find('.', start);
        if (!isIdentifier(module.substr(start, dot - start))) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

bool isPoolName(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return isAlpha(c) || isDigit(c) || c == '_' || c == '.' || c == '-';
    });
}

bool isEnvName(std::string_view text) { return isIdentifier(text); }

bool isHeaderValue(std::string_view text) {
    if (text.empty() || text.front() == ' ' || text.front() == '\t' || text.back() == ' ' ||
        text.back() == '\t')
        return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return c == ' ' || c == '\t' || (byte > 0x20 && byte != 0x7f);
    });
}

}  // namespace pyfpm::config
