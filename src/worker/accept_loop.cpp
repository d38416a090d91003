#include "src/worker/accept_loop.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

#include "src/worker/channel.hpp"
#include "src/worker/stop_signal.hpp"

namespace pyfpm::worker {

using manager::contract::WorkerExit;

namespace {

enum class AcceptError { Retry, Pause, SocketGone };

// accept(2), "Error handling": network errors of the pending connection are
// reported by accept on Linux and mean "try the next one".
AcceptError classifyAcceptError(int error)
{
    switch (error) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case ENETUNREACH:
        return AcceptError::Retry;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
        return AcceptError::Pause;
    default:
        return AcceptError::SocketGone;  // EBADF, EINVAL (shut down), ENOTSOCK, ...
    }
}

enum class Wake { Readable, Stop, Failed };

// Waits until `fd` is readable or a stop signal arrives (or `timeoutMs`
// passes, which counts as Stop). Readable wins when both happened: a request
// that has started to arrive is served, a stop only prevents new ones.
Wake waitReadable(int fd, int timeoutMs)
{
    pollfd fds[2] = {{fd, POLLIN, 0}, {stopWakeFd(), POLLIN, 0}};
    for (;;) {
        const int ready = ::poll(fds, 2, timeoutMs);
        if (ready > 0 && fds[0].revents != 0) {
            return Wake::Readable;
        }
        if (ready >= 0) {
            return Wake::Stop;
        }
        if (errno != EINTR) {
            return Wake::Failed;
        }
    }
}

// How long an accepted connection may stay silent once a stop was asked
// for; libfcgi's own first-byte wait on unix sockets is 2 s as well.
constexpr int kFirstByteGraceMs = 2000;

// True when the accepted `connection` has bytes to read; false when a stop
// came and the client stayed silent through kFirstByteGraceMs, or poll(2)
// failed.
bool awaitFirstByte(int connection)
{
    const Wake first = waitReadable(connection, -1);
    if (first != Wake::Stop) {
        return first == Wake::Readable;
    }
    pollfd fd{connection, POLLIN, 0};
    for (;;) {
        const int ready = ::poll(&fd, 1, kFirstByteGraceMs);
        if (ready >= 0 || errno != EINTR) {
            return ready > 0;
        }
    }
}

// libfcgi keeps FCGI_STDIN unread bytes in the connection; on a kept
// connection (FCGI_KEEP_CONN) they would be parsed as the next request's
// records, so read them all before FCGX_Finish_r.
void drainStdin(FCGX_Stream* in)
{
    if (in == nullptr) {
        return;
    }
    char discard[16384];
    while (FCGX_GetStr(discard, sizeof discard, in) > 0) {
    }
}

}  // namespace

std::string checkListenSocket(int fd)
{
    struct stat info = {};
    if (::fstat(fd, &info) != 0) {
        return fmt::format("descriptor {} is not open ({})", fd, std::strerror(errno));
    }
    if (!S_ISSOCK(info.st_mode)) {
        return fmt::format("descriptor {} is not a socket", fd);
    }
    int listening = 0;
    socklen_t length = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) {
        return fmt::format("descriptor {} is a socket but not listening", fd);
    }
    int type = 0;
    length = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
        return fmt::format("descriptor {} is not a stream socket", fd);
    }
    return {};
}

int adoptListenSocket(int fd)
{
    // A worker started with stdout or stderr closed would hand those numbers
    // to the next open(2) or accept(2), and print() would write into a
    // FastCGI connection.
    for (int stdio : {1, 2}) {
        if (::fcntl(stdio, F_GETFD) < 0 && errno == EBADF) {
            const int devNull = ::open("/dev/null", O_WRONLY);
            if (devNull >= 0 && devNull != stdio) {
                ::dup2(devNull, stdio);
                ::close(devNull);
            }
        }
    }
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (moved < 0) {
        throw std::system_error(errno, std::generic_category(), "fcntl(2) F_DUPFD_CLOEXEC");
    }
    const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devNull < 0) {
        throw std::system_error(errno, std::generic_category(), "open(2) /dev/null");
    }
    // dup2 clears close-on-exec on the target, so descriptor 0 stays a
    // normal stdin for subprocesses.
    if (::dup2(devNull, fd) < 0) {
        throw std::system_error(errno, std::generic_category(), "dup2(2)");
    }
    ::close(devNull);
    return moved;
}

