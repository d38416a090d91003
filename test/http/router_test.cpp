// Longest-prefix routing and the SCRIPT_NAME / PATH_INFO split
// (src/pyfpm/http/router.hpp).
#include "src/pyfpm/http/router.hpp"

#include <gtest/gtest.h>

namespace pyfpm::http {
namespace {

config::Route pool(std::string prefix, std::string name) {
    config::Route route;
    route.prefix = std::move(prefix);
    route.kind = config::Route::Kind::Pool;
    route.pool = std::move(name);
    return route;
}

config::Route files(std::string prefix, std::string root) {
    config::Route route;
    route.prefix = std::move(prefix);
    route.kind = config::Route::Kind::Static;
    route.root = std::move(root);
    return route;
}

Router standardRouter() {
    return Router({pool("/", "web"), files("/static/", "/srv/static"),
                   files("/static/img/", "/srv/img"), pool("/api", "api")});
}

struct SplitCase {
    const char* path;
    const char* prefix;  // nullptr: no route
    const char* scriptName;
    const char* pathInfo;
};

class RouterSplit : public ::testing::TestWithParam<SplitCase> {};

TEST_P(RouterSplit, longest_prefix_and_split) {
    const Router router = standardRouter();
    const SplitCase& c = GetParam();
    const RouteMatch match = router.match(c.path);
    ASSERT_NE(match.route, nullptr) << c.path;
    EXPECT_EQ(match.route->prefix, c.prefix) << c.path;
    EXPECT_EQ(match.scriptName, c.scriptName) << c.path;
    EXPECT_EQ(match.pathInfo, c.pathInfo) << c.path;
}

INSTANTIATE_TEST_SUITE_P(
    Paths, RouterSplit,
    ::testing::Values(
        SplitCase{"/", "/", "", "/"},
        SplitCase{"/hello", "/", "", "/hello"},
        SplitCase{"/static/site.css", "/static/", "/static", "/site.css"},
        SplitCase{"/static/img/logo.png", "/static/img/", "/static/img", "/logo.png"},
        SplitCase{"/static/imgs/logo.png", "/static/", "/static", "/imgs/logo.png"},
        // A prefix ending in '/' also matches the path without the slash.
        SplitCase{"/static", "/static/", "/static", ""},
        SplitCase{"/static/", "/static/", "/static", "/"},
        SplitCase{"/static/img", "/static/img/", "/static/img", ""},
        // Segment boundaries only: no "off-by-slash" matches.
        SplitCase{"/staticfoo", "/", "", "/staticfoo"},
        SplitCase{"/static.css", "/", "", "/static.css"},
        // A prefix without trailing slash behaves the same way.
        SplitCase{"/api", "/api", "/api", ""},
        SplitCase{"/api/users/7", "/api", "/api", "/users/7"},
        SplitCase{"/apis", "/", "", "/apis"}));

TEST(Router, no_route_matches_without_a_root_route) {
    const Router router({files("/static/", "/srv/static")});
    EXPECT_EQ(router.match("/other").route, nullptr);
    EXPECT_EQ(router.match("/").route, nullptr);
    EXPECT_NE(router.match("/static/a").route, nullptr);
}

TEST(Router, equal_prefixes_first_in_file_wins) {
    const Router router({pool("/app", "first"), pool("/app/", "second")});
    const RouteMatch match = router.match("/app/x");
    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->pool, "first");
}

TEST(Router, routes_are_kept_in_file_order) {
    const Router router = standardRouter();
    ASSERT_EQ(router.routes().size(), 4u);
    EXPECT_EQ(router.routes()[1].prefix, "/static/");
}

}  // namespace
}  // namespace pyfpm::http
