// The control socket (pyfpmctl(8)): a unix socket, mode 0600, on the
// daemon's libevent loop. Each connection sends request lines and gets one
// answer line per request, in order; a request is handed to the Handler
// only after the previous one on that connection was answered.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "src/pyfpm/control/protocol.hpp"

struct event_base;

namespace pyfpm::control {

class Server {
public:
    // Answers a request. Call it once, from the loop's thread, at once or
    // later; it may outlive the connection and the Server (the answer is
    // then dropped). `afterSent`, if set, runs once the answer has been
    // written to the socket (or the connection is gone).
    using Reply = std::function<void(const nlohmann::json& answer, std::function<void()> afterSent)>;
    using Handler = std::function<void(const Request& request, Reply reply)>;

    // Creates the socket at `path` like a pool's (manager::ListenSocket):
    // refuses when a live process listens there, replaces a stale socket
    // file; the file gets mode 0600, so only the daemon's user (and root)
    // can connect. Throws manager::ListenError, or std::runtime_error when
    // libevent cannot watch it. `base` must outlive the Server.
    Server(event_base* base, const std::filesystem::path& path, Handler handler);
    // Closes every connection (a request in flight gets no answer) and
    // removes the socket file.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    const std::filesystem::path& path() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace pyfpm::control
