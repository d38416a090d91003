// pyfpm-worker's command line. Documented for users in pyfpm(8), "WORKER".
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pyfpm::worker {

struct WorkerOptions {
    std::string app;                       // "module:callable" (callable may be dotted)
    std::vector<std::string> pythonPath;   // prepended to sys.path, in this order
    std::string virtualenv;                // empty = none
    std::string pool = "default";          // only names the worker in log lines
    std::optional<int> notifyFd;           // manager/worker_contract.hpp kNotifyFd
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
// on a usage error, prints the reason on stderr and returns
// WorkerExit::Usage (2). Otherwise returns the options.
//
//   pyfpm-worker --app MODULE:CALLABLE [--python-path DIR]...
//                [--virtualenv DIR] [--pool NAME] [--notify-fd N]
//
// --virtualenv and --pool may also come from PYFPM_VIRTUALENV and
// PYFPM_POOL; extra module paths may also come from PYTHONPATH, which the
// interpreter reads itself.
std::variant<WorkerOptions, int> parseOptions(int argc, char** argv);

}  // namespace pyfpm::worker
