#include "src/pyfpm/http/static_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace pyfpm::http {

namespace {

std::atomic<RootCheck> rootCheck{RootCheck::Beneath};

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

// Root directories this thread has opened, by the path the route names.
// A request then costs one stat(2) of that path, compared by st_dev and
// st_ino with the directory held, instead of open(2) + readlink(2) +
// close(2): a root that a deploy replaced (a switched symlink, a renamed
// directory) stops matching at the next request and is opened afresh, so
// it is served at once, as before. Holding the descriptor keeps the old
// directory's inode alive, so its number cannot be reused by the new one.
// thread_local: the event loop is one thread, and the functions stay
// thread-safe without a lock.
struct CachedRoot {
    std::string path;
    manager::UniqueFd fd;  // O_PATH | O_DIRECTORY
    dev_t dev = 0;
    ino_t ino = 0;
};

// A daemon has a handful of static roots; the bound only matters to a
// process that looks up many (the tests), and keeps the descriptors held.
constexpr std::size_t kMaxCachedRoots = 16;
thread_local std::vector<CachedRoot> cachedRoots;

// The root for one call: a descriptor borrowed from cachedRoots (valid
// until the next openRoot on this thread), and its real path once
// realPath() asked for it.
struct OpenRoot {
    int fd = -1;
    struct stat info = {};  // the root directory (stat of its path)
    std::string real;
};

StaticFile openRoot(const std::filesystem::path& root, OpenRoot& opened) {
    const std::string& path = root.native();
    auto cached = std::find_if(cachedRoots.begin(), cachedRoots.end(),
                               [&](const CachedRoot& entry) { return entry.path == path; });
    if (::stat(path.c_str(), &opened.info) != 0) {
        const int error = errno;
        if (cached != cachedRoots.end()) cachedRoots.erase(cached);
        return result(statusForErrno(error),
                      fmt::format("stat(2) root {}: {}", path, std::strerror(error)));
    }
    if (cached != cachedRoots.end() && cached->dev == opened.info.st_dev &&
        cached->ino == opened.info.st_ino) {
        opened.fd = cached->fd.get();
        return result(StaticFile::Status::Ok, {});
    }

    // First use, or the path names another directory now.
    manager::UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fstat(fd.get(), &opened.info) != 0) {
        const int error = errno;
        if (cached != cachedRoots.end()) cachedRoots.erase(cached);
        return result(fd ? StaticFile::Status::Failed : statusForErrno(error),
                      fmt::format("{} root {}: {}", fd ? "fstat(2)" : "open(2)", path,
                                  std::strerror(error)));
    }
    if (cached == cachedRoots.end()) {
        if (cachedRoots.size() >= kMaxCachedRoots) cachedRoots.erase(cachedRoots.begin());
        cached = cachedRoots.insert(cachedRoots.end(), CachedRoot{path, {}, 0, 0});
    }
    cached->fd = std::move(fd);
    cached->dev = opened.info.st_dev;
    cached->ino = opened.info.st_ino;
    opened.fd = cached->fd.get();
    return result(StaticFile::Status::Ok, {});
}

// The root's real path, as the kernel reports it now, for the portable
// check; asked for only when openat2(2) could not decide.
bool realPath(OpenRoot& root) {
    return !root.real.empty() || descriptorPath(root.fd, root.real);
}

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

