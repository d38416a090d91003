// CGI/1.1 params built for one request (src/pyfpm/http/cgi_params.hpp).
#include "src/pyfpm/http/cgi_params.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace pyfpm::http {
namespace {

std::optional<std::string> param(const fcgi::NameValuePairs& params, const std::string& name) {
    std::optional<std::string> found;
    for (const auto& [key, value] : params) {
        if (key == name) {
            EXPECT_FALSE(found.has_value()) << name << " appears twice";
            found = value;
        }
    }
    return found;
}

RequestDescription getRequest() {
    RequestDescription request;
    request.method = "GET";
    request.requestUri = "/app/hello%20world?x=1";
    request.query = "x=1";
    request.documentUri = "/app/hello world";
    request.scriptName = "/app";
    request.pathInfo = "/hello world";
    request.documentRoot = "/srv/app";
    request.serverSoftware = "pyfpm/0.1.0";
    request.remoteAddr = "127.0.0.1";
    request.remotePort = 51234;
    request.serverAddr = "127.0.0.1";
    request.serverPort = 8080;
    request.headers = {{"Host", "Example.ORG:8080"}, {"User-Agent", "test/1"}};
    return request;
}

TEST(CgiParams, fixed_variables_follow_nginx_fastcgi_params) {
    const auto params = buildCgiParams(getRequest());
    EXPECT_EQ(param(params, "REQUEST_METHOD"), "GET");
    EXPECT_EQ(param(params, "QUERY_STRING"), "x=1");
    EXPECT_EQ(param(params, "REQUEST_URI"), "/app/hello%20world?x=1");
    EXPECT_EQ(param(params, "DOCUMENT_URI"), "/app/hello world");
    EXPECT_EQ(param(params, "DOCUMENT_ROOT"), "/srv/app");
    EXPECT_EQ(param(params, "SERVER_PROTOCOL"), "HTTP/1.1");
    EXPECT_EQ(param(params, "REQUEST_SCHEME"), "http");
    EXPECT_EQ(param(params, "HTTPS"), std::nullopt);
    EXPECT_EQ(param(params, "GATEWAY_INTERFACE"), "CGI/1.1");
    EXPECT_EQ(param(params, "SERVER_SOFTWARE"), "pyfpm/0.1.0");
    EXPECT_EQ(param(params, "REMOTE_ADDR"), "127.0.0.1");
    EXPECT_EQ(param(params, "REMOTE_PORT"), "51234");
    EXPECT_EQ(param(params, "SERVER_ADDR"), "127.0.0.1");
    EXPECT_EQ(param(params, "SERVER_PORT"), "8080");
    EXPECT_EQ(param(params, "CONTENT_TYPE"), "");
    EXPECT_EQ(param(params, "CONTENT_LENGTH"), "");
}

TEST(CgiParams, script_name_path_info_and_script_filename) {
    const auto params = buildCgiParams(getRequest());
    EXPECT_EQ(param(params, "SCRIPT_NAME"), "/app");
    EXPECT_EQ(param(params, "PATH_INFO"), "/hello world");
    EXPECT_EQ(param(params, "SCRIPT_FILENAME"), "/srv/app/app");
}

TEST(CgiParams, root_prefix_gives_empty_script_name) {
    RequestDescription request = getRequest();
    request.scriptName = "";
    request.pathInfo = "/app/hello world";
    const auto params = buildCgiParams(request);
    EXPECT_EQ(param(params, "SCRIPT_NAME"), "");
    EXPECT_EQ(param(params, "PATH_INFO"), "/app/hello world");
    EXPECT_EQ(param(params, "SCRIPT_FILENAME"), "/srv/app");
}

TEST(CgiParams, https_sets_scheme_and_https_on) {
    RequestDescription request = getRequest();
    request.https = true;
    const auto params = buildCgiParams(request);
    EXPECT_EQ(param(params, "REQUEST_SCHEME"), "https");
    EXPECT_EQ(param(params, "HTTPS"), "on");
}

TEST(CgiParams, headers_become_http_variables) {
    RequestDescription request = getRequest();
    request.headers = {{"Accept-Language", "fr"}, {"X-Request-Id", "abc"}, {"dnt", "1"}};
    const auto params = buildCgiParams(request);
    EXPECT_EQ(param(params, "HTTP_ACCEPT_LANGUAGE"), "fr");
    EXPECT_EQ(param(params, "HTTP_X_REQUEST_ID"), "abc");
    EXPECT_EQ(param(params, "HTTP_DNT"), "1");
}

TEST(CgiParams, proxy_header_never_becomes_http_proxy) {
    for (const char* name : {"Proxy", "proxy", "PROXY"}) {
        RequestDescription request = getRequest();
        request.headers = {{name, "http://evil.example:3128"}};
        const auto params = buildCgiParams(request);
        EXPECT_EQ(param(params, "HTTP_PROXY"), std::nullopt) << name;
    }
}

TEST(CgiParams, header_names_with_underscores_or_odd_bytes_are_dropped) {
    RequestDescription request = getRequest();
    request.headers = {{"X-Forwarded-For", "10.0.0.1"},
                       {"X_Forwarded_For", "6.6.6.6"},
                       {"X.Dot", "1"},
                       {"", "empty"}};
    const auto params = buildCgiParams(request);
    EXPECT_EQ(param(params, "HTTP_X_FORWARDED_FOR"), "10.0.0.1");
    EXPECT_EQ(param(params, "HTTP_X_DOT"), std::nullopt);
    EXPECT_EQ(cgiHeaderName("X_Forwarded_For"), "");
    EXPECT_EQ(cgiHeaderName("X.Dot"), "");
    EXPECT_EQ(cgiHeaderName("Accept-Encoding"), "HTTP_ACCEPT_ENCODING");
}

TEST(CgiParams, content_type_and_length_are_not_http_variables) {
    RequestDescription request = getRequest();
    request.method = "POST";
    request.contentLength = 11;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Content-Length", "11"},
                       {"Transfer-Encoding", "chunked"}};
    const auto params = buildCgiParams(request);
    EXPECT_EQ(param(params, "CONTENT_TYPE"), "application/x-www-form-urlencoded");
    EXPECT_EQ(param(params, "CONTENT_LENGTH"), "11");
    EXPECT_EQ(param(params, "HTTP_CONTENT_TYPE"), std::nullopt);
    EXPECT_EQ(param(params, "HTTP_CONTENT_LENGTH"), std::nullopt);
    EXPECT_EQ(param(params, "HTTP_TRANSFER_ENCODING"), std::nullopt);
}

