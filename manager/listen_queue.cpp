#include "manager/listen_queue.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <array>
#include <cstddef>
#include <cstring>

#include "manager/unique_fd.hpp"

namespace pyfpm::manager {

namespace {

std::optional<int> socketOption(int fd, int option)
{
    int value = 0;
    socklen_t length = sizeof(value);
    if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) {
        return std::nullopt;
    }
    return value;
}

// A listening TCP socket's TCP_INFO carries its accept queue: the kernel
// reuses tcpi_unacked for sk_ack_backlog and tcpi_sacked for
// sk_max_ack_backlog when the state is LISTEN (net/ipv4/tcp.c,
// tcp_get_info()). No netlink needed.
std::optional<ListenQueue> tcpQueue(int fd)
{
    tcp_info info{};
    socklen_t length = sizeof(info);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 || info.tcpi_state != TCP_LISTEN) {
        return std::nullopt;
    }
    return ListenQueue{static_cast<int>(info.tcpi_unacked), static_cast<int>(info.tcpi_sacked)};
}

// Reads a T from `bytes` at `offset`, if it fits; memcpy because netlink
// buffers promise only 4-byte alignment.
template <class T>
std::optional<T> readAt(const std::byte* bytes, std::size_t size, std::size_t offset)
{
    if (offset > size || size - offset < sizeof(T)) {
        return std::nullopt;
    }
    T value;
    std::memcpy(&value, bytes + offset, sizeof(T));
    return value;
}

// The UNIX_DIAG_RQLEN attribute of one SOCK_DIAG_BY_FAMILY answer for the
// socket `inode`; for a listening socket udiag_rqueue is the number of
// connections waiting and udiag_wqueue the backlog (net/unix/diag.c,
// sk_diag_show_rqlen()).
std::optional<ListenQueue> parseUnixAnswer(const std::byte* message, std::size_t size, ino_t inode)
{
    auto header = readAt<unix_diag_msg>(message, size, NLMSG_HDRLEN);
    if (!header || header->udiag_ino != inode || header->udiag_state != TCP_LISTEN) {
        return std::nullopt;
    }
    std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(unix_diag_msg));
    while (auto attribute = readAt<rtattr>(message, size, offset)) {
        if (attribute->rta_len < sizeof(rtattr) || attribute->rta_len > size - offset) {
            return std::nullopt;
        }
        if (attribute->rta_type == UNIX_DIAG_RQLEN) {
            auto rqlen = readAt<unix_diag_rqlen>(message, size, offset + RTA_LENGTH(0));
            if (!rqlen) {
                return std::nullopt;
            }
            return ListenQueue{static_cast<int>(rqlen->udiag_rqueue), static_cast<int>(rqlen->udiag_wqueue)};
        }
        offset += RTA_ALIGN(attribute->rta_len);
    }
    return std::nullopt;
}

// sock_diag(7): an exact lookup by inode (no NLM_F_DUMP), so the kernel
// answers with this one socket instead of every unix socket on the host.
std::optional<ListenQueue> unixQueue(int fd)
{
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        return std::nullopt;
    }
    UniqueFd netlink(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!netlink) {
        return std::nullopt;
    }

    struct {
        nlmsghdr header;
        unix_diag_req request;
    } query{};
    query.header.nlmsg_len = sizeof(query);
    query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    query.header.nlmsg_flags = NLM_F_REQUEST;
    query.header.nlmsg_seq = 1;
    query.request.sdiag_family = AF_UNIX;
    query.request.udiag_states = 1U << TCP_LISTEN;
    query.request.udiag_ino = static_cast<__u32>(st.st_ino);
    query.request.udiag_show = UDIAG_SHOW_RQLEN;
    // An exact lookup checks the cookie unless it is "no cookie".
    query.request.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
    query.request.udiag_cookie[1] = INET_DIAG_NOCOOKIE;

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(netlink.get(), &query, sizeof(query), 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof(kernel)) != static_cast<ssize_t>(sizeof(query))) {
        return std::nullopt;
    }
    // The kernel handles a sock_diag request inside sendto(2), so the answer
    // is queued already: MSG_DONTWAIT keeps a confused kernel from stalling
    // the daemon's event loop.
    alignas(nlmsghdr) std::array<std::byte, 8192> buffer{};
    const ssize_t received = ::recv(netlink.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (received <= 0) {
        return std::nullopt;
    }
    const auto size = static_cast<std::size_t>(received);
    auto header = readAt<nlmsghdr>(buffer.data(), size, 0);
    // NLMSG_ERROR: no socket with that inode (ENOENT), or no unix_diag in
    // this kernel.
    if (!header || header->nlmsg_type != SOCK_DIAG_BY_FAMILY || header->nlmsg_len > size) {
        return std::nullopt;
    }
    return parseUnixAnswer(buffer.data(), header->nlmsg_len, st.st_ino);
}

}  // namespace

std::optional<ListenQueue> measureListenQueue(int listenFd)
{
    // SO_ACCEPTCONN: anything but a listening socket (a connected one, a
    // pipe, a closed descriptor) has no accept queue.
    if (socketOption(listenFd, SO_ACCEPTCONN).value_or(0) == 0) {
        return std::nullopt;
    }
    switch (socketOption(listenFd, SO_DOMAIN).value_or(AF_UNSPEC)) {
    case AF_UNIX:
        return unixQueue(listenFd);
    case AF_INET:
    case AF_INET6:
        return tcpQueue(listenFd);
    default:
        return std::nullopt;
    }
}

}  // namespace pyfpm::manager
