// pyfpm-worker's command line. Documented for users in pyfpm(8), "WORKER".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pyfpm::worker {

struct WorkerOptions {
    // Exactly one of `app` and `scriptsRoot` is set.
    std::string app;                       // "module:callable" (callable may be dotted)
    // A scripts pool (script_host.hpp): the folder SCRIPT_FILENAME must lie
    // in, as given (resolved per request), and the file name endings that
    // may run, each starting with '.'.
    std::string scriptsRoot;
    std::vector<std::string> scriptExtensions;  // {".py"} when none is given
    std::vector<std::string> pythonPath;   // prepended to sys.path, in this order
    std::string virtualenv;                // empty = none
    std::string pool = "default";          // only names the worker in log lines
    std::optional<int> notifyFd;           // manager/worker_contract.hpp kNotifyFd
    // Both or neither (manager/worker_contract.hpp kScoreboardFd): the
    // scoreboard memfd and this worker's slot in it.
    std::optional<int> scoreboardFd;
    std::optional<std::size_t> slot;
    std::uint64_t maxRequests = 0;  // ask to be recycled after this many requests; 0 = never
    std::uint64_t maxRssBytes = 0;  // ask to be recycled when RSS exceeds this after a request; 0 = never
    std::string slowlog;            // file the Python stack goes to on SIGUSR2; empty = none
};

// The application spec split at its colon: "pkg.mod:obj.attr" gives
// {"pkg.mod", "obj.attr"}.
struct AppSpec {
    std::string module;
    std::string callable;
};

// Splits `spec`; nullopt when it is not MODULE:CALLABLE with both parts
// made of dotted Python identifiers.
std::optional<AppSpec> parseAppSpec(const std::string& spec);

// Parses argv (CLI11). On --help/--version, prints and returns exit code 0;
// on a usage error (neither or both of --app and --scripts, an extension
// that does not start with '.' or holds a '/'), prints the reason on stderr
// and returns WorkerExit::Usage (2). Otherwise returns the options.
//
//   pyfpm-worker (--app MODULE:CALLABLE |
//                 --scripts ROOT [--script-extension EXT]...)
//                [--python-path DIR]...
//                [--virtualenv DIR] [--pool NAME] [--notify-fd N]
//                [--scoreboard-fd N --slot I] [--max-requests N]
//                [--max-rss BYTES] [--slowlog FILE]
//
// --virtualenv and --pool may also come from PYFPM_VIRTUALENV and
// PYFPM_POOL; extra module paths may also come from PYTHONPATH, which the
// interpreter reads itself.
std::variant<WorkerOptions, int> parseOptions(int argc, char** argv);

}  // namespace pyfpm::worker