namespace {

// Waits up to `timeoutMs` for `fd` to become readable, ignoring stop
// signals (they are already in); false on timeout or when poll(2) fails.
bool readableWithin(int fd, int timeoutMs)
{
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    pollfd pfd{fd, POLLIN, 0};
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
        if (ready >= 0 || errno != EINTR) {
            return ready > 0;
        }
    }
}

// An idle connection, or one that never sent a request, has nothing unread:
// close it ourselves and skip libfcgi's close, which waits up to 2 s for
// the peer to close first.
void dropConnection(FCGX_Request& request)
{
    if (request.ipcFd >= 0) {
        ::close(request.ipcFd);
        request.ipcFd = -1;
    }
}

// One runAcceptLoop: two FCGX_Requests, one per source of requests. The
// pool's serves connections accepted on the pool socket; the channel's
// serves the one kept connection of the parent's bridge, and was set up
// with no listening socket (-1) so libfcgi never accepts for it.
class AcceptLoop {
public:
    AcceptLoop(int listenFd, manager::UniqueFd channelListener, const std::string& pool,
               const ServeRequest& serve, WorkerStatus& status)
        : listenFd_(listenFd), channelListener_(std::move(channelListener)), pool_(pool), serve_(serve),
          status_(status)
    {
    }

    WorkerExit run();

private:
    enum class Next { Loop, Exit };

    const int listenFd_;
    manager::UniqueFd channelListener_;
    const std::string& pool_;
    const ServeRequest& serve_;
    WorkerStatus& status_;
    const pid_t pid_ = ::getpid();
    bool tcp_ = false;
    FCGX_Request poolRequest_ = {};
    FCGX_Request channelRequest_ = {};
    WorkerExit exit_ = WorkerExit::Clean;
    const char* why_ = "stop signal";

    Next acceptPool(short events);  // poll(2)'s revents for the pool socket
    Next servePool();
    void serveChannel();
    void acceptOnChannel();
    void linger();
    void serveOne(FCGX_Request& request);
};

WorkerExit AcceptLoop::run()
{
    // Every idle worker of the pool polls the shared socket and all of them
    // wake for one connection; the losers must get EAGAIN from accept(2)
    // instead of blocking where only a connection could wake them. (The
    // accepted connections themselves stay blocking, as libfcgi needs.) This
    // also makes the accept inside FCGX_Accept_r, after a connection closes
    // without a request, return -EAGAIN instead of blocking.
    const int flags = ::fcntl(listenFd_, F_GETFL);
    if (flags < 0 || ::fcntl(listenFd_, F_SETFL, flags | O_NONBLOCK) < 0) {
        spdlog::error("[pool {}] worker {}: fcntl(2) O_NONBLOCK on the listening socket: {}; exiting",
                      pool_, pid_, std::strerror(errno));
        return WorkerExit::Internal;
    }

    sockaddr_storage address = {};
    socklen_t addressLength = sizeof address;
    tcp_ = ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&address), &addressLength) == 0 &&
           (address.ss_family == AF_INET || address.ss_family == AF_INET6);

    if (FCGX_InitRequest(&poolRequest_, listenFd_, 0) != 0 || FCGX_InitRequest(&channelRequest_, -1, 0) != 0) {
        spdlog::error("[pool {}] worker {}: FCGX_InitRequest failed; exiting", pool_, pid_);
        return WorkerExit::Internal;
    }

    for (;;) {
        if (stopRequested()) {
            linger();
            break;
        }
        status_.waiting();
        // With FCGI_KEEP_CONN a web server sends its next request on the
        // same connection, and libfcgi serves one connection at a time:
        // while one is kept, the pool socket waits. poll(2) skips fds < 0.
        const bool poolKept = poolRequest_.ipcFd >= 0;
        enum { WakeFd, PoolFd, ChannelListenFd, ChannelFd, FdCount };
        pollfd fds[FdCount] = {
            {stopWakeFd(), POLLIN, 0},
            {poolKept ? poolRequest_.ipcFd : listenFd_, POLLIN, 0},
            {channelListener_.get(), POLLIN, 0},
            {channelRequest_.ipcFd, POLLIN, 0},
        };
        if (::poll(fds, FdCount, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            spdlog::error("[pool {}] worker {}: poll(2): {}; exiting", pool_, pid_, std::strerror(errno));
            exit_ = WorkerExit::Internal;
            break;
        }
        // The contract's order: the bridge's next request first (it picked
        // this worker because it is idle), then its new connection, then
        // the pool socket. A request that has started to arrive is served
        // even when a stop came with it; a stop only prevents new accepts.
        if (fds[ChannelFd].revents != 0) {
            serveChannel();
            continue;
        }
        if (fds[PoolFd].revents != 0 && poolKept) {
            if (servePool() == Next::Exit) {
                break;
            }
            continue;
        }
        if (stopRequested()) {
            continue;  // the top of the loop lingers, then exits
        }
        if (fds[ChannelListenFd].revents != 0) {
            acceptOnChannel();
            continue;
        }
        if (fds[PoolFd].revents != 0 && acceptPool(fds[PoolFd].revents) == Next::Exit) {
            break;
        }
    }
    status_.stopping();
    dropConnection(poolRequest_);
    dropConnection(channelRequest_);
    FCGX_Free(&poolRequest_, 1);
    FCGX_Free(&channelRequest_, 1);
    spdlog::info("[pool {}] worker {}: exiting after {} requests ({})", pool_, pid_, status_.requests(), why_);
    return exit_;
}

