// Whether the file a request names may run in a scripts pool
// (pyfpm.yaml(5) `scripts:`, script_host.hpp): php-fpm's
// security.limit_extensions and open_basedir rolled into one check of
// SCRIPT_FILENAME, done on every request.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pyfpm::worker {

// What tells one version of a file from the next: a changed file (edited in
// place, replaced by a rename, or truncated) differs in at least one field.
// Compared on every request to decide whether the cached code is current.
struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtimeNs = 0;  // st_mtim in nanoseconds since the epoch

    friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

// A file that may run.
struct ScriptFile {
    std::filesystem::path path;  // realpath(3) of SCRIPT_FILENAME: no symlink, no dot segment
    FileIdentity identity;
};

// Why a file may not run, in the order the checks are made.
enum class Refusal {
    NoScriptFilename,  // SCRIPT_FILENAME missing or empty                  -> 404
    RootMissing,       // the root itself does not resolve                  -> 404
    Missing,           // SCRIPT_FILENAME does not resolve (ENOENT, ENOTDIR) -> 404
    Unresolvable,      // it does not resolve for another reason (EACCES, ELOOP) -> 403
    OutsideRoot,       // its realpath is not below the root's realpath     -> 403
    Extension,         // its name, or its target's, has none of the extensions -> 403
    NotRegularFile,    // a directory, a device, a FIFO...                  -> 403
};

// "404 Not Found" or "403 Forbidden": the CGI Status line's value.
std::string_view statusLine(Refusal refusal);

struct ScriptRefused {
    Refusal refusal;
    std::string detail;  // for the log line: "realpath(3): No such file or directory"
};

// Checks `scriptFilename` (nullptr when the param is absent) against `root`
// and `extensions` (each starting with '.'). The root is resolved with
// realpath(3) on every call, so a root that is a symlink switched by a
// deployment is followed. Both the name asked for and the file it resolves
// to must end in an extension, so neither a "hello.py" symlink to a data
// file nor a "notes.txt" symlink to a script runs. Makes system calls
// (realpath, stat); never throws.
std::variant<ScriptFile, ScriptRefused> checkScript(const char* scriptFilename, const std::filesystem::path& root,
                                                    const std::vector<std::string>& extensions);

// True when `path` lies strictly below `root`, compared by path components
// ("/srv/www" holds "/srv/www/a.py", not "/srv/wwwx/a.py" nor "/srv/www"
// itself). Both must be absolute and normal (as realpath(3) returns them).
// Pure.
bool isBelow(const std::filesystem::path& root, const std::filesystem::path& path);

// True when the last component of `path` ends in one of `extensions` and
// has at least one character before it (".py" alone does not count, as the
// bridge's split of the request path does not count it). Pure.
bool hasScriptExtension(std::string_view path, const std::vector<std::string>& extensions);

}  // namespace pyfpm::worker
