// Graceful stop: SIGTERM (what the manager sends, and what
// PR_SET_PDEATHSIG delivers when the daemon dies), SIGINT (a terminal) and
// SIGUSR1 (libfcgi's own "finish and exit" signal) all mean "finish the
// current request, then exit 0".
//
// The handlers only record the signal and make a descriptor readable; they
// are installed with SA_RESTART so a request's socket I/O inside libfcgi,
// which does not retry on EINTR, is never cut short. The accept loop waits
// with poll(2) on that descriptor next to its sockets, so a stop that
// arrives while idle is seen at once and no signal can slip in between
// "check the flag" and "block".
#pragma once

namespace pyfpm::worker {

// Installs the handlers, replacing those FCGX_Init put on SIGTERM and
// SIGUSR1; call it after FCGX_Init. Also sets SIGPIPE to SIG_IGN so a
// client that goes away turns into EPIPE. Throws std::system_error.
void installStopHandlers();

// True once a stop signal has arrived. Async-signal-safe.
bool stopRequested();

// Becomes readable (POLLIN) once a stop signal has arrived; owned by this
// module, close-on-exec, never closed.
int stopWakeFd();

}  // namespace pyfpm::worker
