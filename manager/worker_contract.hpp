// The contract between the daemon and pyfpm-worker: which descriptors a
// worker inherits, how it says it is ready, and what its exit codes mean.
// Documented for users in pyfpm(8), "WORKER CONTRACT".
#pragma once

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

// pyfpm-worker's exit statuses. Anything else (or a signal) is a crash.
enum class WorkerExit : int {
    Clean = 0,       // finished after SIGTERM, or the listening socket closed
    Internal = 1,    // the interpreter could not start, or an internal error
    Usage = 2,       // bad command line
    AppImport = 3,   // `module:callable` could not be imported or resolved
    NotASocket = 4,  // descriptor 0 is not a listening socket
};

}  // namespace pyfpm::manager::contract
