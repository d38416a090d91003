#include "src/worker/accept_loop.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

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
// `revents` receives poll(2)'s events for `fd`.
Wake waitReadable(int fd, int timeoutMs, short* revents = nullptr)
{
    pollfd fds[2] = {{fd, POLLIN, 0}, {stopWakeFd(), POLLIN, 0}};
    for (;;) {
        const int ready = ::poll(fds, 2, timeoutMs);
        if (revents != nullptr) {
            *revents = fds[0].revents;
        }
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

WorkerExit runAcceptLoop(int listenFd, const std::string& pool, const ServeRequest& serve,
                         WorkerStatus& status)
{
    const auto pid = ::getpid();

    // Every idle worker of the pool polls the shared socket and all of them
    // wake for one connection; the losers must get EAGAIN from accept(2)
    // instead of blocking where only a connection could wake them. (The
    // accepted connections themselves stay blocking, as libfcgi needs.) This
    // also makes the accept inside FCGX_Accept_r, after a connection closes
    // without a request, return -EAGAIN instead of blocking.
    const int flags = ::fcntl(listenFd, F_GETFL);
    if (flags < 0 || ::fcntl(listenFd, F_SETFL, flags | O_NONBLOCK) < 0) {
        spdlog::error("[pool {}] worker {}: fcntl(2) O_NONBLOCK on the listening socket: {}; exiting",
                      pool, pid, std::strerror(errno));
        return WorkerExit::Internal;
    }

    sockaddr_storage address = {};
    socklen_t addressLength = sizeof address;
    const bool tcp = ::getsockname(listenFd, reinterpret_cast<sockaddr*>(&address), &addressLength) == 0 &&
                     (address.ss_family == AF_INET || address.ss_family == AF_INET6);

    FCGX_Request request;
    if (FCGX_InitRequest(&request, listenFd, 0) != 0) {
        spdlog::error("[pool {}] worker {}: FCGX_InitRequest failed; exiting", pool, pid);
        return WorkerExit::Internal;
    }

    WorkerExit exit = WorkerExit::Clean;
    const char* why = "stop signal";
    while (!stopRequested()) {
        // With FCGI_KEEP_CONN the web server sends the next request on the
        // same connection, and libfcgi serves one connection at a time.
        const bool kept = request.ipcFd >= 0;
        status.waiting();
        short events = 0;
        const Wake wake = waitReadable(kept ? request.ipcFd : listenFd, -1, &events);
        if (wake == Wake::Failed) {
            spdlog::error("[pool {}] worker {}: poll(2): {}; exiting", pool, pid, std::strerror(errno));
            exit = WorkerExit::Internal;
            break;
        }
        if (wake == Wake::Stop || (!kept && stopRequested())) {
            break;
        }
        if (!kept && (events & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            // A listening socket reports these only once shut down; a unix
            // one still answers accept(2) with EAGAIN, so do not ask it.
            spdlog::info("[pool {}] worker {}: the listening socket was shut down", pool, pid);
            why = "listening socket closed";
            break;
        }
        if (!kept) {
            // We accept rather than letting FCGX_Accept_r do it: its accept
            // and its 2 s wait for the first byte can be interrupted by a
            // signal, which drops the connection; here a stop signal only
            // ever interrupts poll(2).
            const int connection = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
            if (connection < 0) {
                const int error = errno;
                const AcceptError kind = classifyAcceptError(error);
                if (kind == AcceptError::Retry) {
                    continue;
                }
                if (kind == AcceptError::Pause) {
                    spdlog::warn("[pool {}] worker {}: accept(2): {}; retrying in 100ms", pool, pid,
                                 std::strerror(error));
                    waitReadable(stopWakeFd(), 100);
                    continue;
                }
                spdlog::info("[pool {}] worker {}: accept(2): {}; the listening socket is gone",
                             pool, pid, std::strerror(error));
                why = "listening socket closed";
                break;
            }
            if (tcp) {
                // Responses are written in few large pieces; Nagle would
                // only hold back the last one.
                const int noDelay = 1;
                ::setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &noDelay, sizeof noDelay);
            }
            request.ipcFd = connection;
            // FCGX_Accept_r starts with FCGX_Finish_r, which closes ipcFd
            // unless the previous request asked to keep its connection.
            // FCGI_BEGIN_REQUEST overwrites the flag with the real one.
            request.keepConnection = 1;
            // libfcgi's read of FCGI_BEGIN_REQUEST blocks where no stop
            // signal reaches it; a client that connects and stays silent
            // must not keep a stopping worker alive. But a connection this
            // worker accepted is a request the client has sent or is
            // sending: a stop arriving now (a recycle, a reload) must not
            // drop it, so the first byte gets a bounded grace.
            if (!awaitFirstByte(connection)) {
                break;
            }
        }

        const int ours = request.ipcFd;
        const int accepted = FCGX_Accept_r(&request);
        if (accepted < 0) {
            // The connection closed before a request (or after the last one
            // on a kept connection); libfcgi then tried the non-blocking
            // listening socket itself and found nothing.
            const AcceptError kind = classifyAcceptError(-accepted);
            if (accepted <= -9998 || kind == AcceptError::SocketGone) {
                spdlog::info("[pool {}] worker {}: FCGX_Accept_r: {}; the listening socket is gone",
                             pool, pid, accepted > -9998 ? std::strerror(-accepted) : "library error");
                why = "listening socket closed";
                break;
            }
            continue;
        }

        if (request.ipcFd != ours) {
            // libfcgi accepted this one itself (after ours closed without a
            // request), without close-on-exec.
            ::fcntl(request.ipcFd, F_SETFD, FD_CLOEXEC);
        }
        // libfcgi keeps the FCGX_SetExitStatus of a cut-short response for
        // every later request of the process; each starts at 0.
        request.appStatus = 0;
        status.requestStarted(request);
        serve(request);
        drainStdin(request.in);
        FCGX_Finish_r(&request);
        status.requestFinished();
    }
    status.stopping();
    if (request.ipcFd >= 0) {
        // An idle kept connection, or one that never sent a request: nothing
        // is unread, so skip libfcgi's close, which waits up to 2 s for the
        // web server to close first.
        ::close(request.ipcFd);
        request.ipcFd = -1;
    }
    FCGX_Free(&request, 1);
    spdlog::info("[pool {}] worker {}: exiting after {} requests ({})", pool, pid, status.requests(), why);
    return exit;
}

}  // namespace pyfpm::worker
