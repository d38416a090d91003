// The contract between the daemon and pyfpm-worker: which descriptors a
// worker inherits, how it says it is ready, and what its exit codes mean.
// Documented for users in pyfpm(8), "WORKER CONTRACT".
#pragma once

#include <csignal>

namespace pyfpm::manager::contract {

// FastCGI 1.0 §2.2: the listening socket arrives as descriptor 0
// (FCGI_LISTENSOCK_FILENO), as spawn-fcgi and php-fpm hand it over.
inline constexpr int kListenFd = 0;

// A pipe's write end. The worker writes kReadyMessage once its application is
// imported, just before its first accept(), and keeps the fd open until it
// exits. Passed as `--notify-fd 3`; a worker started by hand without the flag
// notifies nobody.
inline constexpr int kNotifyFd = 3;
inline constexpr char kReadyMessage[] = "ready\n";
// Also on the notify pipe: a worker that reached its request limit
// (`--max-requests N`) or whose RSS after a request exceeds `--max-rss
// BYTES` writes "recycle max_requests 1000\n" or "recycle max_rss
// 123456789\n" once, and keeps serving: the manager spawns its replacement
// first and then sends SIGTERM (the current request finishes).
inline constexpr char kRecyclePrefix[] = "recycle ";

// The bridge's channel. A worker given a notify descriptor also listens on
// a unix socket of its own, in the abstract namespace with a name the
// kernel picks (autobind, unix(7)), and names it in its ready line:
// "ready @NAME\n", NAME being the autobound name without its leading NUL
// (five hex digits on Linux). The daemon's HTTP bridge connects there and
// keeps the connection: FastCGI requests with FCGI_KEEP_CONN, one after
// another (FastCGI 1.0 §3.5), so no connect, accept and close per request,
// and the bridge knows which worker is idle. The worker:
//   - accepts there only its parent (SO_PEERCRED pid == getppid()): an
//     abstract socket has no file permissions to guard it;
//   - keeps one channel connection; a new one replaces the old (the bridge
//     reconnects after it closed one to abort a request);
//   - serves a request waiting on the channel before a new connection of
//     the pool socket;
//   - on SIGTERM finishes its request, stops accepting on both sockets, and
//     serves the channel until the daemon closes it, or until
//     kChannelLingerMs pass without a request; then exits.
// A plain "ready\n" (a worker without the channel) is valid too: the bridge
// then connects to the pool socket per request.
inline constexpr char kReadyChannelPrefix[] = "ready @";
inline constexpr int kChannelLingerMs = 1000;

// The scoreboard (manager/scoreboard.hpp), with `--scoreboard-fd 4 --slot
// N`. A worker started by hand without them keeps no scoreboard.
inline constexpr int kScoreboardFd = 4;

// `--slowlog FILE`: on SIGUSR2 the worker appends the Python stack of its
// main thread to FILE (faulthandler-style, from the signal handler); the
// manager sends it when a request runs past slowlog_timeout, after writing
// the header line (pool, pid, method, URI, elapsed) to the same file.
inline constexpr int kSlowlogSignal = SIGUSR2;

// pyfpm-worker's exit statuses. Anything else (or a signal) is a crash.
enum class WorkerExit : int {
    Clean = 0,       // finished after SIGTERM, or the listening socket closed
    Internal = 1,    // the interpreter could not start, or an internal error
    Usage = 2,       // bad command line
    AppImport = 3,   // `module:callable` could not be imported or resolved
    NotASocket = 4,  // descriptor 0 is not a listening socket
};

}  // namespace pyfpm::manager::contract
