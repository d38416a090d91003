// The daemon's HTTP bridge: listeners on every http.listen address, one
// ClientConnection (connection.hpp) per client, routing by longest prefix
// (router.hpp) to static roots (static_responder.hpp) or to pools
// (exchange.hpp), the limits of pyfpm.yaml(5) (max_body_size → 413,
// max_connections → 503), the access log, and the bookkeeping a graceful
// stop needs.
//
// Threading: everything, including construction and destruction, runs on the
// thread that runs `base` (the daemon's single event loop).
//
// The daemon must ignore SIGPIPE: libevent writes to sockets with writev(2),
// and a client or worker that went away would otherwise kill the process.
#pragma once

#include <event2/event.h>
#include <event2/listener.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/http/access_log.hpp"
#include "src/pyfpm/http/channels.hpp"
#include "src/pyfpm/http/connection.hpp"
#include "src/pyfpm/http/daemon_paths.hpp"
#include "src/pyfpm/http/exchange.hpp"
#include "src/pyfpm/http/libevent_ptr.hpp"
#include "src/pyfpm/http/mime_types.hpp"
#include "src/pyfpm/http/pool_directory.hpp"
#include "src/pyfpm/http/router.hpp"
#include "src/pyfpm/http/status_source.hpp"
#include "src/pyfpm/http/upstream.hpp"

namespace pyfpm::http {

// The parts of a request-target (RFC 9112 §3.2): origin-form "/p?q" or
// absolute-form "http://host/p?q". Views into the target.
struct TargetParts {
    bool valid = false;
    std::string_view path;   // "/" when the absolute form has none
    std::string_view query;  // without '?'
    bool hasQuery = false;
};

// What the configuration file does not say. Limits and timeouts come from
// http.* (config::HttpConfig).
struct ServerOptions {
    std::size_t clientHighWater = 256 * 1024;      // see ExchangeSettings
    std::size_t maxResponseHeadBytes = 64 * 1024;  // CGI head from a worker
    int listenBacklog = 511;                       // as nginx
    std::string serverSoftware;  // SERVER_SOFTWARE; empty: "pyfpm/<version>"
    std::filesystem::path mimeTypes = MimeTypes::kSystemTable;
    // What the status paths show; must outlive the Server. Null: the
    // status page lists no pool.
    const StatusSource* statusSource = nullptr;
};

class Server final : private ExchangeHost, private ConnectionOwner {
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

    // Reload: takes the routes, limits, pool addresses and listen addresses
    // of `config`. New addresses are bound first, addresses no longer named
    // are released (connections already accepted on them are served);
    // requests in flight keep what they started with. Returns false with
    // `error` and changes nothing when a pool address does not resolve or a
    // new address cannot be bound. Not after stopAccepting().
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
    // to the client's socket buffer, or the client gone).
    std::size_t inFlight() const;
    // Open client connections.
    std::size_t connections() const { return connections_.size(); }

    // The manager's news of the workers' private channels
    // (manager/channel_listener.hpp, channels.hpp): requests to `pool` go
    // to its idle workers' channels, and wait for one when all are busy.
    void workerReady(const std::string& pool, pid_t pid, const std::string& channel);
    void workerLeaving(const std::string& pool, pid_t pid);
    // Requests waiting for a channel of `pool`.
    std::size_t queuedFor(const std::string& pool) const;

private:
    struct PoolTarget {
        UpstreamAddress address;
        std::chrono::milliseconds requestTimeout{60'000};
        std::string documentRoot;
        manager::PoolKind kind = manager::PoolKind::App;
        std::vector<std::string> scriptExtensions;  // PoolKind::Scripts
    };
    struct ListenerFree {
        void operator()(evconnlistener* listener) const { evconnlistener_free(listener); }
    };
    struct Listener {
        Server* server = nullptr;
        bool status = false;  // http.status_listen: the daemon's paths only
        std::unique_ptr<evconnlistener, ListenerFree> socket;
        config::HttpListen configured;  // as written in the file
        config::HttpListen address;     // as bound (port 0 resolved)
    };
    struct Client {
        std::unique_ptr<ClientConnection> connection;
        bool status = false;           // accepted on status_listen
        bool inFlight = false;         // a request is being answered
        AccessRecord access;           // filled as the request goes
    };

