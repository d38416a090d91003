// Static routes: files below a route's `root`, GET and HEAD only.
//
// Nothing outside `root` is ever served. The request path arrives decoded
// and normalised (request_path.hpp), so it has no ".." segment; symlinks are
// followed, but the file actually opened is checked: its path, as the kernel
// reports it for the open descriptor (/proc/self/fd), must lie below the
// root's real path. Checking the opened descriptor rather than a path that
// was resolved beforehand leaves no window for a swapped symlink (TOCTOU).
// fstat(2) on the same descriptor decides "regular file" and gives the size
// and mtime that are sent. The body goes out with sendfile(2) via
// evbuffer_add_file_segment, never read into memory.
//
// On the daemon's event loop thread (serveStaticFile); openStaticFile and
// formatHttpDate are thread-safe.
#pragma once

#include <event2/http.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>

#include "manager/unique_fd.hpp"
#include "src/pyfpm/http/mime_types.hpp"

namespace pyfpm::http {

struct StaticFile {
    enum class Status {
        Ok,         // fd and info are set
        NotFound,   // 404: no such file (or no root)
        Forbidden,  // 403: a directory, not a regular file, no permission,
                    // or it resolves outside the root
        Failed,     // 500: a system call failed unexpectedly
    };
    Status status = Status::NotFound;
    manager::UniqueFd fd;    // Ok: opened read-only
    struct stat info = {};   // Ok: fstat of fd
    std::string detail;      // why, naming the call and strerror; for the log only
};

// Opens `relativePath` ("" or "/css/site.css", decoded, normalised) below
// `root` under the rules above.
StaticFile openStaticFile(const std::filesystem::path& root, std::string_view relativePath);

// RFC 9110 §5.6.7 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), independent
// of the locale.
std::string formatHttpDate(std::time_t time);

// Answers `request` from `root`: 200 with Content-Type (from `mimeTypes`),
// Content-Length and Last-Modified; 304 when If-Modified-Since repeats
// Last-Modified exactly (nginx's `if_modified_since exact`); 405 with
// `Allow: GET, HEAD` for other methods; 403, 404, or 500. `logName` is
// "GET /static/x.css" for log lines. Hands the request back to evhttp.
void serveStaticFile(evhttp_request* request, const std::filesystem::path& root,
                     std::string_view relativePath, const MimeTypes& mimeTypes,
                     std::string_view logName);

}  // namespace pyfpm::http