AcceptLoop::Next AcceptLoop::acceptPool(short events)
{
    if ((events & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
        // A listening socket reports these only once shut down; a unix one
        // still answers accept(2) with EAGAIN, so do not ask it.
        spdlog::info("[pool {}] worker {}: the listening socket was shut down", pool_, pid_);
        why_ = "listening socket closed";
        return Next::Exit;
    }
    // We accept rather than letting FCGX_Accept_r do it: its accept and its
    // 2 s wait for the first byte can be interrupted by a signal, which
    // drops the connection; here a stop signal only ever interrupts poll(2).
    const int connection = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) {
        const int error = errno;
        switch (classifyAcceptError(error)) {
        case AcceptError::Retry:
            return Next::Loop;
        case AcceptError::Pause:
            spdlog::warn("[pool {}] worker {}: accept(2): {}; retrying in 100ms", pool_, pid_,
                         std::strerror(error));
            waitReadable(stopWakeFd(), 100);
            return Next::Loop;
        case AcceptError::SocketGone:
            spdlog::info("[pool {}] worker {}: accept(2): {}; the listening socket is gone", pool_, pid_,
                         std::strerror(error));
            why_ = "listening socket closed";
            return Next::Exit;
        }
    }
    if (tcp_) {
        // Responses are written in few large pieces; Nagle would only hold
        // back the last one.
        const int noDelay = 1;
        ::setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &noDelay, sizeof noDelay);
    }
    poolRequest_.ipcFd = connection;
    // FCGX_Accept_r starts with FCGX_Finish_r, which closes ipcFd unless the
    // previous request asked to keep its connection. FCGI_BEGIN_REQUEST
    // overwrites the flag with the real one.
    poolRequest_.keepConnection = 1;
    // libfcgi's read of FCGI_BEGIN_REQUEST blocks where no stop signal
    // reaches it; a client that connects and stays silent must not keep a
    // stopping worker alive. But a connection this worker accepted is a
    // request the client has sent or is sending: a stop arriving now (a
    // recycle, a reload) must not drop it, so the first byte gets a bounded
    // grace.
    if (!awaitFirstByte(connection)) {
        dropConnection(poolRequest_);
        // A stop: the top of the loop lingers on the channel, then exits.
        return stopRequested() ? Next::Loop : Next::Exit;
    }
    return servePool();
}

AcceptLoop::Next AcceptLoop::servePool()
{
    const int ours = poolRequest_.ipcFd;
    const int accepted = FCGX_Accept_r(&poolRequest_);
    if (accepted < 0) {
        // The connection closed before a request (or after the last one on
        // a kept connection); libfcgi then tried the non-blocking listening
        // socket itself and found nothing.
        const AcceptError kind = classifyAcceptError(-accepted);
        if (accepted <= -9998 || kind == AcceptError::SocketGone) {
            spdlog::info("[pool {}] worker {}: FCGX_Accept_r: {}; the listening socket is gone", pool_, pid_,
                         accepted > -9998 ? std::strerror(-accepted) : "library error");
            why_ = "listening socket closed";
            return Next::Exit;
        }
        return Next::Loop;
    }
    if (poolRequest_.ipcFd != ours) {
        // libfcgi accepted this one itself (after ours closed without a
        // request), without close-on-exec.
        ::fcntl(poolRequest_.ipcFd, F_SETFD, FD_CLOEXEC);
    }
    serveOne(poolRequest_);
    return Next::Loop;
}