    static void onAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr* address, int length,
                         void* context);
    static void onAcceptError(evconnlistener* listener, void* context);
    static void onResumeAccept(evutil_socket_t, short, void* self);
    static void onReap(evutil_socket_t, short, void* self);
    static void onDrained(evutil_socket_t, short, void* self);

    void accept(evutil_socket_t fd, bool status);
    void refuseConnection(evutil_socket_t fd);
    void handle(ClientConnection& connection, bool statusListener);
    void serveStatic(ClientConnection& connection, const TargetParts& target, const RouteMatch& match,
                     const std::string& path, const std::string& logName);
    void proxy(ClientConnection& connection, const TargetParts& target, const std::string& pool,
               const RouteMatch& match, const std::string& path, const std::string& logName);
    void logAccess(const Client& client, int status, std::uint64_t bodyBytes);
    bool openAccessLog(const config::HttpConfig* http, std::unique_ptr<AccessLog>& log, std::string& error) const;
    bool reconfigureStatusListen(const std::optional<config::HttpListen>& address, std::string& error);
    void applyLimits(const config::HttpConfig* http);
    void checkDrained();
    bool bindOne(const config::HttpListen& address, bool status,
                 std::vector<std::unique_ptr<Listener>>& into, std::string& error);
    static bool resolveTargets(const Router& router, const std::vector<manager::PoolConfig>& pools,
                               std::unordered_map<std::string, PoolTarget>& targets,
                               std::string& error);

    // ExchangeHost
    event_base* base() const override { return base_; }
    void retire(Exchange* exchange) override;
    void noteUpstream(ClientConnection& connection, const UpstreamNote& note) override;

    // ConnectionOwner
    void onRequest(ClientConnection& connection) override;
    void onResponseEnd(ClientConnection& connection, int status, std::uint64_t bodyBytes) override;
    void onConnectionClosed(ClientConnection& connection) override;
    bool closingConnections() const override { return stopping_; }

    event_base* base_;
    const PoolDirectory& pools_;
    // Per pool name; destroyed after every Exchange (the destructor).
    std::unordered_map<std::string, std::unique_ptr<WorkerChannels>> channels_;
    ServerOptions options_;
    std::vector<config::HttpListen> listen_addresses_;
    std::vector<manager::PoolConfig> pool_configs_;
    Router router_;
    MimeTypes mime_types_;
    ConnectionLimits limits_;
    std::uint64_t max_body_size_ = 0;  // 0: no bound
    int max_connections_ = 512;
    std::vector<config::Cidr> trusted_proxies_;
    std::filesystem::path body_temp_path_;
    std::optional<config::HttpListen> status_listen_;
    DaemonPaths daemon_paths_;
    std::unique_ptr<AccessLog> access_log_;
    std::optional<config::HttpConfig> access_config_;  // access_log and its format
    EventPtr reap_event_;
    EventPtr drained_event_;
    EventPtr resume_accept_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::vector<std::unique_ptr<Listener>> status_listeners_;  // 0 or 1
    std::unordered_map<std::string, PoolTarget> pool_targets_;
    std::unordered_map<ClientConnection*, Client> connections_;
    std::unordered_map<Exchange*, std::unique_ptr<Exchange>> exchanges_;
    std::vector<std::unique_ptr<Exchange>> retired_;
    std::vector<std::unique_ptr<ClientConnection>> closed_;
    std::function<void()> drained_;
    std::chrono::steady_clock::time_point last_refusal_log_{};
    bool stopping_ = false;
};

}  // namespace pyfpm::http