TEST(CgiParams, empty_body_with_content_length_zero_is_sent_as_zero) {
    RequestDescription request = getRequest();
    request.method = "POST";
    request.contentLength = 0;
    EXPECT_EQ(param(buildCgiParams(request), "CONTENT_LENGTH"), "0");
}

TEST(CgiParams, repeated_headers_are_joined_in_order) {
    RequestDescription request = getRequest();
    request.headers = {{"Accept", "text/html"},
                       {"X-Trace", "a"},
                       {"accept", "application/json"},
                       {"ACCEPT", "*/*"}};
    const auto params = buildCgiParams(request);
    EXPECT_EQ(param(params, "HTTP_ACCEPT"), "text/html, application/json, */*");
    EXPECT_EQ(param(params, "HTTP_X_TRACE"), "a");
}

TEST(CgiParams, repeated_cookie_headers_are_joined_with_semicolons) {
    RequestDescription request = getRequest();
    request.headers = {{"Cookie", "a=1"}, {"Cookie", "b=2; c=3"}};
    EXPECT_EQ(param(buildCgiParams(request), "HTTP_COOKIE"), "a=1; b=2; c=3");
}

TEST(CgiParams, server_name_comes_from_host_without_port) {
    EXPECT_EQ(param(buildCgiParams(getRequest()), "SERVER_NAME"), "example.org");

    RequestDescription v6 = getRequest();
    v6.headers = {{"Host", "[::1]:8080"}};
    EXPECT_EQ(param(buildCgiParams(v6), "SERVER_NAME"), "[::1]");

    RequestDescription none = getRequest();
    none.headers = {};
    EXPECT_EQ(param(buildCgiParams(none), "SERVER_NAME"), "127.0.0.1");

    RequestDescription forged = getRequest();
    forged.headers = {{"Host", "evil\"<script>"}};
    EXPECT_EQ(param(buildCgiParams(forged), "SERVER_NAME"), "127.0.0.1");
}

TEST(CgiParams, every_header_keeps_its_value_bytes) {
    RequestDescription request = getRequest();
    request.headers = {{"X-Binary", std::string("caf\xc3\xa9 \t end", 12)}};
    EXPECT_EQ(param(buildCgiParams(request), "HTTP_X_BINARY"), std::string("caf\xc3\xa9 \t end", 12));
}

}  // namespace
}  // namespace pyfpm::http
