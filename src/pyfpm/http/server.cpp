#include "src/pyfpm/http/server.hpp"

#include <http_parser.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "src/pyfpm/http/ascii.hpp"
#include "src/pyfpm/http/cgi_params.hpp"
#include "src/pyfpm/http/real_ip.hpp"
#include "src/pyfpm/http/reply.hpp"
#include "src/pyfpm/http/request_path.hpp"
#include "src/pyfpm/http/script_path.hpp"
#include "src/pyfpm/http/static_responder.hpp"

namespace pyfpm::http {

namespace {

TargetParts splitTarget(std::string_view target, bool connect) {
    TargetParts parts;
    if (target.empty() || connect) return parts;
    if (target.front() == '/') {
        const std::size_t question = target.find('?');
        parts.path = target.substr(0, question);
        if (question != std::string_view::npos) {
            parts.hasQuery = true;
            parts.query = target.substr(question + 1);
            const std::size_t hash = parts.query.find('#');
            if (hash != std::string_view::npos) parts.query = parts.query.substr(0, hash);
        }
        parts.valid = true;
        return parts;
    }
    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(target.data(), target.size(), 0, &url) != 0) return parts;
    if ((url.field_set & (1 << UF_SCHEMA)) == 0 || (url.field_set & (1 << UF_HOST)) == 0) return parts;
    parts.path = (url.field_set & (1 << UF_PATH)) != 0
                     ? target.substr(url.field_data[UF_PATH].off, url.field_data[UF_PATH].len)
                     : std::string_view("/");
    if ((url.field_set & (1 << UF_QUERY)) != 0) {
        parts.hasQuery = true;
        parts.query = target.substr(url.field_data[UF_QUERY].off, url.field_data[UF_QUERY].len);
    }
    parts.valid = true;
    return parts;
}

std::filesystem::path defaultTempPath() {
    const char* tmp = std::getenv("TMPDIR");
    return tmp != nullptr && *tmp == '/' ? std::filesystem::path(tmp) : std::filesystem::path("/tmp");
}

}  // namespace

Server::Server(event_base* base, const config::Config& config, const PoolDirectory& pools,
               ServerOptions options)
    : base_(base),
      pools_(pools),
      options_(std::move(options)),
      listen_addresses_(config.http ? config.http->listen : std::vector<config::HttpListen>{}),
      pool_configs_(config.pools),
      router_(config.http ? config.http->routes : std::vector<config::Route>{}),
      mime_types_(MimeTypes::load(options_.mimeTypes)),
      reap_event_(event_new(base, -1, 0, &Server::onReap, this)),
      drained_event_(event_new(base, -1, 0, &Server::onDrained, this)),
      resume_accept_(evtimer_new(base, &Server::onResumeAccept, this)) {
    if (config.http) {
        daemon_paths_ = DaemonPaths::from(*config.http);
        status_listen_ = config.http->status_listen;
        access_config_ = config.http;
    }
    applyLimits(config.http ? &*config.http : nullptr);
}

void Server::applyLimits(const config::HttpConfig* http) {
    const config::HttpConfig defaults;
    const config::HttpConfig& source = http != nullptr ? *http : defaults;
    limits_.maxHeaderBytes = static_cast<std::size_t>(source.max_header_size);
    limits_.headerTimeout = source.client_header_timeout;
    limits_.bodyTimeout = source.client_body_timeout;
    limits_.sendTimeout = source.send_timeout;
    limits_.keepaliveTimeout = source.keepalive_timeout;
    limits_.clientHighWater = options_.clientHighWater;
    max_body_size_ = source.max_body_size;
    max_connections_ = source.max_connections;
    trusted_proxies_ = source.trusted_proxies;
    body_temp_path_ = source.client_body_temp_path.empty() ? defaultTempPath() : source.client_body_temp_path;
}

Server::~Server() {
    stopping_ = true;
    drained_ = nullptr;
    for (auto& [raw, exchange] : exchanges_) exchange->abandon();
    listeners_.clear();
    status_listeners_.clear();
    connections_.clear();
    closed_.clear();
    exchanges_.clear();
    retired_.clear();
    channels_.clear();
    reap_event_.reset();
    drained_event_.reset();
    resume_accept_.reset();
}

