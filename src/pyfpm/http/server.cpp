#include "src/pyfpm/http/server.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "manager/unique_fd.hpp"
#include "src/pyfpm/http/cgi_params.hpp"
#include "src/pyfpm/http/reply.hpp"
#include "src/pyfpm/http/request_path.hpp"
#include "src/pyfpm/http/socket_names.hpp"
#include "src/pyfpm/http/static_files.hpp"

namespace pyfpm::http {


Server::Server(event_base* base, const config::Config& config, const PoolDirectory& pools,
               ServerOptions options)
    : base_(base),
      pools_(pools),
      options_(std::move(options)),
      listen_addresses_(config.http ? config.http->listen : std::vector<config::HttpListen>{}),
      pool_configs_(config.pools),
      router_(config.http ? config.http->routes : std::vector<config::Route>{}),
      mime_types_(MimeTypes::load(options_.mimeTypes)),
      http_(evhttp_new(base)),
      reap_event_(event_new(base, -1, 0, &Server::onReap, this)),
      drained_event_(event_new(base, -1, 0, &Server::onDrained, this)) {
    if (config.http) {
        daemon_paths_ = DaemonPaths::from(*config.http);
        status_listen_ = config.http->status_listen;
        access_config_ = config.http;
    }
    evhttp* http = http_.get();
    evhttp_set_gencb(http, &Server::onRequest, this);
    // Every method evhttp can parse goes to the application; static routes
    // answer 405 themselves.
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                         EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
                                         EVHTTP_REQ_PATCH);
    // No invented Content-Type on an application's response that has none.
    evhttp_set_default_content_type(http, nullptr);
    evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(options_.maxBodyBytes));
    evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(options_.maxHeaderBytes));
    evhttp_set_timeout(http, static_cast<int>(options_.clientTimeout.count()));

    status_http_.reset(evhttp_new(base));
    evhttp_set_gencb(status_http_.get(), &Server::onStatusRequest, this);
    evhttp_set_default_content_type(status_http_.get(), nullptr);
    evhttp_set_max_body_size(status_http_.get(), 0);
    evhttp_set_max_headers_size(status_http_.get(), static_cast<ev_ssize_t>(options_.maxHeaderBytes));
    evhttp_set_timeout(status_http_.get(), static_cast<int>(options_.clientTimeout.count()));
}

Server::~Server() {
    stopping_ = true;
    drained_ = nullptr;
    for (auto& [raw, exchange] : exchanges_) exchange->abandon();
    listeners_.clear();
    status_listeners_.clear();
    // Frees every client connection and its request; the close callbacks
    // run inside and release the in-flight records.
    http_.reset();
    status_http_.reset();
    in_flight_.clear();
    exchanges_.clear();
    retired_.clear();
    reap_event_.reset();
    drained_event_.reset();
}

void Server::onRequest(evhttp_request* request, void* self) {
    static_cast<Server*>(self)->handle(request, false);
}

void Server::onStatusRequest(evhttp_request* request, void* self) {
    static_cast<Server*>(self)->handle(request, true);
}

