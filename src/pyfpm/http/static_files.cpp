#include "src/pyfpm/http/static_files.hpp"

#include <event2/buffer.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "src/pyfpm/http/libevent_ptr.hpp"
#include "src/pyfpm/http/reply.hpp"

namespace pyfpm::http {

namespace {

// The path the kernel holds for an open descriptor.
bool descriptorPath(int fd, std::string& path) {
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    std::array<char, 4096> buffer;
    const ssize_t n = ::readlink(link.c_str(), buffer.data(), buffer.size());
    if (n < 0 || static_cast<std::size_t>(n) >= buffer.size()) return false;
    path.assign(buffer.data(), static_cast<std::size_t>(n));
    return true;
}

bool isBelow(std::string_view path, std::string_view root) {
    if (root == "/") return true;
    return path.substr(0, root.size()) == root &&
           (path.size() == root.size() || path[root.size()] == '/');
}

StaticFile result(StaticFile::Status status, std::string detail) {
    StaticFile file;
    file.status = status;
    file.detail = std::move(detail);
    return file;
}

StaticFile::Status statusForErrno(int error) {
    switch (error) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG: return StaticFile::Status::NotFound;
    case EACCES:
    case EPERM:
    case ELOOP: return StaticFile::Status::Forbidden;
    default: return StaticFile::Status::Failed;
    }
}

}  // namespace

StaticFile openStaticFile(const std::filesystem::path& root, std::string_view relativePath) {
    // The root is opened per request, so a root that appears, or is replaced
    // by a deploy, after the daemon started is served as it is now.
    manager::UniqueFd rootFd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootFd) {
        const int error = errno;
        return result(statusForErrno(error),
                      fmt::format("open(2) root {}: {}", root.string(), std::strerror(error)));
    }
    std::string rootReal;
    if (!descriptorPath(rootFd.get(), rootReal)) {
        return result(StaticFile::Status::Failed,
                      fmt::format("readlink(2) /proc/self/fd for root {}: {}", root.string(),
                                  std::strerror(errno)));
    }

    while (!relativePath.empty() && relativePath.front() == '/') relativePath.remove_prefix(1);
    if (relativePath.empty()) {
        return result(StaticFile::Status::Forbidden, "the route's root is a directory");
    }

    const std::string name(relativePath);
    // O_NONBLOCK: opening a FIFO someone left in the root must not stall the
    // event loop; fstat below refuses it anyway.
    manager::UniqueFd fd(
        ::openat(rootFd.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) {
        const int error = errno;
        return result(statusForErrno(error),
                      fmt::format("openat(2) {}/{}: {}", root.string(), name, std::strerror(error)));
    }

    std::string real;
    if (!descriptorPath(fd.get(), real)) {
        return result(StaticFile::Status::Failed,
                      fmt::format("readlink(2) /proc/self/fd for {}/{}: {}", root.string(), name,
                                  std::strerror(errno)));
    }
    if (!isBelow(real, rootReal)) {
        return result(StaticFile::Status::Forbidden,
                      fmt::format("{}/{} resolves to {}, outside the root {}", root.string(), name,
                                  real, rootReal));
    }

    StaticFile file;
    if (::fstat(fd.get(), &file.info) != 0) {
        return result(StaticFile::Status::Failed,
                      fmt::format("fstat(2) {}: {}", real, std::strerror(errno)));
    }
    if (S_ISDIR(file.info.st_mode)) {
        return result(StaticFile::Status::Forbidden, fmt::format("{} is a directory", real));
    }
    if (!S_ISREG(file.info.st_mode)) {
        return result(StaticFile::Status::Forbidden, fmt::format("{} is not a regular file", real));
    }
    file.status = StaticFile::Status::Ok;
    file.fd = std::move(fd);
    return file;
}

std::string formatHttpDate(std::time_t time) {
    static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                         "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm = {};
    ::gmtime_r(&time, &tm);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                       kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                       tm.tm_sec);
}

void serveStaticFile(evhttp_request* request, const std::filesystem::path& root,
                     std::string_view relativePath, const MimeTypes& mimeTypes,
                     std::string_view logName) {
    const evhttp_cmd_type method = evhttp_request_get_command(request);
    evkeyvalq* output = evhttp_request_get_output_headers(request);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        evhttp_add_header(output, "Allow", "GET, HEAD");
        sendPlainText(request, 405, "405 Method Not Allowed\n");
        return;
    }

    StaticFile file = openStaticFile(root, relativePath);
    switch (file.status) {
    case StaticFile::Status::Ok: break;
    case StaticFile::Status::NotFound:
        spdlog::debug("[http] {}: 404: {}", logName, file.detail);
        sendPlainText(request, 404, "404 Not Found\n");
        return;
    case StaticFile::Status::Forbidden:
        spdlog::info("[http] {}: 403: {}", logName, file.detail);
        sendPlainText(request, 403, "403 Forbidden\n");
        return;
    case StaticFile::Status::Failed:
        spdlog::error("[http] {}: 500: {}", logName, file.detail);
        sendPlainText(request, 500, "500 Internal Server Error\n");
        return;
    }

    const std::string lastModified = formatHttpDate(file.info.st_mtime);
    const std::string contentType(mimeTypes.lookup(relativePath));
    evhttp_add_header(output, "Last-Modified", lastModified.c_str());
    evhttp_add_header(output, "Content-Type", contentType.c_str());

    const char* ifModifiedSince =
        evhttp_find_header(evhttp_request_get_input_headers(request), "If-Modified-Since");
    if (ifModifiedSince != nullptr && lastModified == ifModifiedSince) {
        evhttp_send_reply(request, 304, nullptr, nullptr);
        return;
    }

    const auto size = static_cast<ev_off_t>(file.info.st_size);
    evhttp_add_header(output, "Content-Length", std::to_string(size).c_str());
    if (method == EVHTTP_REQ_HEAD || size == 0) {
        evhttp_send_reply(request, 200, nullptr, nullptr);
        return;
    }

    EvbufferPtr body(evbuffer_new());
    evbuffer_file_segment* segment =
        evbuffer_file_segment_new(file.fd.get(), 0, size, EVBUF_FS_CLOSE_ON_FREE);
    if (segment == nullptr) {
        spdlog::error("[http] {}: 500: evbuffer_file_segment_new failed", logName);
        evhttp_remove_header(output, "Content-Length");
        sendPlainText(request, 500, "500 Internal Server Error\n");
        return;
    }
    file.fd.release();  // the segment closes it when the last buffer lets go
    const int added = evbuffer_add_file_segment(body.get(), segment, 0, size);
    evbuffer_file_segment_free(segment);  // drops our reference only
    if (added != 0) {
        spdlog::error("[http] {}: 500: evbuffer_add_file_segment failed", logName);
        evhttp_remove_header(output, "Content-Length");
        sendPlainText(request, 500, "500 Internal Server Error\n");
        return;
    }
    evhttp_send_reply(request, 200, nullptr, body.get());
}

}  // namespace pyfpm::http