void AcceptLoop::serveChannel()
{
    // With no listening socket of its own, a negative result only means
    // the bridge closed the connection (libfcgi has closed ours and found
    // nothing to accept on -1); the bridge reconnects when it needs to.
    if (FCGX_Accept_r(&channelRequest_) < 0) {
        dropConnection(channelRequest_);
        return;
    }
    serveOne(channelRequest_);
}

void AcceptLoop::acceptOnChannel()
{
    ChannelAccept accepted = acceptChannel(channelListener_.get());
    switch (accepted.result) {
    case ChannelAccept::Result::Connection:
        // The bridge connects again after it closed a connection to abort
        // a request; whatever the old one still holds is not wanted.
        dropConnection(channelRequest_);
        channelRequest_.ipcFd = accepted.connection.release();
        channelRequest_.keepConnection = 1;  // see acceptPool
        return;
    case ChannelAccept::Result::Refused:
        spdlog::warn("[pool {}] worker {}: refused a channel connection from pid {} (not the parent, pid {})",
                     pool_, pid_, accepted.peer, ::getppid());
        return;
    case ChannelAccept::Result::None:
        break;
    }
    switch (classifyAcceptError(accepted.error)) {
    case AcceptError::Retry:
        return;
    case AcceptError::Pause:
        spdlog::warn("[pool {}] worker {}: accept(2) on the channel: {}; retrying in 100ms", pool_, pid_,
                     std::strerror(accepted.error));
        waitReadable(stopWakeFd(), 100);
        return;
    case AcceptError::SocketGone:
        // Nobody else holds this socket, so this "cannot happen"; without
        // the channel the bridge uses the pool socket.
        spdlog::warn("[pool {}] worker {}: accept(2) on the channel: {}; closing the channel",
                     pool_, pid_, std::strerror(accepted.error));
        channelListener_.reset();
        return;
    }
}

void AcceptLoop::linger()
{
    // No more accepts: a connection the bridge tries now is refused at once
    // instead of waiting in the backlog for a worker that will not take it.
    channelListener_.reset();
    dropConnection(poolRequest_);
    // The daemon closes the channel when it tells the worker to stop, so
    // this normally ends at once; requests it had already sent are served.
    while (channelRequest_.ipcFd >= 0) {
        status_.stopping();
        if (!readableWithin(channelRequest_.ipcFd, manager::contract::kChannelLingerMs)) {
            spdlog::info("[pool {}] worker {}: no request on the channel for {}ms after the stop signal; "
                         "closing it",
                         pool_, pid_, manager::contract::kChannelLingerMs);
            dropConnection(channelRequest_);
            return;
        }
        serveChannel();
    }
}

void AcceptLoop::serveOne(FCGX_Request& request)
{
    // libfcgi keeps the FCGX_SetExitStatus of a cut-short response for every
    // later request of the process; each starts at 0.
    request.appStatus = 0;
    status_.requestStarted(request);
    serve_(request);
    drainStdin(request.in);
    if (!request.keepConnection && request.in != nullptr && FCGX_GetError(request.in) == 0) {
        // FCGI_STDIN was read to its end, so nothing the web server sent is
        // left unread and a plain close(2) loses nothing: skip libfcgi's
        // graceful close (shutdown(2), then select(2) and read(2) until the
        // web server closes first), which costs two system calls and a wait
        // for the web server per request. libfcgi closes without it for a
        // detached request.
        request.detached = 1;
    }
    FCGX_Finish_r(&request);
    status_.requestFinished();
}

}  // namespace

WorkerExit runAcceptLoop(int listenFd, manager::UniqueFd channelListener, const std::string& pool,
                         const ServeRequest& serve, WorkerStatus& status)
{
    return AcceptLoop(listenFd, std::move(channelListener), pool, serve, status).run();
}

}  // namespace pyfpm::worker