std::size_t Server::inFlight() const {
    return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                  [](const auto& entry) { return entry.second.inFlight; }));
}

// --- accepting -------------------------------------------------------------

void Server::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* context) {
    auto* listener = static_cast<Listener*>(context);
    listener->server->accept(fd, listener->status);
}

void Server::accept(evutil_socket_t fd, bool status) {
    if (static_cast<int>(connections_.size()) >= max_connections_) {
        refuseConnection(fd);
        return;
    }
    ConnectionOwner& owner = *this;
    auto connection = std::make_unique<ClientConnection>(base_, fd, owner, limits_);
    ClientConnection* raw = connection.get();
    Client& client = connections_[raw];
    client.connection = std::move(connection);
    client.status = status;
}

void Server::refuseConnection(evutil_socket_t fd) {
    // Over max_connections: a short answer written straight to the new
    // socket (its buffer is empty, so it fits), then closed.
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 40\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        "503 Service Unavailable: too many clients";
    const ssize_t ignored = ::send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log_ >= std::chrono::seconds(1)) {
        last_refusal_log_ = now;
        spdlog::warn("[http] max_connections ({}) reached: new connections are answered 503",
                     max_connections_);
    }
}

void Server::onAcceptError(evconnlistener*, void* context) {
    auto* server = static_cast<Listener*>(context)->server;
    const int error = EVUTIL_SOCKET_ERROR();
    spdlog::error("[http] accept(2): {}; pausing new connections for 1s", std::strerror(error));
    for (const auto& listener : server->listeners_) evconnlistener_disable(listener->socket.get());
    for (const auto& listener : server->status_listeners_) evconnlistener_disable(listener->socket.get());
    const timeval second{1, 0};
    evtimer_add(server->resume_accept_.get(), &second);
}

void Server::onResumeAccept(evutil_socket_t, short, void* self) {
    auto* server = static_cast<Server*>(self);
    if (server->stopping_) return;
    for (const auto& listener : server->listeners_) evconnlistener_enable(listener->socket.get());
    for (const auto& listener : server->status_listeners_) evconnlistener_enable(listener->socket.get());
}

// --- requests --------------------------------------------------------------

void Server::onRequest(ClientConnection& connection) {
    const auto found = connections_.find(&connection);
    if (found == connections_.end()) return;
    Client& client = found->second;
    client.inFlight = true;
    const Request& request = connection.request();
    AccessRecord& access = client.access;
    access = AccessRecord{};
    if (access_log_) {
        access.receivedWall = std::chrono::system_clock::now();
        access.received = connection.requestStarted();
        access.remoteAddr = connection.peer().address;
        access.method = request.method;
        access.uri = request.target;
        access.protocol = request.protocol();
        const std::string* host = request.header("Host");
        access.host = host != nullptr ? *host : "";
        const std::string* referer = request.header("Referer");
        access.referer = referer != nullptr ? *referer : "";
        const std::string* agent = request.header("User-Agent");
        access.userAgent = agent != nullptr ? *agent : "";
    }
    handle(connection, client.status);
}

void Server::handle(ClientConnection& connection, bool statusListener) {
    const Request& request = connection.request();
    const std::string logName = describeRequest(request.method, request.target);
    const TargetParts target = splitTarget(request.target, request.method == "CONNECT");
    if (!target.valid) {
        spdlog::info("[http] {}: 400: not an origin-form or absolute-form request target", logName);
        connection.sendText(400, "400 Bad Request\n");
        return;
    }
    const DecodedPath decoded = decodeRequestPath(target.path);
    if (decoded.error != PathError::None) {
        spdlog::info("[http] {}: 400: {}", logName, toString(decoded.error));
        connection.sendText(400, "400 Bad Request\n");
        return;
    }
    // The daemon's own paths: on status_listen when there is one, else on
    // every listener, ahead of the routes.
    if (statusListener || !status_listen_) {
        if (answerDaemonPath(connection, decoded.path, target.query, daemon_paths_, options_.statusSource)) {
            return;
        }
    }
    if (statusListener) {
        connection.sendText(404, "404 Not Found\n");
        return;
    }
    const RouteMatch match = router_.match(decoded.path);
    if (match.route == nullptr) {
        connection.sendText(404, "404 Not Found\n");
        return;
    }
    const config::Route& route = *match.route;
    const std::uint64_t maxBody = route.max_body_size.value_or(max_body_size_);
    if (maxBody > 0 && request.contentLength && *request.contentLength > maxBody) {
        spdlog::warn("[http] {}: 413: Content-Length {} exceeds max_body_size ({} bytes)", logName,
                     *request.contentLength, maxBody);
        connection.sendText(413, "413 Content Too Large\n");
        return;
    }
    switch (route.kind) {
    case config::Route::Kind::Static: serveStatic(connection, target, match, decoded.path, logName); return;
    case config::Route::Kind::Pool: proxy(connection, target, route.pool, match, decoded.path, logName); return;
    }
}

