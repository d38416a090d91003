// The daemon's HTTP bridge: evhttp listeners on every http.listen address,
// routing by longest prefix (router.hpp) to static roots (static_files.hpp)
// or to pools (exchange.hpp), and the bookkeeping a graceful stop needs.
//
// Threading: everything, including construction and destruction, runs on the
// thread that runs `base` (the daemon's single event loop).
//
// The daemon must ignore SIGPIPE: libevent writes to sockets with writev(2),
// and a client or worker that went away would otherwise kill the process.
//
// Limits (for the manual pages): evhttp reads a request body whole before
// the request is routed, so a body is held in memory up to maxBodyBytes
// (evhttp answers 413 beyond it); streaming uploads with bounded memory are
// later work. Request heads are bounded by maxHeaderBytes (evhttp answers
// 400 beyond it). Methods are the nine evhttp parses (GET, HEAD, POST, PUT,
// DELETE, OPTIONS, TRACE, CONNECT, PATCH); evhttp answers others 501.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/http/access_log.hpp"
#include "src/pyfpm/http/daemon_paths.hpp"
#include "src/pyfpm/http/exchange.hpp"
#include "src/pyfpm/http/libevent_ptr.hpp"
#include "src/pyfpm/http/mime_types.hpp"
#include "src/pyfpm/http/pool_directory.hpp"
#include "src/pyfpm/http/router.hpp"
#include "src/pyfpm/http/status_source.hpp"
#include "src/pyfpm/http/upstream.hpp"

