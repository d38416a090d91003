// The bridge's channel, the worker's side (manager/worker_contract.hpp, "The
// bridge's channel"): a private unix listener in the abstract namespace,
// named by the kernel (autobind, unix(7)) and announced in the ready line,
// on which only the worker's parent, the daemon, may connect.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <variant>

#include "manager/unique_fd.hpp"

namespace pyfpm::worker {

// The channel's listening socket: non-blocking and close-on-exec, so the
// application's subprocesses do not inherit it and a poll(2) that wakes for
// a connection another call already took cannot block the worker.
struct ChannelListener {
    manager::UniqueFd fd;
    // The autobound name without its leading NUL: five hex digits on Linux.
    std::string name;
};

// socket(2), bind(2) with autobind, listen(2) and getsockname(2). On
// failure returns why, naming the system call and strerror ("bind(2)
// autobind: Address already in use"); the caller logs it and serves
// without a channel.
std::variant<ChannelListener, std::string> openChannelListener();

// "ready @NAME\n" (contract::kReadyChannelPrefix).
std::string channelReadyMessage(std::string_view name);

// What accepting one connection on the channel listener gave.
struct ChannelAccept {
    enum class Result {
        Connection,  // `connection` is the parent's: blocking, close-on-exec
        Refused,     // a connection from another process, already closed
        None,        // accept(2) failed; `error` holds errno
    };
    Result result = Result::None;
    manager::UniqueFd connection;
    pid_t peer = -1;  // the peer's pid for Connection and Refused (-1 if unknown)
    int error = 0;
};

// accept4(2) on `listenFd`, then the peer check: SO_PEERCRED's pid must be
// getppid(), since an abstract socket has no file permissions to keep
// other local users out. The accepted socket is blocking, as libfcgi's
// reads and writes need. Logs nothing: the caller names pool and pid.
ChannelAccept acceptChannel(int listenFd);

}  // namespace pyfpm::worker
