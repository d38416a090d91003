// The accept queue of a pool's listening socket: how many connections wait
// for a worker right now. Unix sockets via sock_diag (NETLINK_SOCK_DIAG,
// UNIX_DIAG_RQLEN, matched by inode); TCP via TCP_INFO (tcpi_unacked is the
// accept queue of a listening socket).
#pragma once

#include <optional>

namespace pyfpm::manager {

struct ListenQueue {
    int length = 0;   // connections waiting to be accepted
    int backlog = 0;  // the listen(2) backlog the kernel applies
};

// Measures the queue of the listening socket `listenFd`. nullopt when the
// kernel does not say (no sock_diag module, not a listening socket); errors
// are not logged here, the caller decides. A few syscalls; cheap enough for a
// maintenance tick, not for every request.
std::optional<ListenQueue> measureListenQueue(int listenFd);

}  // namespace pyfpm::manager
