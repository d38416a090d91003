#include "src/pyfpm/http/socket_names.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace pyfpm::http {

namespace {

// Numeric host and port of a socket address.
bool numericName(const sockaddr* address, socklen_t length, std::string& host,
                 std::uint16_t& port) {
    char hostBuffer[NI_MAXHOST];
    char portBuffer[NI_MAXSERV];
    if (::getnameinfo(address, length, hostBuffer, sizeof(hostBuffer), portBuffer,
                      sizeof(portBuffer), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return false;
    }
    host = hostBuffer;
    port = static_cast<std::uint16_t>(std::stoul(portBuffer));
    return true;
}

}  // namespace

std::string displayAddress(const std::string& host, std::uint16_t port) {
    return host.find(':') == std::string::npos ? fmt::format("{}:{}", host, port)
                                               : fmt::format("[{}]:{}", host, port);
}

bool localName(int fd, std::string& host, std::uint16_t& port) {
    sockaddr_storage address = {};
    socklen_t length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
    return numericName(reinterpret_cast<sockaddr*>(&address), length, host, port);
}

}  // namespace pyfpm::http
