#include "manager/pool_socket.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "manager/isolation.hpp"

namespace pyfpm::manager {

namespace {

// Resolved before anything is created, so an unknown owner leaves no file.
SocketOwner ownerOf(const PoolConfig& pool)
{
    const bool root = ::geteuid() == 0;
    if (!root && (!pool.listen_owner.empty() || !pool.listen_group.empty())) {
        spdlog::warn("[pool {}] listen_owner and listen_group need the daemon to run as root; {} keeps the "
                     "daemon's owner",
                     pool.name, pool.listen.toString());
    }
    return resolveSocketOwner(pool, root);
}

}  // namespace

SharedListenSocket openPoolSocket(const PoolConfig& pool)
{
    const SocketOwner owner = ownerOf(pool);
    auto socket = std::make_shared<ListenSocket>(ListenSocket::open(pool.listen, pool.listen_backlog, pool.listen_mode));
    if (!owner.empty()) {
        socket->setOwner(owner.uid, owner.gid);
    }
    return socket;
}

void adoptPoolSocket(ListenSocket& socket, const PoolConfig& pool)
{
    const SocketOwner owner = ownerOf(pool);
    socket.reconfigure(pool.listen_backlog, pool.listen_mode);
    if (!owner.empty()) {
        socket.setOwner(owner.uid, owner.gid);
    }
}

}  // namespace pyfpm::manager
