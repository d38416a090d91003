#include "src/pyfpm/http/static_files.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>


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

// The root, opened for this request, and its real path.
struct OpenRoot {
    manager::UniqueFd fd;  // O_PATH directory
    std::string real;
};

StaticFile openRoot(const std::filesystem::path& root, OpenRoot& opened) {
    // The root is opened per request, so a root that appears, or is replaced
    // by a deploy, after the daemon started is served as it is now.
    opened.fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!opened.fd) {
        const int error = errno;
        return result(statusForErrno(error),
                      fmt::format("open(2) root {}: {}", root.string(), std::strerror(error)));
    }
    if (!descriptorPath(opened.fd.get(), opened.real)) {
        return result(StaticFile::Status::Failed,
                      fmt::format("readlink(2) /proc/self/fd for root {}: {}", root.string(),
                                  std::strerror(errno)));
    }
    StaticFile ok;
    ok.status = StaticFile::Status::Ok;
    return ok;
}

// Opens `name` (no leading '/') relative to the directory `dirFd` and
// fstats it, any file type. `shown` names it in details; `real` receives
// the path the kernel holds for it. Ok only when the opened descriptor
// lies below the root's real path.
StaticFile openBelow(int dirFd, const std::string& name, const std::string& shown,
                     const OpenRoot& root, std::string& real) {
    // O_NONBLOCK: opening a FIFO someone left in the root must not stall the
    // event loop; callers refuse anything but regular files and directories.
    manager::UniqueFd fd(
        ::openat(dirFd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) {
        const int error = errno;
        return result(statusForErrno(error),
                      fmt::format("openat(2) {}: {}", shown, std::strerror(error)));
    }
    if (!descriptorPath(fd.get(), real)) {
        return result(StaticFile::Status::Failed,
                      fmt::format("readlink(2) /proc/self/fd for {}: {}", shown,
                                  std::strerror(errno)));
    }
    if (!isBelow(real, root.real)) {
        return result(StaticFile::Status::Forbidden,
                      fmt::format("{} resolves to {}, outside the root {}", shown, real,
                                  root.real));
    }
    StaticFile file;
    if (::fstat(fd.get(), &file.info) != 0) {
        return result(StaticFile::Status::Failed,
                      fmt::format("fstat(2) {}: {}", real, std::strerror(errno)));
    }
    file.status = StaticFile::Status::Ok;
    file.fd = std::move(fd);
    return file;
}

// Narrows an opened entry (`real`: its path) to a regular file.
StaticFile regularOnly(StaticFile file, const std::string& real) {
    if (file.status != StaticFile::Status::Ok) return file;
    if (S_ISDIR(file.info.st_mode)) {
        return result(StaticFile::Status::Forbidden, fmt::format("{} is a directory", real));
    }
    if (!S_ISREG(file.info.st_mode)) {
        return result(StaticFile::Status::Forbidden, fmt::format("{} is not a regular file", real));
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
StaticLookup openIndex(int dirFd, const std::string& dirPath, const OpenRoot& root,
                       const std::filesystem::path& rootShown,
                       std::span<const std::string> names) {
    for (const std::string& name : names) {
        const std::string path = dirPath + name;
        std::string real;
        StaticFile file = openBelow(dirFd, name, rootShown.string() + path, root, real);
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
    std::string real;
    StaticFile file = openBelow(opened.fd.get(), name, root.string() + "/" + name, opened, real);
    return regularOnly(std::move(file), real);
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

    // The entry the path names; the root itself for "" and "/".
    StaticFile entry;
    std::string real = opened.real;
    if (name.empty()) {
        entry.status = StaticFile::Status::Ok;
        if (::fstat(opened.fd.get(), &entry.info) != 0) {
            return lookupResult(StaticLookup::Status::Failed,
                                fmt::format("fstat(2) {}: {}", opened.real, std::strerror(errno)));
        }
    } else {
        const std::string relative(name);
        entry = openBelow(opened.fd.get(), relative, root.string() + "/" + relative, opened, real);
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
                            fmt::format("{} is not a regular file", real));
    }

    const int dirFd = name.empty() ? opened.fd.get() : entry.fd.get();
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
