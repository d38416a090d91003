#include "manager/listen_socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace pyfpm::manager {

namespace {

[[noreturn]] void throwSyscall(const char* call, const ListenAddress& address, int error)
{
    throw ListenError(fmt::format("{}(2) {}: {}", call, address.toString(), std::strerror(error)));
}

sockaddr_un unixAddress(const ListenAddress& address)
{
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    const std::string& path = address.path.native();
    // The path must fit with its terminating NUL (unix(7)).
    if (path.empty() || path.size() >= sizeof(sun.sun_path)) {
        throw ListenError(fmt::format("listen {}: path must be 1 to {} bytes long", address.toString(),
                                      sizeof(sun.sun_path) - 1));
    }
    std::memcpy(sun.sun_path, path.data(), path.size());
    return sun;
}

// What to do with a path that already exists: nothing there, a stale socket
// (removed here), or a reason to refuse.
void clearStaleSocket(const ListenAddress& address, const sockaddr_un& sun)
{
    struct stat st{};
    if (::lstat(sun.sun_path, &st) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throwSyscall("lstat", address, errno);
    }
    if (!S_ISSOCK(st.st_mode)) {
        throw ListenError(fmt::format("listen {}: the path exists and is not a socket", address.toString()));
    }
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!probe) {
        throwSyscall("socket", address, errno);
    }
    // Non-blocking, so a live owner with a full accept queue answers EAGAIN
    // instead of stalling start-up.
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof(sun)) == 0 || errno == EAGAIN) {
        throw ListenError(fmt::format("listen {}: another process is listening there", address.toString()));
    }
    if (errno != ECONNREFUSED) {
        throwSyscall("connect", address, errno);
    }
    // Nobody listens: left behind by a daemon that was killed.
    if (::unlink(sun.sun_path) != 0 && errno != ENOENT) {
        throwSyscall("unlink", address, errno);
    }
}

}  // namespace

ListenSocket ListenSocket::open(const ListenAddress& address, int backlog, mode_t mode)
{
    ListenSocket result;
    result.address_ = address;

    switch (address.kind) {
    case ListenAddress::Kind::Unix: {
        const sockaddr_un sun = unixAddress(address);
        clearStaleSocket(address, sun);
        result.fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!result.fd_) {
            throwSyscall("socket", address, errno);
        }
        if (::bind(result.fd_.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof(sun)) != 0) {
            throwSyscall("bind", address, errno);
        }
        struct stat st{};
        if (::stat(sun.sun_path, &st) != 0) {
            const int error = errno;
            ::unlink(sun.sun_path);
            throwSyscall("stat", address, error);
        }
        // From here on close() removes the file, also when an error below
        // throws.
        result.dev_ = st.st_dev;
        result.ino_ = st.st_ino;
        // Before listen(2): until then a connect(2) is refused, so nobody
        // slips in while the mode still reflects the umask.
        if (::chmod(sun.sun_path, mode) != 0) {
            throwSyscall("chmod", address, errno);
        }
        break;
    }
    case ListenAddress::Kind::Tcp: {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        addrinfo* found = nullptr;
        const std::string port = std::to_string(address.port);
        const int rc = ::getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(), port.c_str(), &hints,
                                     &found);
        if (rc != 0) {
            throw ListenError(fmt::format("getaddrinfo(3) {}: {}", address.toString(), ::gai_strerror(rc)));
        }
        std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
        result.fd_.reset(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol));
        if (!result.fd_) {
            throwSyscall("socket", address, errno);
        }
        // A restarted daemon must be able to bind while connections of its
        // predecessor linger in TIME_WAIT.
        const int on = 1;
        if (::setsockopt(result.fd_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
            throwSyscall("setsockopt", address, errno);
        }
        if (::bind(result.fd_.get(), found->ai_addr, found->ai_addrlen) != 0) {
            throwSyscall("bind", address, errno);
        }
        sockaddr_storage bound{};
        socklen_t length = sizeof(bound);
        if (::getsockname(result.fd_.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
            throwSyscall("getsockname", address, errno);
        }
        result.port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                    : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        break;
    }
    }

    if (::listen(result.fd_.get(), backlog) != 0) {
        throwSyscall("listen", address, errno);
    }
    return result;
}

ListenSocket& ListenSocket::operator=(ListenSocket&& other) noexcept
{
    if (this != &other) {
        close();
        fd_ = std::move(other.fd_);
        address_ = std::move(other.address_);
        port_ = other.port_;
        dev_ = std::exchange(other.dev_, 0);
        ino_ = std::exchange(other.ino_, 0);
    }
    return *this;
}

bool ListenSocket::ownsPath() const
{
    struct stat st{};
    return address_.kind == ListenAddress::Kind::Unix && ino_ != 0 && ::lstat(address_.path.c_str(), &st) == 0 &&
           st.st_dev == dev_ && st.st_ino == ino_;
}

void ListenSocket::setOwner(uid_t uid, gid_t gid)
{
    if (!ownsPath()) {
        return;
    }
    // lchown: the path is a socket we just checked, never a symlink to
    // follow somewhere else.
    if (::lchown(address_.path.c_str(), uid, gid) != 0) {
        throwSyscall("lchown", address_, errno);
    }
}

void ListenSocket::reconfigure(int backlog, mode_t mode)
{
    if (!fd_) {
        return;
    }
    if (ownsPath() && ::chmod(address_.path.c_str(), mode) != 0) {
        throwSyscall("chmod", address_, errno);
    }
    if (::listen(fd_.get(), backlog) != 0) {
        throwSyscall("listen", address_, errno);
    }
}

void ListenSocket::close()
{
    if (!fd_) {
        return;
    }
    fd_.reset();
    if (ownsPath()) {
        ::unlink(address_.path.c_str());
    }
    ino_ = 0;
}

}  // namespace pyfpm::manager
