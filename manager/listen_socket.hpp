// A pool's listening socket, created by the daemon and handed to every worker
// of the pool as descriptor 0 (FastCGI 1.0 §2.2, FCGI_LISTENSOCK_FILENO).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "manager/pool_config.hpp"
#include "manager/unique_fd.hpp"

namespace pyfpm::manager {

// A socket could not be created. what() is one line for people, naming the
// address, the system call and strerror:
//   "bind(2) unix:/run/pyfpm/web.sock: Address already in use"
//   "listen unix:/run/pyfpm/web.sock: another process is listening there"
class ListenError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Owns the listening socket and, for unix sockets, the file it created.
//
// The socket stays blocking: the descriptor is shared with the workers, and
// O_NONBLOCK is a property of the open file description, so setting it here
// would make libfcgi's accept() in every worker fail with EAGAIN. The daemon
// never accepts on it. The descriptor is close-on-exec, so it reaches a
// worker only where spawn puts it.
class ListenSocket {
public:
    // Unix: refuses when another live process listens on the path (connect(2)
    // succeeds), replaces a stale socket file (connect(2) gives
    // ECONNREFUSED), refuses when the path exists and is not a socket; the
    // file gets `mode` (php-fpm's listen_mode) before listen(2).
    // Tcp: SO_REUSEADDR, binds the first address getaddrinfo(3) returns for
    // host:port (port 0 lets the kernel choose; see port()).
    // Both: listen(2) with `backlog` (listen_backlog).
    // Throws ListenError.
    static ListenSocket open(const ListenAddress& address, int backlog, mode_t mode);

    ListenSocket() = default;
    ListenSocket(ListenSocket&&) noexcept = default;
    ListenSocket& operator=(ListenSocket&& other) noexcept;
    ~ListenSocket() { close(); }

    int fd() const { return fd_.get(); }
    const ListenAddress& address() const { return address_; }
    // Tcp: the bound port (the kernel's choice when the address said 0).
    std::uint16_t port() const { return port_; }

    // Unix: gives the socket file to `uid` and `gid` (-1 leaves one as it
    // is, as chown(2) takes it); listen_owner and listen_group. Tcp: nothing.
    // Throws ListenError.
    void setOwner(uid_t uid, gid_t gid);

    // For a reload that keeps the address: listen(2) again with the new
    // backlog (Linux applies it to the listening socket as it is, queued
    // connections stay) and, for unix sockets, the new mode. Throws
    // ListenError.
    void reconfigure(int backlog, mode_t mode);

    // Closes the socket and removes a unix socket file, but only if the path
    // still names the inode bind(2) created: another daemon may have replaced
    // it meanwhile. Idempotent.
    void close();

private:
    // The socket file still is the inode bind(2) created.
    bool ownsPath() const;

    UniqueFd fd_;
    ListenAddress address_;
    std::uint16_t port_ = 0;
    dev_t dev_ = 0;  // Unix: identity of the socket file we created
    ino_t ino_ = 0;
};

}  // namespace pyfpm::manager
