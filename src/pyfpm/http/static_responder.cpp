#include "src/pyfpm/http/static_responder.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <utility>

#include "src/pyfpm/http/static_files.hpp"
#include "src/pyfpm/http/static_policy.hpp"

namespace pyfpm::http {

namespace {

// Files up to this size are copied into the response rather than sent with
// sendfile(2).
constexpr std::uint64_t kCopyBelow = 16 * 1024;

std::optional<std::string_view> headerView(const Request& request, std::string_view name) {
    const std::string* value = request.header(name);
    if (value == nullptr) return std::nullopt;
    return std::string_view(*value);
}

}  // namespace

StaticOutcome serveStaticFile(const StaticServe& serve) {
    ClientConnection& connection = serve.connection;
    const Request& request = connection.request();
    const config::Route& route = serve.route;
    const bool fallback = !route.pool.empty();
    if (request.method != "GET" && request.method != "HEAD") {
        // A method a file cannot answer goes to the application behind it.
        if (fallback) return StaticOutcome::Fallback;
        connection.sendText(405, "405 Method Not Allowed\n", {{"Allow", "GET, HEAD"}});
        return StaticOutcome::Answered;
    }

    StaticLookupOptions options;
    options.index = route.index;
    options.fallback = fallback;
    StaticLookup found = lookupStaticFile(route.root, serve.relativePath, options);
    switch (found.status) {
    case StaticLookup::Status::Ok: break;
    case StaticLookup::Status::AddSlash:
        connection.sendText(301, "301 Moved Permanently\n",
                            {{"Location", directoryRedirectLocation(serve.decodedPath, serve.query)}});
        return StaticOutcome::Answered;
    case StaticLookup::Status::NotFound:
        if (fallback) return StaticOutcome::Fallback;
        spdlog::debug("[http] {}: 404: {}", serve.logName, found.detail);
        connection.sendText(404, "404 Not Found\n");
        return StaticOutcome::Answered;
    case StaticLookup::Status::Forbidden:
        spdlog::info("[http] {}: 403: {}", serve.logName, found.detail);
        connection.sendText(403, "403 Forbidden\n");
        return StaticOutcome::Answered;
    case StaticLookup::Status::Failed:
        spdlog::error("[http] {}: 500: {}", serve.logName, found.detail);
        connection.sendText(500, "500 Internal Server Error\n");
        return StaticOutcome::Answered;
    }

    manager::UniqueFd fd = std::move(found.fd);
    struct stat info = found.info;
    StaticRepresentation representation;
    representation.cacheControl = route.cache_control;
    if (route.gzip_static) {
        StaticFile gzip = openGzipSibling(route.root, found.path);
        if (gzip.status == StaticFile::Status::Ok) {
            representation.varyAcceptEncoding = true;
            const std::string* accept = request.header("Accept-Encoding");
            if (accept != nullptr && acceptsGzip(*accept)) {
                fd = std::move(gzip.fd);
                info = gzip.info;
                representation.gzip = true;
            }
        }
    }
    representation.size = static_cast<std::uint64_t>(info.st_size);
    representation.mtime = static_cast<std::int64_t>(info.st_mtim.tv_sec);

    StaticRequest conditions;
    conditions.method = request.method;
    conditions.ifMatch = headerView(request, "If-Match");
    conditions.ifNoneMatch = headerView(request, "If-None-Match");
    conditions.ifModifiedSince = headerView(request, "If-Modified-Since");
    conditions.ifUnmodifiedSince = headerView(request, "If-Unmodified-Since");
    conditions.ifRange = headerView(request, "If-Range");
    conditions.range = headerView(request, "Range");
    StaticAnswer answer = decideStaticAnswer(conditions, representation);

    HeaderList headers;
    std::optional<std::uint64_t> length;
    if (answer.status == 200 || answer.status == 206) {
        // Content-Type from the file asked for, not from its .gz sibling
        // (a 304 carries the validators only, RFC 9110 §15.4.5).
        headers.emplace_back("Content-Type", std::string(serve.mimeTypes.lookup(found.path)));
    }
    for (auto& [name, value] : answer.headers) {
        if (name == "Content-Length") {
            length = std::stoull(value);
            continue;
        }
        headers.emplace_back(std::move(name), std::move(value));
    }
    if (answer.status == 416 || answer.status == 412 || answer.status == 405) {
        const std::string body = std::to_string(answer.status) + " " +
                                 std::string(reasonPhrase(answer.status)) + "\n";
        connection.sendText(answer.status, body, headers);
        return StaticOutcome::Answered;
    }
    connection.sendHead(answer.status, {}, headers, length);
    if (answer.body && answer.body->length > 0) {
        if (answer.body->length <= kCopyBelow) {
            // Small: one pread(2) and the body leaves with the head in one
            // writev(2), cheaper than a sendfile(2) of its own.
            char bytes[kCopyBelow];
            const ssize_t n = ::pread(fd.get(), bytes, static_cast<std::size_t>(answer.body->length),
                                      static_cast<off_t>(answer.body->offset));
            if (n < 0 || static_cast<std::uint64_t>(n) != answer.body->length) {
                spdlog::error("[http] {}: pread(2) {}: {}; response cut short", serve.logName, found.path,
                              n < 0 ? std::strerror(errno) : "the file shrank");
                connection.abortResponse();
                return StaticOutcome::Answered;
            }
            connection.sendBody(std::string_view(bytes, static_cast<std::size_t>(n)));
        } else {
            connection.sendFile(fd.release(), static_cast<off_t>(answer.body->offset), answer.body->length);
        }
    }
    connection.endResponse();
    return StaticOutcome::Answered;
}

}  // namespace pyfpm::http