void Server::handle(evhttp_request* request, bool statusListener) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    begin(request);
    evhttp_request_set_on_complete_cb(request, &Server::onComplete, this);
    evhttp_connection_set_closecb(connection, &Server::onConnectionClose, this);
    if (stopping_) {
        evhttp_add_header(evhttp_request_get_output_headers(request), "Connection", "close");
    }

    const std::string_view method = methodName(evhttp_request_get_command(request));
    const char* rawUri = evhttp_request_get_uri(request);
    const std::string logName = describeRequest(method, rawUri != nullptr ? rawUri : "");
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* rawPath = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
    // An absolute-form target without a path ("http://host") means "/".
    const std::string_view pathPart = rawPath != nullptr && *rawPath != '\0' ? rawPath : "/";

    const DecodedPath decoded = decodeRequestPath(pathPart);
    if (decoded.error != PathError::None) {
        spdlog::info("[http] {}: 400: {}", logName, toString(decoded.error));
        sendPlainText(request, 400, "400 Bad Request\n");
        return;
    }
    // The daemon's own paths: on status_listen when there is one, else on
    // every listener, ahead of the routes.
    if (statusListener || !status_listen_) {
        if (answerDaemonPath(request, decoded.path, daemon_paths_, options_.statusSource)) return;
    }
    if (statusListener) {
        sendPlainText(request, 404, "404 Not Found\n");
        return;
    }
    const RouteMatch match = router_.match(decoded.path);
    if (match.route == nullptr) {
        sendPlainText(request, 404, "404 Not Found\n");
        return;
    }
    switch (match.route->kind) {
    case config::Route::Kind::Static:
        serveStaticFile(request, match.route->root, match.pathInfo, mime_types_, logName);
        return;
    case config::Route::Kind::Pool: proxy(request, match, decoded.path, logName); return;
    }
}

void Server::proxy(evhttp_request* request, const RouteMatch& match, const std::string& path,
                   std::string_view logName) {
    const std::string& pool = match.route->pool;
    const PoolAvailability availability = pools_.availability(pool);
    if (!availability.available) {
        spdlog::warn("[pool {}] {}: 503 Service Unavailable: {}", pool, logName,
                     availability.reason);
        evhttp_add_header(evhttp_request_get_output_headers(request), "Retry-After", "1");
        sendPlainText(request, 503,
                      fmt::format("503 Service Unavailable: the application (pool {}) is not "
                                  "available right now; retry shortly.\n",
                                  pool));
        return;
    }
    const auto target = pool_targets_.find(pool);
    if (target == pool_targets_.end()) {
        spdlog::error("[pool {}] {}: 500: the pool's address was not resolved (listen() not run)",
                      pool, logName);
        sendPlainText(request, 500, "500 Internal Server Error\n");
        return;
    }

    evhttp_connection* connection = evhttp_request_get_connection(request);
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
    const char* rawUri = evhttp_request_get_uri(request);

    RequestDescription description;
    description.method = methodName(evhttp_request_get_command(request));
    if (rawUri != nullptr && rawUri[0] == '/') {
        description.requestUri = rawUri;
    } else {
        // Absolute-form (RFC 9112 §3.2.2): REQUEST_URI is its origin form.
        const char* rawPath = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
        description.requestUri = rawPath != nullptr && *rawPath != '\0' ? rawPath : "/";
        if (query != nullptr) description.requestUri += std::string("?") + query;
    }
    description.query = query != nullptr ? query : "";
    description.documentUri = path;
    description.scriptName = match.scriptName;
    description.pathInfo = match.pathInfo;
    description.documentRoot = target->second.documentRoot;
    const HttpVersion version = httpVersion(request);
    description.serverProtocol = fmt::format("HTTP/{}.{}", version.major, version.minor);
    description.serverSoftware =
        options_.serverSoftware.empty() ? "pyfpm/" PYFPM_VERSION : options_.serverSoftware;
    char* peer = nullptr;
    ev_uint16_t peerPort = 0;
    evhttp_connection_get_peer(connection, &peer, &peerPort);
    description.remoteAddr = peer != nullptr ? peer : "";
    description.remotePort = peerPort;
    const int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(connection));
    localName(fd, description.serverAddr, description.serverPort);

    evkeyvalq* headers = evhttp_request_get_input_headers(request);
    bool declaresBody = false;
    for (const evkeyval* header = headers->tqh_first; header != nullptr;
         header = header->next.tqe_next) {
        description.headers.emplace_back(header->key, header->value);
        if (evutil_ascii_strcasecmp(header->key, "Content-Length") == 0 ||
            evutil_ascii_strcasecmp(header->key, "Transfer-Encoding") == 0) {
            declaresBody = true;
        }
    }
    const std::size_t bodyLength = evbuffer_get_length(evhttp_request_get_input_buffer(request));
    if (declaresBody || bodyLength > 0) description.contentLength = bodyLength;

    fcgi::ParamsBuilder params;
    for (const auto& [name, value] : buildCgiParams(description)) params.add(name, value);
    params.add(kWorkerHeaderParam, "1");

    ExchangeSettings settings;
    settings.pool = pool;
    settings.address = target->second.address;
    settings.requestTimeout = target->second.requestTimeout;
    settings.clientHighWater = options_.clientHighWater;
    settings.maxHeadBytes = options_.maxResponseHeadBytes;
    ExchangeHost& host = *this;
    auto owned = std::make_unique<Exchange>(host, request, std::move(settings), std::move(params),
                                            std::string(logName));
    Exchange* exchange = owned.get();
    exchanges_.emplace(exchange, std::move(owned));
    in_flight_[connection].exchange = exchange;
    exchange->start();
}

