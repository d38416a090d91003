// A pool's listening socket with every listen_* key applied, shared between
// the pools that use it: during a reload the old and the new pool of one
// address accept on the same socket, so no connection in its accept queue
// is lost, and the socket (and its file) goes when the last pool lets go.
#pragma once

#include <memory>

#include "manager/listen_socket.hpp"
#include "manager/pool_config.hpp"

namespace pyfpm::manager {

using SharedListenSocket = std::shared_ptr<ListenSocket>;

// Opens `pool.listen` with listen_backlog and listen_mode, and gives a unix
// socket file to listen_owner / listen_group when the daemon runs as root
// (without root those keys are ignored with a warning). Throws ListenError,
// or IsolationError for an unknown owner or group.
SharedListenSocket openPoolSocket(const PoolConfig& pool);

// A changed pool taking over `socket` (same address): applies its
// listen_backlog, listen_mode, listen_owner and listen_group. Throws like
// openPoolSocket.
void adoptPoolSocket(ListenSocket& socket, const PoolConfig& pool);

}  // namespace pyfpm::manager
