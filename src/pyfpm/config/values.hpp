// Parsers for the scalar value types of pyfpm.yaml(5): durations, sizes,
// integers, file modes, addresses and names. Pure functions of the text as
// written in the file (yaml-cpp's Node::Scalar()); no filesystem access, no
// state, thread-safe. Each returns std::nullopt for text it does not accept;
// the key table (keys.cpp) says what was expected, with the key's path and
// position.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "manager/pool_config.hpp"
#include "src/pyfpm/config/config.hpp"

namespace pyfpm::config {

// "250ms", "30s", "5m", "1h": a non-negative integer and a unit, no space.
// A bare "0" is zero. Fractions, other units and values that overflow
// std::chrono::milliseconds are rejected.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

// The shortest exact rendering in the same syntax: 90000ms -> "90s",
// 1500ms -> "1500ms", 0 -> "0s". parseDuration(formatDuration(d)) == d.
std::string formatDuration(std::chrono::milliseconds duration);

// Bytes: "4096", "4096B", "64KiB", "10MiB", "1GiB" (binary units, 1024-based).
// Decimal units ("10MB") are rejected rather than guessed.
std::optional<std::uint64_t> parseSize(std::string_view text);

// YAML 1.2's booleans: true, True, TRUE, false, False, FALSE. Not YAML 1.1's
// yes/no/on/off, which are too easy to write by accident.
std::optional<bool> parseBool(std::string_view text);

// A decimal integer with an optional sign: "511", "-1". No "0x", no
// fractions, no exponent, no surrounding space.
std::optional<long long> parseInteger(std::string_view text);

// A permission mode in octal, as chmod(1) takes it: "0660", "660", "0o660".
// At most 07777. YAML 1.2 would read a plain 0660 as decimal 660; the
// octal digits are taken as written either way.
std::optional<mode_t> parseFileMode(std::string_view text);

// "host:port" for a TCP listener: "127.0.0.1:8080", "localhost:8080",
// "[::1]:8080" (an IPv6 address needs its brackets; the result holds it
// without them). Port 1 to 65535.
std::optional<HttpListen> parseHostPort(std::string_view text);

// A pool's `listen`: "unix:/path", a path (anything containing '/' or no
// ':'; relative paths stay relative for the caller to resolve), or host:port.
// A bare port ("9000") is rejected: it does not say which address.
std::optional<manager::ListenAddress> parseListenAddress(std::string_view text);

// `app`: a WSGI application as "module:callable" (PEP 3333), the module
// dotted ("pkg.wsgi"), both parts ASCII Python identifiers.
bool isAppSpec(std::string_view text);

// A pool name: [A-Za-z0-9_.-]+. It appears in logs, paths and status output.
bool isPoolName(std::string_view text);

// An environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool isEnvName(std::string_view text);

// A header field value (RFC 9110 §5.5): visible ASCII, spaces and tabs,
// not empty, no leading or trailing whitespace; never CR, LF or NUL.
bool isHeaderValue(std::string_view text);

}  // namespace pyfpm::config
