#include "src/worker/channel.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include <fmt/core.h>

#include "manager/worker_contract.hpp"

namespace pyfpm::worker {

namespace {

std::string failure(const char* call, int error)
{
    return fmt::format("{}: {}", call, std::strerror(error));
}

}  // namespace

std::variant<ChannelListener, std::string> openChannelListener()
{
    ChannelListener listener;
    listener.fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listener.fd) {
        return failure("socket(2) AF_UNIX", errno);
    }
    // unix(7), "Autobind feature": an address of only the family makes the
    // kernel pick a unique abstract name.
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    if (::bind(listener.fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(sa_family_t)) != 0) {
        return failure("bind(2) autobind", errno);
    }
    // One connection is kept at a time; the backlog only has to hold the
    // daemon's reconnection while the old one is still being served.
    if (::listen(listener.fd.get(), 4) != 0) {
        return failure("listen(2)", errno);
    }
    socklen_t length = sizeof address;
    if (::getsockname(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return failure("getsockname(2)", errno);
    }
    constexpr std::size_t pathOffset = offsetof(sockaddr_un, sun_path);
    if (length <= pathOffset + 1 || length > sizeof address || address.sun_path[0] != '\0') {
        return fmt::format("getsockname(2): not an abstract address ({} bytes)", length);
    }
    listener.name.assign(address.sun_path + 1, length - pathOffset - 1);
    // The name goes into a text line: it must not end or split it. The
    // kernel's autobind names are hex digits.
    for (const char c : listener.name) {
        if (std::isgraph(static_cast<unsigned char>(c)) == 0) {
            return fmt::format("getsockname(2): autobound name has a byte 0x{:02x}",
                               static_cast<unsigned char>(c));
        }
    }
    return listener;
}

std::string channelReadyMessage(std::string_view name)
{
    return fmt::format("{}{}\n", manager::contract::kReadyChannelPrefix, name);
}

ChannelAccept acceptChannel(int listenFd)
{
    ChannelAccept accepted;
    // Without SOCK_NONBLOCK: Linux does not pass the listener's O_NONBLOCK
    // on, and libfcgi needs a blocking connection.
    accepted.connection.reset(::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!accepted.connection) {
        accepted.error = errno;
        return accepted;
    }
    ucred peer = {};
    socklen_t length = sizeof peer;
    if (::getsockopt(accepted.connection.get(), SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0 &&
        length == sizeof peer) {
        accepted.peer = peer.pid;
    }
    // A parent that died leaves getppid() pointing at a reaper, which the
    // daemon's successor never is: nobody gets in then.
    if (accepted.peer <= 0 || accepted.peer != ::getppid()) {
        accepted.connection.reset();
        accepted.result = ChannelAccept::Result::Refused;
        return accepted;
    }
    accepted.result = ChannelAccept::Result::Connection;
    return accepted;
}

}  // namespace pyfpm::worker