void Server::serveStatic(ClientConnection& connection, const TargetParts& target,
                         const RouteMatch& match, const std::string& path, const std::string& logName) {
    const config::Route& route = *match.route;
    const StaticServe serve{connection, route, match.pathInfo, path, target.query, mime_types_, logName};
    if (serveStaticFile(serve) == StaticOutcome::Answered) return;
    // try_files: nothing to serve here, so the fallback pool answers.
    proxy(connection, target, route.pool, match, path, logName);
}

void Server::proxy(ClientConnection& connection, const TargetParts& target, const std::string& pool,
                   const RouteMatch& match, const std::string& path, const std::string& logName) {
    const config::Route& route = *match.route;
    const PoolAvailability availability = pools_.availability(pool);
    if (!availability.available) {
        spdlog::warn("[pool {}] {}: 503 Service Unavailable: {}", pool, logName, availability.reason);
        connection.sendText(503,
                            fmt::format("503 Service Unavailable: the application (pool {}) is not "
                                        "available right now; retry shortly.\n",
                                        pool),
                            {{"Retry-After", "1"}});
        return;
    }
    const auto found = pool_targets_.find(pool);
    if (found == pool_targets_.end()) {
        spdlog::error("[pool {}] {}: 500: the pool's address was not resolved (listen() not run)",
                      pool, logName);
        connection.sendText(500, "500 Internal Server Error\n");
        return;
    }
    const PoolTarget& poolTarget = found->second;
    const Request& request = connection.request();

    RequestDescription description;
    description.method = request.method;
    if (!request.target.empty() && request.target.front() == '/') {
        description.requestUri = request.target;
    } else {
        // Absolute-form (RFC 9112 §3.2.2): REQUEST_URI is its origin form.
        description.requestUri = std::string(target.path);
        if (target.hasQuery) description.requestUri += "?" + std::string(target.query);
    }
    description.query = std::string(target.query);
    description.documentUri = path;
    description.scriptName = std::string(match.scriptName);
    description.pathInfo = std::string(match.pathInfo);
    description.documentRoot = poolTarget.documentRoot;
    if (poolTarget.kind == manager::PoolKind::Scripts) {
        // php-fpm's model: the file below the scripts root that the path
        // names, split like nginx's fastcgi_split_path_info.
        const ScriptPath split = splitScriptPath(match.pathInfo, poolTarget.scriptExtensions);
        description.scriptName = std::string(match.scriptName) + std::string(split.scriptPath);
        description.pathInfo = std::string(split.pathInfo);
        description.scriptFilename = poolTarget.documentRoot + std::string(split.scriptPath);
    }
    description.serverProtocol = request.protocol();
    description.serverSoftware =
        options_.serverSoftware.empty() ? "pyfpm/" PYFPM_VERSION : options_.serverSoftware;
    description.remoteAddr = connection.peer().address;
    description.remotePort = connection.peer().port;
    description.serverAddr = connection.local().address;
    description.serverPort = connection.local().port;
    description.headers = request.headers;
    if (!trusted_proxies_.empty()) {
        std::string forwardedFor;
        std::string forwardedProto;
        for (const auto& [name, value] : request.headers) {
            std::string& into = iequals(name, "X-Forwarded-For")     ? forwardedFor
                                : iequals(name, "X-Forwarded-Proto") ? forwardedProto
                                                                     : description.method;
            if (&into == &description.method) continue;
            if (!into.empty()) into += ", ";
            into += value;
        }
        const RealClient real = resolveRealClient(connection.peer().address, forwardedFor,
                                                  forwardedProto, trusted_proxies_, false);
        description.remoteAddr = real.address;
        description.https = real.https;
    }

    ExchangeSettings settings;
    settings.pool = pool;
    settings.address = poolTarget.address;
    if (const auto found = channels_.find(pool); found != channels_.end()) settings.channels = found->second.get();
    settings.requestTimeout = poolTarget.requestTimeout;
    settings.clientHighWater = options_.clientHighWater;
    settings.maxHeadBytes = options_.maxResponseHeadBytes;
    settings.maxBodyBytes = route.max_body_size.value_or(max_body_size_);
    settings.spoolDirectory = body_temp_path_;
    ExchangeHost& host = *this;
    auto owned = std::make_unique<Exchange>(host, connection, std::move(settings),
                                            std::move(description), logName);
    Exchange* exchange = owned.get();
    exchanges_.emplace(exchange, std::move(owned));
    exchange->start();
}

