#include "src/pyfpm/http/router.hpp"

#include <utility>

namespace pyfpm::http {

namespace {

std::string_view withoutTrailingSlash(std::string_view prefix) {
    if (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    return prefix;
}

}  // namespace

Router::Router(std::vector<config::Route> routes) : routes_(std::move(routes)) {}

RouteMatch Router::match(std::string_view path) const {
    RouteMatch best;
    for (const config::Route& route : routes_) {
        const std::string_view base = withoutTrailingSlash(route.prefix);
        const bool matches =
            path.substr(0, base.size()) == base &&
            (path.size() == base.size() || path[base.size()] == '/');
        if (!matches) continue;
        if (best.route != nullptr && base.size() <= best.scriptName.size()) continue;
        best.route = &route;
        best.scriptName = base;
        best.pathInfo = path.substr(base.size());
    }
    return best;
}

}  // namespace pyfpm::http
