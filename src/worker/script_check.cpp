#include "src/worker/script_check.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>

#include <fmt/core.h>

namespace pyfpm::worker {

namespace fs = std::filesystem;

namespace {

struct FreeDeleter {
    void operator()(char* text) const { std::free(text); }
};

// realpath(3) with a buffer it allocates itself (no PATH_MAX truncation);
// "" with errno set on failure.
std::string resolve(const char* path)
{
    const std::unique_ptr<char, FreeDeleter> resolved(::realpath(path, nullptr));
    return resolved ? std::string(resolved.get()) : std::string();
}

}  // namespace

std::string_view statusLine(Refusal refusal)
{
    switch (refusal) {
    case Refusal::NoScriptFilename:
    case Refusal::RootMissing:
    case Refusal::Missing:
        return "404 Not Found";
    case Refusal::Unresolvable:
    case Refusal::OutsideRoot:
    case Refusal::Extension:
    case Refusal::NotRegularFile:
        return "403 Forbidden";
    }
    return "403 Forbidden";
}

bool isBelow(const fs::path& root, const fs::path& path)
{
    auto rootPart = root.begin();
    auto pathPart = path.begin();
    for (; rootPart != root.end(); ++rootPart, ++pathPart) {
        // A trailing slash of the root shows as an empty last component.
        if (rootPart->empty() && std::next(rootPart) == root.end()) {
            break;
        }
        if (pathPart == path.end() || *rootPart != *pathPart) {
            return false;
        }
    }
    // Strictly below: something must follow the root's components.
    return pathPart != path.end() && !pathPart->empty();
}

bool hasScriptExtension(std::string_view path, const std::vector<std::string>& extensions)
{
    const auto slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    for (const auto& extension : extensions) {
        if (name.size() > extension.size() && name.ends_with(extension)) {
            return true;
        }
    }
    return false;
}

std::variant<ScriptFile, ScriptRefused> checkScript(const char* scriptFilename, const fs::path& root,
                                                    const std::vector<std::string>& extensions)
{
    if (scriptFilename == nullptr || *scriptFilename == '\0') {
        return ScriptRefused{Refusal::NoScriptFilename, "no SCRIPT_FILENAME param"};
    }
    const std::string realRoot = resolve(root.c_str());
    if (realRoot.empty()) {
        return ScriptRefused{Refusal::RootMissing,
                             fmt::format("realpath(3) of the root {}: {}", root.string(), std::strerror(errno))};
    }
    const std::string real = resolve(scriptFilename);
    if (real.empty()) {
        const int error = errno;
        const bool missing = error == ENOENT || error == ENOTDIR;
        return ScriptRefused{missing ? Refusal::Missing : Refusal::Unresolvable,
                             fmt::format("realpath(3): {}", std::strerror(error))};
    }
    if (!isBelow(realRoot, real)) {
        return ScriptRefused{Refusal::OutsideRoot,
                             fmt::format("resolves to {}, outside the scripts root {}", real, realRoot)};
    }
    if (!hasScriptExtension(scriptFilename, extensions) || !hasScriptExtension(real, extensions)) {
        std::string allowed;
        for (const auto& extension : extensions) {
            allowed += (allowed.empty() ? "" : " ") + extension;
        }
        return ScriptRefused{Refusal::Extension,
                             fmt::format("resolves to {}; scripts must end in {}", real, allowed)};
    }
    struct stat info = {};
    if (::stat(real.c_str(), &info) != 0) {
        const int error = errno;
        return ScriptRefused{error == ENOENT ? Refusal::Missing : Refusal::Unresolvable,
                             fmt::format("stat(2) {}: {}", real, std::strerror(error))};
    }
    if (!S_ISREG(info.st_mode)) {
        return ScriptRefused{Refusal::NotRegularFile, fmt::format("{} is not a regular file", real)};
    }
    const FileIdentity identity{info.st_dev, info.st_ino, info.st_size,
                                static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                                    info.st_mtim.tv_nsec};
    return ScriptFile{real, identity};
}

}  // namespace pyfpm::worker