// --- workers' channels -----------------------------------------------------

void Server::workerReady(const std::string& pool, pid_t pid, const std::string& channel) {
    auto& channels = channels_[pool];
    if (!channels) {
        channels = std::make_unique<WorkerChannels>(
            base_, pool, [this, pool] { pools_.demand(pool); },
            [this, pool](pid_t worker) { return pools_.workerBusy(pool, worker); });
    }
    channels->add(pid, channel);
}

void Server::workerLeaving(const std::string& pool, pid_t pid) {
    if (const auto found = channels_.find(pool); found != channels_.end()) found->second->remove(pid);
}

std::size_t Server::queuedFor(const std::string& pool) const {
    const auto found = channels_.find(pool);
    return found != channels_.end() ? found->second->queued() : 0;
}

// --- endings ---------------------------------------------------------------

void Server::onResponseEnd(ClientConnection& connection, int status, std::uint64_t bodyBytes) {
    const auto found = connections_.find(&connection);
    if (found == connections_.end()) return;
    Client& client = found->second;
    if (!client.inFlight) {
        // Refused before it became a request (400, 408, 431 ...): logged
        // with what was parsed of it.
        client.access = AccessRecord{};
        client.access.receivedWall = std::chrono::system_clock::now();
        client.access.received = connection.requestStarted();
        client.access.remoteAddr = connection.peer().address;
        client.access.method = connection.request().method;
        client.access.uri = connection.request().target;
        client.access.protocol = connection.request().protocol();
    }
    client.inFlight = false;
    logAccess(client, status, bodyBytes);
    checkDrained();
}

void Server::onConnectionClosed(ClientConnection& connection) {
    const auto found = connections_.find(&connection);
    if (found == connections_.end()) return;
    closed_.push_back(std::move(found->second.connection));
    connections_.erase(found);
    event_active(reap_event_.get(), 0, 0);
    checkDrained();
}

void Server::noteUpstream(ClientConnection& connection, const UpstreamNote& note) {
    const auto found = connections_.find(&connection);
    if (found == connections_.end()) return;
    AccessRecord& access = found->second.access;
    access.pool = note.pool;
    access.workerPid = note.workerPid;
    access.upstreamTime = note.elapsed;
}

void Server::logAccess(const Client& client, int status, std::uint64_t bodyBytes) {
    if (!access_log_) return;
    AccessRecord access = client.access;
    access.status = status;
    access.bodyBytes = bodyBytes;
    access_log_->write(access);
}

void Server::checkDrained() {
    if (stopping_ && drained_ && inFlight() == 0) event_active(drained_event_.get(), 0, 0);
}

void Server::onDrained(evutil_socket_t, short, void* self) {
    auto* server = static_cast<Server*>(self);
    if (!server->drained_ || server->inFlight() != 0) return;
    const std::function<void()> drained = std::exchange(server->drained_, nullptr);
    // Last statement: the callback may destroy this Server.
    drained();
}

void Server::onReap(evutil_socket_t, short, void* self) {
    auto* server = static_cast<Server*>(self);
    server->retired_.clear();
    server->closed_.clear();
}

void Server::retire(Exchange* exchange) {
    const auto found = exchanges_.find(exchange);
    if (found == exchanges_.end()) return;
    retired_.push_back(std::move(found->second));
    exchanges_.erase(found);
    event_active(reap_event_.get(), 0, 0);
}

}  // namespace pyfpm::http
