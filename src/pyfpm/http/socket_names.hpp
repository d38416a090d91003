// Printable names of socket addresses, for logs and CGI variables.
#pragma once

#include <cstdint>
#include <string>

namespace pyfpm::http {

// "127.0.0.1:8080" or "[::1]:8080".
std::string displayAddress(const std::string& host, std::uint16_t port);

// The numeric local address of socket `fd` (getsockname(2)); false when the
// call fails, leaving `host` and `port` untouched.
bool localName(int fd, std::string& host, std::uint16_t& port);

}  // namespace pyfpm::http
