#include "src/pyfpm/http/cgi_params.hpp"

#include <algorithm>
#include <cctype>

#include "src/pyfpm/http/ascii.hpp"

namespace pyfpm::http {

namespace {

// The Host header's host part: "Example.org:8080" -> "example.org",
// "[::1]:8080" -> "[::1]". Empty when the value is not a plausible host, so
// that a forged header cannot put arbitrary bytes into SERVER_NAME.
std::string hostOf(std::string_view host) {
    std::string_view name = host;
    if (!name.empty() && name.front() == '[') {
        const std::size_t close = name.find(']');
        if (close == std::string_view::npos) return {};
        name = name.substr(0, close + 1);
    } else {
        name = name.substr(0, name.find(':'));
    }
    std::string out;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '-' && c != '.' && c != '[' && c != ']' && c != ':' &&
            c != '_') {
            return {};
        }
        out += asciiLower(c);
    }
    return out;
}

}  // namespace

std::string cgiHeaderName(std::string_view headerName) {
    if (headerName.empty() || iequals(headerName, "Proxy") ||
        iequals(headerName, "Content-Type") || iequals(headerName, "Content-Length") ||
        iequals(headerName, "Transfer-Encoding")) {
        return {};
    }
    std::string name = "HTTP_";
    for (const char c : headerName) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '-') {
            name += '_';
        } else if (std::isalnum(u)) {
            name += static_cast<char>(std::toupper(u));
        } else {
            return {};
        }
    }
    return name;
}

fcgi::NameValuePairs buildCgiParams(const RequestDescription& request) {
    fcgi::NameValuePairs params;
    params.reserve(24 + request.headers.size());
    const auto add = [&params](std::string name, std::string value) {
        params.emplace_back(std::move(name), std::move(value));
    };

    std::string contentType;
    std::string host;
    for (const auto& [name, value] : request.headers) {
        if (contentType.empty() && iequals(name, "Content-Type")) contentType = value;
        if (host.empty() && iequals(name, "Host")) host = hostOf(value);
    }

    // nginx's fastcgi_params, in its order.
    add("QUERY_STRING", request.query);
    add("REQUEST_METHOD", request.method);
    add("CONTENT_TYPE", contentType);
    add("CONTENT_LENGTH",
        request.contentLength ? std::to_string(*request.contentLength) : std::string());
    add("SCRIPT_NAME", request.scriptName);
    add("REQUEST_URI", request.requestUri);
    add("DOCUMENT_URI", request.documentUri);
    add("DOCUMENT_ROOT", request.documentRoot);
    add("SERVER_PROTOCOL", request.serverProtocol);
    add("REQUEST_SCHEME", request.https ? "https" : "http");
    if (request.https) add("HTTPS", "on");
    add("GATEWAY_INTERFACE", "CGI/1.1");
    add("SERVER_SOFTWARE", request.serverSoftware);
    add("REMOTE_ADDR", request.remoteAddr);
    add("REMOTE_PORT", std::to_string(request.remotePort));
    add("SERVER_ADDR", request.serverAddr);
    add("SERVER_PORT", std::to_string(request.serverPort));
    add("SERVER_NAME", host.empty() ? request.serverAddr : host);
    // What nginx configurations add for Python apps (RFC 3875 §4.1.5, §4.1.13).
    add("PATH_INFO", request.pathInfo);
    add("SCRIPT_FILENAME", request.scriptFilename.empty() ? request.documentRoot + request.scriptName
                                                          : request.scriptFilename);

    // Every request header as HTTP_*, repeated ones joined in arrival order.
    const std::size_t firstHeader = params.size();
    for (const auto& [name, value] : request.headers) {
        std::string cgiName = cgiHeaderName(name);
        if (cgiName.empty()) continue;
        const auto existing =
            std::find_if(params.begin() + static_cast<std::ptrdiff_t>(firstHeader), params.end(),
                         [&cgiName](const auto& pair) { return pair.first == cgiName; });
        if (existing == params.end()) {
            add(std::move(cgiName), value);
        } else {
            existing->second += cgiName == "HTTP_COOKIE" ? "; " : ", ";
            existing->second += value;
        }
    }
    return params;
}

}  // namespace pyfpm::http
