// Chooses the route for a request path: the longest matching `prefix` of
// http.routes (pyfpm.yaml(5)).
//
// A prefix matches at a path-segment boundary only: "/static/" and "/static"
// both match "/static", "/static/" and "/static/a.css", and neither matches
// "/staticfoo". This is stricter than nginx's plain string prefix on purpose:
// it keeps SCRIPT_NAME + PATH_INFO a split at a '/', as RFC 3875 §4.1.5 and
// PEP 3333 expect, and rules out the "off-by-slash" mapping of "/static.."
// onto a static root. Equal prefixes: the first in the file wins.
//
// Pure; thread-safe after construction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/pyfpm/config/config.hpp"

namespace pyfpm::http {

struct RouteMatch {
    const config::Route* route = nullptr;  // nullptr: no route matches (404)
    // The prefix without its trailing '/' ("/" gives ""): SCRIPT_NAME for a
    // pool route. Points into the route.
    std::string_view scriptName;
    // The rest of the path: "" or starting with '/'. PATH_INFO for a pool
    // route, the file below `root` for a static route. Points into the path.
    std::string_view pathInfo;
};

class Router {
public:
    explicit Router(std::vector<config::Route> routes);

    // `path` is decoded and normalised (request_path.hpp). The match holds
    // views into `path` and into this router.
    RouteMatch match(std::string_view path) const;

    const std::vector<config::Route>& routes() const { return routes_; }

private:
    std::vector<config::Route> routes_;
};

}  // namespace pyfpm::http
