// Static routes: files below a route's `root`, GET and HEAD only.
//
// Nothing outside `root` is ever served. The request path arrives decoded
// and normalised (request_path.hpp), so it has no ".." segment; symlinks are
// followed, and a file is served when the file actually opened lies below
// the root's real path, wherever the symlinks on the way pointed (an
// absolute symlink to a file inside the root is served; one to a file
// outside is not). Two ways decide it, with the same answers:
//
// * RootCheck::Beneath (the default): openat2(2) with RESOLVE_BENEATH
//   (Linux >= 5.6) opens the file in one call, and the kernel refuses any
//   resolution that would leave the root. When it refuses, or cannot decide
//   (a symlink that leaves the directory and may come back, EXDEV), the
//   portable way decides that one file; on ENOSYS it decides from then on.
// * RootCheck::Portable: openat(2), then the path the kernel reports for the
//   open descriptor (/proc/self/fd) must lie below the root's.
//
// Either way the opened descriptor is checked, not a path resolved
// beforehand, so a swapped symlink leaves no window (TOCTOU). fstat(2) on
// the same descriptor decides "regular file" and gives the size and mtime
// that are sent. The body goes out with sendfile(2) via
// evbuffer_add_file_segment, never read into memory.
//
// The root directory stays open between requests (per thread, a few roots):
// each request stat(2)s the root's path and opens it afresh only when that
// names another directory than the one held (st_dev, st_ino), so a root
// that appears, or that a deploy replaces (a switched symlink, a renamed
// directory), is served as it is now, at the next request. A static file
// request costs stat, openat2, fstat and close.
//
// On the daemon's event loop thread (serveStaticFile); openStaticFile,
// lookupStaticFile, openGzipSibling and formatHttpDate are thread-safe.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <span>
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
// `root` under the rules above. A directory is Forbidden; see
// lookupStaticFile for index files.
StaticFile openStaticFile(const std::filesystem::path& root, std::string_view relativePath);

// How a static route treats a path that names a directory (config::Route).
struct StaticLookupOptions {
    // route.index: file names tried in order inside a directory. Empty: a
    // directory has no index.
    std::span<const std::string> index;
    // The route has a fallback pool (route.pool on a Static route): a
    // directory without an index file is NotFound, so that the request goes
    // to the pool, as nginx's `try_files $uri $uri/ @pool` does.
    bool fallback = false;
};

// The file a static route answers a path with, opened under the rules at
// the top of this file.
struct StaticLookup {
    enum class Status {
        Ok,         // fd, info and path are set: a regular file below the root
        AddSlash,   // 301: the path names a directory but does not end in
                    // '/'; Location: directoryRedirectLocation
                    // (static_policy.hpp) of the request path and query
        NotFound,   // no such file or directory, or (with `fallback`) a
                    // directory without an index file: 404, or the
                    // fallback pool
        Forbidden,  // 403 even with a fallback: a directory without an
                    // index file (no fallback), not a regular file, no
                    // permission, or it resolves outside the root
        Failed,     // 500: a system call failed unexpectedly
    };
    Status status = Status::NotFound;
    manager::UniqueFd fd;   // Ok: opened read-only
    struct stat info = {};  // Ok: fstat of fd
    // Ok: the file opened, relative to the root and starting with '/'
    // ("/docs/index.html" for "/docs/"). Content-Type is chosen from it, and
    // it is what openGzipSibling takes.
    std::string path;
    std::string detail;  // why, naming the call and strerror; for the log only
};

// Resolves `relativePath` (as for openStaticFile) below `root`: a regular
// file opens as it is. A directory (the root itself for "" or "/") named
// without a trailing '/' is AddSlash, as nginx answers it, except that with
// `fallback` a directory holding none of the index files is NotFound
// straight away. A directory named with its '/' opens the first of
// `options.index` that exists as a regular file in it; an index name that
// exists but is a directory or a special file is skipped, one that
// resolves outside the root or cannot be read is Forbidden. None: Forbidden,
// or NotFound with `fallback`. Thread-safe; blocking file system calls.
StaticLookup lookupStaticFile(const std::filesystem::path& root, std::string_view relativePath,
                              const StaticLookupOptions& options);

// Opens the gzip sibling `filePath` + ".gz" of a file lookupStaticFile
// found (`filePath` is StaticLookup::path), for a route with gzip_static,
// under the same root checks; only a regular file is Ok. Any other status
// means "send the plain file"; `detail` says why for a debug log.
StaticFile openGzipSibling(const std::filesystem::path& root, std::string_view filePath);

// How "below the root" is decided (top of this file). Process-wide; the
// default is Beneath, and Beneath turns into Portable by itself on a kernel
// without openat2(2). For tests, which run every case both ways.
enum class RootCheck { Beneath, Portable };
void setRootCheck(RootCheck check);

// RFC 9110 §5.6.7 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), independent
// of the locale.
std::string formatHttpDate(std::time_t time);

}  // namespace pyfpm::http