void Server::onComplete(evhttp_request* request, void* self) {
    auto* server = static_cast<Server*>(self);
    evhttp_connection* connection = evhttp_request_get_connection(request);
    if (connection != nullptr) evhttp_connection_set_closecb(connection, nullptr, nullptr);
    if (const auto found = server->in_flight_.find(connection); found != server->in_flight_.end()) {
        server->logAccess(found->second, request, evhttp_request_get_response_code(request));
    }
    server->release(connection);
}

void Server::onConnectionClose(evhttp_connection* connection, void* self) {
    auto* server = static_cast<Server*>(self);
    const auto found = server->in_flight_.find(connection);
    if (found == server->in_flight_.end()) return;
    // The Exchange notes what the worker did before the record goes.
    if (found->second.exchange != nullptr) found->second.exchange->clientGone();
    const InFlight record = found->second;
    server->in_flight_.erase(found);
    // nginx's 499: the client closed before the whole response was sent.
    server->logAccess(record, nullptr, 499);
    // evhttp detaches a request that is still being answered from a failing
    // connection and leaves it to us; a request it still holds, it frees.
    if (evhttp_request_get_connection(record.request) == nullptr) {
        evhttp_request_free(record.request);
    }
    server->checkDrained();
}

void Server::release(evhttp_connection* connection) {
    const auto found = in_flight_.find(connection);
    if (found == in_flight_.end()) return;
    Exchange* exchange = found->second.exchange;
    in_flight_.erase(found);
    // An Exchange detaches before it answers; one still attached here has
    // lost its request, so it must not touch it again.
    if (exchange != nullptr) exchange->clientGone();
    checkDrained();
}

void Server::checkDrained() {
    if (stopping_ && drained_ && in_flight_.empty()) event_active(drained_event_.get(), 0, 0);
}

void Server::onDrained(evutil_socket_t, short, void* self) {
    auto* server = static_cast<Server*>(self);
    if (!server->drained_ || !server->in_flight_.empty()) return;
    const std::function<void()> drained = std::exchange(server->drained_, nullptr);
    // Last statement: the callback may destroy this Server.
    drained();
}

void Server::onReap(evutil_socket_t, short, void* self) {
    static_cast<Server*>(self)->retired_.clear();
}

void Server::detach(evhttp_connection* connection) {
    if (connection == nullptr) return;
    const auto found = in_flight_.find(connection);
    if (found != in_flight_.end()) found->second.exchange = nullptr;
}

void Server::retire(Exchange* exchange) {
    const auto found = exchanges_.find(exchange);
    if (found == exchanges_.end()) return;
    retired_.push_back(std::move(found->second));
    exchanges_.erase(found);
    event_active(reap_event_.get(), 0, 0);
}

Exchange* Server::exchangeFor(evhttp_connection* connection) const {
    const auto found = in_flight_.find(connection);
    return found == in_flight_.end() ? nullptr : found->second.exchange;
}

}  // namespace pyfpm::http