// openat2(2) with RESOLVE_BENEATH (Linux >= 5.6): the kernel refuses, with
// EXDEV, any resolution that would leave `dirFd`'s directory, whether by
// ".." or by a symlink, relative or absolute; it follows symlinks that stay
// below. RESOLVE_NO_MAGICLINKS: no /proc/PID/fd jumps. Returns the
// descriptor, or -errno.
int openBeneath(int dirFd, const char* name) {
    open_how how = {};
    how.flags = static_cast<std::uint64_t>(kOpenFlags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, dirFd, name, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    const int error = errno;
    // A kernel without openat2(2), or a seccomp filter that hides it.
    if (error == ENOSYS) rootCheck.store(RootCheck::Portable, std::memory_order_relaxed);
    return -error;
}

// Errors of openBeneath that do not settle the answer: the portable check
// decides. EXDEV: the path leaves the directory it was resolved from, yet
// may come back below the root (an absolute symlink to a file inside the
// root, an index symlink into a sibling directory), which is allowed; or
// it ends outside, which the portable check refuses. EAGAIN: a concurrent
// rename or mount. ELOOP: a magic link, or a real loop that the portable
// way reports too. The rest: openat2(2) itself refused the call.
bool undecided(int error) {
    switch (error) {
    case ENOSYS:
    case EXDEV:
    case EAGAIN:
    case ELOOP:
    case EPERM:
    case EINVAL:
    case E2BIG: return true;
    default: return false;
    }
}

// Opens `name` (no leading '/') relative to the directory `dirFd`, which is
// the root or a directory below it, and fstats it, any file type. `shown`
// names it in details. Ok only when the opened file lies below the root.
StaticFile openBelow(int dirFd, const std::string& name, const std::string& shown,
                     OpenRoot& root) {
    // O_NONBLOCK: opening a FIFO someone left in the root must not stall the
    // event loop; callers refuse anything but regular files and directories.
    manager::UniqueFd fd;
    if (rootCheck.load(std::memory_order_relaxed) == RootCheck::Beneath) {
        const int opened = openBeneath(dirFd, name.c_str());
        if (opened >= 0) {
            fd.reset(opened);
        } else if (!undecided(-opened)) {
            return result(statusForErrno(-opened),
                          fmt::format("openat2(2) {}: {}", shown, std::strerror(-opened)));
        }
    }
    if (!fd) {
        // The portable check: follow symlinks anywhere, then make sure the
        // path the kernel holds for the opened descriptor (/proc/self/fd)
        // lies below the root's. Checking the opened descriptor rather than
        // a path resolved beforehand leaves no window for a swapped symlink.
        fd.reset(::openat(dirFd, name.c_str(), kOpenFlags));
        if (!fd) {
            const int error = errno;
            return result(statusForErrno(error),
                          fmt::format("openat(2) {}: {}", shown, std::strerror(error)));
        }
        std::string real;
        if (!realPath(root) || !descriptorPath(fd.get(), real)) {
            return result(StaticFile::Status::Failed,
                          fmt::format("readlink(2) /proc/self/fd for {}: {}", shown,
                                      std::strerror(errno)));
        }
        if (!isBelow(real, root.real)) {
            return result(StaticFile::Status::Forbidden,
                          fmt::format("{} resolves to {}, outside the root {}", shown, real,
                                      root.real));
        }
    }
    StaticFile file;
    if (::fstat(fd.get(), &file.info) != 0) {
        return result(StaticFile::Status::Failed,
                      fmt::format("fstat(2) {}: {}", shown, std::strerror(errno)));
    }
    file.status = StaticFile::Status::Ok;
    file.fd = std::move(fd);
    return file;
}

// Narrows an opened entry (`shown`: its path) to a regular file.
StaticFile regularOnly(StaticFile file, const std::string& shown) {
    if (file.status != StaticFile::Status::Ok) return file;
    if (S_ISDIR(file.info.st_mode)) {
        return result(StaticFile::Status::Forbidden, fmt::format("{} is a directory", shown));
    }
    if (!S_ISREG(file.info.st_mode)) {
        return result(StaticFile::Status::Forbidden,
                      fmt::format("{} is not a regular file", shown));
    }
    return file;
}

std::string_view withoutLeadingSlashes(std::string_view path) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return path;
}

StaticLookup::Status lookupStatus(StaticFile::Status status) {
    switch (status) {
    case StaticFile::Status::Ok: return StaticLookup::Status::Ok;
    case StaticFile::Status::NotFound: return StaticLookup::Status::NotFound;
    case StaticFile::Status::Forbidden: return StaticLookup::Status::Forbidden;
    case StaticFile::Status::Failed: return StaticLookup::Status::Failed;
    }
    return StaticLookup::Status::Failed;
}

StaticLookup lookupResult(StaticLookup::Status status, std::string detail) {
    StaticLookup lookup;
    lookup.status = status;
    lookup.detail = std::move(detail);
    return lookup;
}

