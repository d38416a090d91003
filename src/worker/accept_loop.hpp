// The worker's FastCGI accept loop: one connection, one request at a time,
// on the pool's listening socket (FastCGI 1.0 §2.2) and on the bridge's
// private channel, with libfcgi's FCGX_Accept_r reading each request.
#pragma once

#include <fcgiapp.h>

#include <functional>
#include <string>

#include "manager/unique_fd.hpp"
#include "manager/worker_contract.hpp"
#include "src/worker/worker_status.hpp"

namespace pyfpm::worker {

// Checks that `fd` is a listening stream socket; returns "" when it is,
// otherwise why not ("descriptor 0 is not a socket").
std::string checkListenSocket(int fd);

// Moves the listening socket off descriptor 0 to a close-on-exec
// descriptor and puts /dev/null on 0, so that sys.stdin reads EOF and the
// application's subprocesses do not inherit the pool socket; also opens
// /dev/null on descriptors 1 and 2 if they are closed. Returns the new
// descriptor. Throws std::system_error.
int adoptListenSocket(int fd);

// Called once per request, after FCGX_Accept_r has read FCGI_BEGIN_REQUEST
// and FCGI_PARAMS. It writes the response to request.out and must not
// throw. The loop itself drains unread FCGI_STDIN and calls FCGX_Finish_r
// afterwards.
using ServeRequest = std::function<void(FCGX_Request& request)>;

// Serves requests on `listenFd` (made non-blocking here; see the .cpp)
// and, when `channelListener` is a socket (see channel.hpp; an empty one
// means none), on the one kept connection of the parent's bridge
// (manager/worker_contract.hpp, "The bridge's channel"), until a stop
// signal (stop_signal.hpp) or until the pool socket is shut down. Takes
// ownership of `channelListener` and closes it once stopping.
//
// Order when several are ready: a request on the kept channel connection,
// then a new channel connection (which replaces the kept one; only the
// parent's is taken, others are closed and logged), then the pool socket.
// A stop lets the request in progress finish and ends all accepts; a kept
// channel connection is then served until the parent closes it or
// contract::kChannelLingerMs pass without a request.
//
// Requires FCGX_Init and installStopHandlers first. Runs on the main
// thread; `serve` is called on it too. `status` hears each step (waiting,
// request started and finished, stopping): Idle, Busy, Idle... then
// Draining in the scoreboard. A stop signal that arrives during a request
// shows as Draining once that request is finished (a signal handler must
// not write the slot: it could land in the middle of the main thread's own
// write). Returns WorkerExit::Clean, or WorkerExit::Internal when poll(2)
// fails. Every failure is logged with `pool` and the pid.
manager::contract::WorkerExit runAcceptLoop(int listenFd, manager::UniqueFd channelListener,
                                            const std::string& pool, const ServeRequest& serve,
                                            WorkerStatus& status);

}  // namespace pyfpm::worker
