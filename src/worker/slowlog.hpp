// The slowlog (manager/worker_contract.hpp kSlowlogSignal): on SIGUSR2 the
// worker appends the Python stack of its main thread to the --slowlog file,
// followed by a blank line. The manager sends the signal when a request
// runs past slowlog_timeout, after appending its own header line (pool,
// pid, method, URI, elapsed) to the same file.
//
// In-process, like faulthandler: no ptrace, so it works in containers. The
// request is not disturbed: the handler is installed with SA_RESTART, and
// CPython (installed without signal handlers, python_host.hpp) never sees
// the signal, so a time.sleep() or a socket read just goes on.
#pragma once

#include <string>

namespace pyfpm::worker {

// Opens `path` for appending (created 0640 if missing), close-on-exec.
// Returns the descriptor, or -1 with errno set.
int openSlowlog(const std::string& path);

// Owns the slowlog descriptor and the SIGUSR2 handler. Construct it on the
// main thread with the GIL held, after the interpreter started: it records
// the main thread's PyThreadState, whose stack the handler dumps.
//
// The handler is async-signal-safe: CPython's _Py_DumpTraceback (what
// faulthandler calls from its own handlers) writes with write(2) only. The
// kernel may deliver the signal to any thread of the process (the
// application may start its own); a thread other than the main one passes
// it on to the main thread with tgkill(2), so the main thread always reads
// its own frames, never frames another thread is changing.
class SlowlogHandler {
public:
    // `fd` = -1: no slowlog; SIGUSR2 is still caught (and ignored) so that
    // a stray one cannot kill a worker in the middle of a request.
    // Throws std::system_error (sigaction).
    explicit SlowlogHandler(int fd);
    // Disarms the handler (it stays installed and does nothing) and closes
    // the descriptor. Call before the interpreter is finalized: the
    // recorded thread state dies with it.
    ~SlowlogHandler();
    SlowlogHandler(const SlowlogHandler&) = delete;
    SlowlogHandler& operator=(const SlowlogHandler&) = delete;
};

}  // namespace pyfpm::worker
