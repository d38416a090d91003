#include "src/pyfpm/config/checks.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "src/pyfpm/config/pool_checks.hpp"

namespace pyfpm::config {

namespace {

using manager::ListenAddress;

std::string hostPort(const std::string& host, std::uint16_t port) {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

// As the file would spell it, so the message can be matched to the text.
std::string render(const ListenAddress& address) {
    switch (address.kind) {
    case ListenAddress::Kind::Unix: return "unix:" + address.path.string();
    case ListenAddress::Kind::Tcp: return hostPort(address.host, address.port);
    }
    return {};
}

struct Claim {
    std::string owner;  // "pool web", "http.routes[0]"
    Location at;
};

// Remembers who claimed each value first; claim() returns that first claim
// when a value is claimed again.
class Claims {
public:
    std::optional<Claim> claim(const std::string& value, Claim claim) {
        auto [existing, inserted] = claims_.emplace(value, std::move(claim));
        if (inserted) return std::nullopt;
        return existing->second;
    }

private:
    std::map<std::string, Claim> claims_;
};

// "http.listen[1]", or "http.listen" when it was written as one scalar.
std::optional<std::pair<std::string, Location>> httpListenKey(const Context& context,
                                                              std::size_t index) {
    auto key = fmt::format("http.listen[{}]", index);
    if (auto at = context.accepted(key)) return std::pair{key, *at};
    if (index != 0) return std::nullopt;
    if (auto at = context.accepted("http.listen")) return std::pair{std::string{"http.listen"}, *at};
    return std::nullopt;
}

void checkRoutes(const Config& config, const HttpConfig& http, Context& context) {
    std::vector<std::string> poolNames;
    for (const auto& pool : config.pools) poolNames.push_back(pool.name);

    Claims prefixes;
    for (std::size_t i = 0; i < http.routes.size(); ++i) {
        const auto& route = http.routes[i];
        auto routeKey = fmt::format("http.routes[{}]", i);

        auto prefixKey = routeKey + ".prefix";
        if (auto at = context.accepted(prefixKey)) {
            if (auto first = prefixes.claim(route.prefix, {routeKey, *at}))
                context.error(*at, prefixKey,
                              fmt::format("duplicate prefix \"{}\"; {} at line {} has it already",
                                          route.prefix, first->owner, first->at.line));
        }

        auto poolKey = routeKey + ".pool";
        auto at = context.accepted(poolKey);
        if (!at || route.kind != Route::Kind::Pool || poolNames.empty()) continue;
        if (config.findPool(route.pool) == nullptr)
            context.error(*at, poolKey, fmt::format("no pool named \"{}\"; pools are: {}",
                                                    route.pool, fmt::join(poolNames, ", ")));
    }
}

void checkListenAddresses(const Config& config, Context& context) {
    Claims addresses;
    for (const auto& pool : config.pools) {
        auto key = fmt::format("pools.{}.listen", pool.name);
        auto at = context.accepted(key);
        if (!at) continue;
        auto address = render(pool.listen);
        if (auto first = addresses.claim(address, {"pool " + pool.name, *at}))
            context.error(*at, key,
                          fmt::format("{} is already the listen address of {} at line {}",
                                      address, first->owner, first->at.line));
    }
    // The control socket is a unix socket like a pool's: one owner per path.
    // The default (not written) is reported at the pool that takes it.
    const auto control = "unix:" + config.control_socket.string();
    if (auto at = context.accepted("control.socket")) {
        if (auto first = addresses.claim(control, {"control.socket", *at}))
            context.error(*at, "control.socket",
                          fmt::format("{} is already the listen address of {} at line {}", control,
                                      first->owner, first->at.line));
    } else if (auto first = addresses.claim(control, {"control.socket", {}})) {
        context.error(first->at, fmt::format("pools.{}.listen", first->owner.substr(5)),
                      fmt::format("{} is the default control.socket; set control.socket or move the pool",
                                  control));
    }
    if (!config.http) return;
    for (std::size_t i = 0; i < config.http->listen.size(); ++i) {
        auto key = httpListenKey(context, i);
        if (!key) continue;
        const auto& listen = config.http->listen[i];
        auto address = hostPort(listen.host, listen.port);
        if (auto first = addresses.claim(address, {key->first, key->second}))
            context.error(key->second, key->first,
                          fmt::format("{} is already the listen address of {} at line {}",
                                      address, first->owner, first->at.line));
    }
}

}  // namespace

void checkAcrossKeys(const Config& config, Context& context) {
    if (config.http) checkRoutes(config, *config.http, context);
    checkListenAddresses(config, context);
    for (const auto& pool : config.pools) checkPool(pool, context);
}

}  // namespace pyfpm::config
