// The listening side of the HTTP bridge: binding http.listen (and
// status_listen), resolving pool addresses, changing both on reload, and
// closing them at stop.
#include "src/pyfpm/http/server.hpp"

#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "manager/unique_fd.hpp"
#include "src/pyfpm/http/socket_names.hpp"

namespace pyfpm::http {

bool Server::resolveTargets(const Router& router, const std::vector<manager::PoolConfig>& pools,
                            std::unordered_map<std::string, PoolTarget>& targets,
                            std::string& error) {
    for (const config::Route& route : router.routes()) {
        if (route.kind != config::Route::Kind::Pool || targets.count(route.pool) != 0) continue;
        const manager::PoolConfig* pool = nullptr;
        for (const manager::PoolConfig& candidate : pools) {
            if (candidate.name == route.pool) pool = &candidate;
        }
        if (pool == nullptr) {
            error = fmt::format("http.routes: prefix {} names pool {}, which is not configured",
                                route.prefix, route.pool);
            return false;
        }
        PoolTarget target;
        std::string why;
        if (!UpstreamAddress::resolve(pool->listen, target.address, why)) {
            error = fmt::format("pools.{}.listen: {}", pool->name, why);
            return false;
        }
        target.requestTimeout = pool->request_timeout;
        target.kind = pool->kind;
        if (pool->kind == manager::PoolKind::Scripts) {
            // php-fpm's model: DOCUMENT_ROOT is where the scripts are.
            target.documentRoot = pool->scripts.root.string();
            target.scriptExtensions = pool->scripts.extensions;
        } else {
            target.documentRoot = pool->working_dir.string();
        }
        targets.emplace(route.pool, std::move(target));
    }
    return true;
}

bool Server::listen(std::string& error) {
    if (!resolveTargets(router_, pool_configs_, pool_targets_, error)) return false;
    if (!openAccessLog(access_config_ ? &*access_config_ : nullptr, access_log_, error)) return false;
    for (const config::HttpListen& address : listen_addresses_) {
        if (!bindOne(address, false, listeners_, error)) {
            listeners_.clear();
            return false;
        }
    }
    if (status_listen_ && !bindOne(*status_listen_, true, status_listeners_, error)) {
        listeners_.clear();
        return false;
    }
    return true;
}

bool Server::reconfigure(const config::Config& config, std::string& error) {
    if (stopping_) {
        error = "the HTTP bridge is stopping";
        return false;
    }
    const std::vector<config::HttpListen> addresses =
        config.http ? config.http->listen : std::vector<config::HttpListen>{};
    Router router(config.http ? config.http->routes : std::vector<config::Route>{});
    std::unordered_map<std::string, PoolTarget> targets;
    if (!resolveTargets(router, config.pools, targets, error)) return false;
    std::unique_ptr<AccessLog> accessLog;
    if (!openAccessLog(config.http ? &*config.http : nullptr, accessLog, error)) return false;
    const std::optional<config::HttpListen> statusListen =
        config.http ? config.http->status_listen : std::nullopt;
    if (!reconfigureStatusListen(statusListen, error)) return false;

    const auto sameAddress = [](const config::HttpListen& a, const config::HttpListen& b) {
        return a.host == b.host && a.port == b.port;
    };
    // Bind what is new first: if that fails, nothing has changed yet.
    const std::size_t kept = listeners_.size();
    for (const config::HttpListen& address : addresses) {
        const bool bound = std::any_of(listen_addresses_.begin(), listen_addresses_.end(),
                                       [&](const auto& old) { return sameAddress(old, address); });
        if (bound) continue;
        if (!bindOne(address, false, listeners_, error)) {
            listeners_.resize(kept);
            return false;
        }
    }
    // Then let go of the addresses the new file no longer names. Connections
    // already accepted on them are served to the end.
    std::erase_if(listeners_, [&](const std::unique_ptr<Listener>& listener) {
        const bool stays = std::any_of(addresses.begin(), addresses.end(), [&](const auto& a) {
            return sameAddress(a, listener->configured);
        });
        if (stays) return false;
        spdlog::info("[http] no longer listening on {}",
                     displayAddress(listener->address.host, listener->address.port));
        return true;
    });
    listen_addresses_ = addresses;
    if (config.http) {
        daemon_paths_ = DaemonPaths::from(*config.http);
        access_config_ = config.http;
    }
    // Connections already open keep the limits they started with.
    applyLimits(config.http ? &*config.http : nullptr);
    // Unchanged target and format: the same logger (and file) goes on.
    if (accessLog || !config.http || config.http->access_log.empty()) access_log_ = std::move(accessLog);
    pool_configs_ = config.pools;
    router_ = std::move(router);
    pool_targets_ = std::move(targets);
    return true;
}

bool Server::bindOne(const config::HttpListen& address, bool status,
                     std::vector<std::unique_ptr<Listener>>& into, std::string& error) {
    const std::string display = displayAddress(address.host, address.port);
    addrinfo hints = {};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    const int rc = ::getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(),
                                 port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        error = fmt::format("http.listen {}: getaddrinfo(3): {}", display, ::gai_strerror(rc));
        return false;
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, ::freeaddrinfo);

    manager::UniqueFd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = fmt::format("http.listen {}: socket(2): {}", display, std::strerror(errno));
        return false;
    }
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (found->ai_family == AF_INET6) {
        // As nginx's ipv6only=on: "[::]" does not also take IPv4.
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    }
    if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
        error = fmt::format("bind(2) {}: {}", display, std::strerror(errno));
        return false;
    }
    if (::listen(fd.get(), options_.listenBacklog) != 0) {
        error = fmt::format("listen(2) {}: {}", display, std::strerror(errno));
        return false;
    }
    auto listener = std::make_unique<Listener>();
    listener->server = this;
    listener->status = status;
    listener->configured = address;
    listener->address = address;
    std::string boundHost;
    localName(fd.get(), boundHost, listener->address.port);  // the port, when 0 was asked
    // On success the listener owns the descriptor (closed when it goes).
    listener->socket.reset(evconnlistener_new(base_, &Server::onAccept, listener.get(),
                                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
                                              fd.get()));
    if (!listener->socket) {
        error = fmt::format("http.listen {}: evconnlistener_new failed", display);
        return false;
    }
    fd.release();
    evconnlistener_set_error_cb(listener->socket.get(), &Server::onAcceptError);
    spdlog::info("[http] listening on {}{}", displayAddress(listener->address.host, listener->address.port),
                 status ? " (status_listen)" : "");
    into.push_back(std::move(listener));
    return true;
}

std::vector<config::HttpListen> Server::listening() const {
    std::vector<config::HttpListen> out;
    for (const auto& listener : listeners_) out.push_back(listener->address);
    return out;
}

void Server::stopAccepting(std::function<void()> drained) {
    stopping_ = true;
    drained_ = std::move(drained);
    listeners_.clear();
    status_listeners_.clear();
    if (resume_accept_) evtimer_del(resume_accept_.get());
    checkDrained();
}

}  // namespace pyfpm::http