namespace pyfpm::http {

struct ServerOptions {
    std::size_t maxBodyBytes = 64 * 1024 * 1024;   // request body; 413 beyond
    std::size_t maxHeaderBytes = 64 * 1024;        // request line + headers
    std::size_t clientHighWater = 256 * 1024;      // see ExchangeSettings
    std::size_t maxResponseHeadBytes = 64 * 1024;  // CGI head from a worker
    // Idle keep-alive connections and clients that stop reading are closed
    // after this (evhttp's read/write timeout).
    std::chrono::seconds clientTimeout{60};
    int listenBacklog = 511;                       // as nginx
    std::string serverSoftware;  // SERVER_SOFTWARE; empty: "pyfpm/<version>"
    std::filesystem::path mimeTypes = MimeTypes::kSystemTable;
    // What the status paths show; must outlive the Server. Null: the
    // status page lists no pool.
    const StatusSource* statusSource = nullptr;
};

class Server final : private ExchangeHost {
public:
    // `config.http` must be set. `pools` answers for pool routes and must
    // outlive the Server. Nothing is bound until listen().
    Server(event_base* base, const config::Config& config, const PoolDirectory& pools,
           ServerOptions options = {});
    // Drops what is in flight (a worker sees its connection close, a client
    // its connection close) and frees every libevent object; the event loop
    // may keep running or be freed afterwards.
    ~Server() override;
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds every http.listen address and http.status_listen (SO_REUSEADDR;
    // IPv6 addresses IPV6_V6ONLY; a name binds its first address), opens
    // http.access_log, and resolves each pool's socket address. Port 0 binds
    // an ephemeral port (see listening()). An access log that cannot be
    // opened fails like an address that cannot be bound.
    // Returns false with `error` naming the address, the call and strerror
    // ("bind(2) 127.0.0.1:8080: Address already in use") or the route and
    // pool at fault; nothing stays bound then.
    [[nodiscard]] bool listen(std::string& error);

    // Reload: takes the routes, pool addresses and listen addresses of
    // `config`. New addresses are bound first, addresses no longer named are
    // released (connections already accepted on them are served); requests
    // in flight keep what they started with. Returns false with `error` and
    // changes nothing when a pool address does not resolve or a new address
    // cannot be bound. Not after stopAccepting().
    [[nodiscard]] bool reconfigure(const config::Config& config, std::string& error);

    // The bound addresses, ports as bound.
    std::vector<config::HttpListen> listening() const;
    // http.status_listen as bound; nullopt when not configured.
    std::optional<config::HttpListen> statusListening() const;

    // SIGUSR1: opens the access log file again under its name (a rotation
    // renamed it). True when there is none or it reopened; false with
    // `error` when it could not be opened (lines keep going to the old file).
    [[nodiscard]] bool reopenAccessLog(std::string& error);

    // Graceful stop, step one: closes the listening sockets so no new
    // connection is accepted, and answers every later request on an open
    // keep-alive connection with `Connection: close`. `drained` runs once,
    // from the event loop, when no request is in flight (on the next loop
    // iteration if none is now). The daemon then destroys the Server, or
    // destroys it earlier when its stop timeout expires.
    void stopAccepting(std::function<void()> drained = {});

    // Requests received and not yet answered completely (response written
    // to the client's socket, or the client gone).
    std::size_t inFlight() const { return in_flight_.size(); }

private:
    struct PoolTarget {
        UpstreamAddress address;
        std::chrono::milliseconds requestTimeout{60'000};
        std::string documentRoot;
    };
    struct InFlight {
        evhttp_request* request = nullptr;
        Exchange* exchange = nullptr;  // set while a pool request is proxied
        AccessRecord access;           // filled as the request goes
    };
    struct Listener {
        evhttp_bound_socket* socket = nullptr;
        config::HttpListen configured;  // as written in the file
        config::HttpListen address;     // as bound (port 0 resolved)
    };

    static void onRequest(evhttp_request* request, void* self);
    static void onStatusRequest(evhttp_request* request, void* self);
    static void onComplete(evhttp_request* request, void* self);
    static void onConnectionClose(evhttp_connection* connection, void* self);
    static void onReap(evutil_socket_t, short, void* self);
    static void onDrained(evutil_socket_t, short, void* self);

    void handle(evhttp_request* request, bool statusListener);
    void begin(evhttp_request* request);
    void logAccess(const InFlight& record, evhttp_request* request, int status);
    bool openAccessLog(const config::HttpConfig* http, std::unique_ptr<AccessLog>& log, std::string& error) const;
    bool reconfigureStatusListen(const std::optional<config::HttpListen>& address, std::string& error);
    void proxy(evhttp_request* request, const RouteMatch& match, const std::string& path,
               std::string_view logName);
    void release(evhttp_connection* connection);
    void checkDrained();
    bool bindOne(const config::HttpListen& address, evhttp* http, std::vector<Listener>& into,
                 std::string& error);
    static bool resolveTargets(const Router& router, const std::vector<manager::PoolConfig>& pools,
                               std::unordered_map<std::string, PoolTarget>& targets,
                               std::string& error);

    // ExchangeHost
    event_base* base() const override { return base_; }
    void detach(evhttp_connection* connection) override;
    void retire(Exchange* exchange) override;
    Exchange* exchangeFor(evhttp_connection* connection) const override;
    bool closingConnections() const override { return stopping_; }
    void noteUpstream(evhttp_connection* connection, const UpstreamNote& note) override;

    event_base* base_;
    const PoolDirectory& pools_;
    ServerOptions options_;
    std::vector<config::HttpListen> listen_addresses_;
    std::vector<manager::PoolConfig> pool_configs_;
    Router router_;
    MimeTypes mime_types_;
    EvhttpPtr http_;
    // http.status_listen: its own evhttp, which answers the daemon's paths
    // and nothing else. Null when not configured.
    EvhttpPtr status_http_;
    std::vector<Listener> status_listeners_;  // 0 or 1
    std::optional<config::HttpListen> status_listen_;
    DaemonPaths daemon_paths_;
    std::unique_ptr<AccessLog> access_log_;
    std::optional<config::HttpConfig> access_config_;  // access_log and its format
    EventPtr reap_event_;
    EventPtr drained_event_;
    std::vector<Listener> listeners_;
    std::unordered_map<std::string, PoolTarget> pool_targets_;
    std::unordered_map<evhttp_connection*, InFlight> in_flight_;
    std::unordered_map<Exchange*, std::unique_ptr<Exchange>> exchanges_;
    std::vector<std::unique_ptr<Exchange>> retired_;
    std::function<void()> drained_;
    bool stopping_ = false;
};

}  // namespace pyfpm::http