// The first of `names` that is a regular file in the directory `dirFd`
// ("/docs/", relative to the root: `dirPath`). NotFound when none is.
StaticLookup openIndex(int dirFd, const std::string& dirPath, OpenRoot& root,
                       const std::filesystem::path& rootShown,
                       std::span<const std::string> names) {
    for (const std::string& name : names) {
        const std::string path = dirPath + name;
        StaticFile file = openBelow(dirFd, name, rootShown.string() + path, root);
        switch (file.status) {
        case StaticFile::Status::Ok: break;
        case StaticFile::Status::NotFound: continue;
        case StaticFile::Status::Forbidden:
        case StaticFile::Status::Failed:
            return lookupResult(lookupStatus(file.status), std::move(file.detail));
        }
        // nginx would redirect into an index that is a directory; a file
        // named like an index but not one is simply not an index here.
        if (!S_ISREG(file.info.st_mode)) continue;
        StaticLookup lookup;
        lookup.status = StaticLookup::Status::Ok;
        lookup.fd = std::move(file.fd);
        lookup.info = file.info;
        lookup.path = path;
        return lookup;
    }
    std::string tried;
    for (const std::string& name : names) tried += (tried.empty() ? "" : ", ") + name;
    return lookupResult(StaticLookup::Status::NotFound,
                        fmt::format("{}{} has no index file ({})", rootShown.string(), dirPath,
                                    tried.empty() ? "none configured" : tried));
}

}  // namespace

void setRootCheck(RootCheck check) { rootCheck.store(check, std::memory_order_relaxed); }

StaticFile openStaticFile(const std::filesystem::path& root, std::string_view relativePath) {
    OpenRoot opened;
    if (StaticFile failed = openRoot(root, opened); failed.status != StaticFile::Status::Ok) {
        return failed;
    }
    relativePath = withoutLeadingSlashes(relativePath);
    if (relativePath.empty()) {
        return result(StaticFile::Status::Forbidden, "the route's root is a directory");
    }
    const std::string name(relativePath);
    const std::string shown = root.string() + "/" + name;
    return regularOnly(openBelow(opened.fd, name, shown, opened), shown);
}

StaticFile openGzipSibling(const std::filesystem::path& root, std::string_view filePath) {
    const std::string_view name = withoutLeadingSlashes(filePath);
    if (name.empty() || name.back() == '/') {
        return result(StaticFile::Status::NotFound, "a directory has no gzip sibling");
    }
    return openStaticFile(root, std::string(name) + ".gz");
}

StaticLookup lookupStaticFile(const std::filesystem::path& root, std::string_view relativePath,
                              const StaticLookupOptions& options) {
    OpenRoot opened;
    if (StaticFile failed = openRoot(root, opened); failed.status != StaticFile::Status::Ok) {
        return lookupResult(lookupStatus(failed.status), std::move(failed.detail));
    }
    const std::string_view name = withoutLeadingSlashes(relativePath);
    const bool slash = !relativePath.empty() && relativePath.back() == '/';

    // The entry the path names; the root itself for "" and "/", whose stat
    // openRoot made.
    StaticFile entry;
    const std::string shown = root.string() + "/" + std::string(name);
    if (name.empty()) {
        entry.status = StaticFile::Status::Ok;
        entry.info = opened.info;
    } else {
        entry = openBelow(opened.fd, std::string(name), shown, opened);
        if (entry.status != StaticFile::Status::Ok) {
            return lookupResult(lookupStatus(entry.status), std::move(entry.detail));
        }
    }

    if (S_ISREG(entry.info.st_mode)) {
        StaticLookup lookup;
        lookup.status = StaticLookup::Status::Ok;
        lookup.fd = std::move(entry.fd);
        lookup.info = entry.info;
        lookup.path = "/" + std::string(name);
        return lookup;
    }
    if (!S_ISDIR(entry.info.st_mode)) {
        return lookupResult(StaticLookup::Status::Forbidden,
                            fmt::format("{} is not a regular file", shown));
    }

    const int dirFd = name.empty() ? opened.fd : entry.fd.get();
    std::string dirPath = "/" + std::string(name);
    if (dirPath.back() != '/') dirPath += '/';
    if (!slash && !options.fallback) {
        return lookupResult(StaticLookup::Status::AddSlash,
                            fmt::format("{}{} is a directory", root.string(), dirPath));
    }
    StaticLookup index = openIndex(dirFd, dirPath, opened, root, options.index);
    if (index.status == StaticLookup::Status::NotFound && !options.fallback) {
        index.status = StaticLookup::Status::Forbidden;
    }
    if (index.status == StaticLookup::Status::Ok && !slash) {
        // With a fallback, a slash-less directory redirects only when it has
        // an index to show; the index found is not sent.
        return lookupResult(StaticLookup::Status::AddSlash,
                            fmt::format("{}{} is a directory", root.string(), dirPath));
    }
    return index;
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

}  // namespace pyfpm::http
