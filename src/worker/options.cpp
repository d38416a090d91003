#include "src/worker/options.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "manager/worker_contract.hpp"

namespace pyfpm::worker {

namespace {

bool isDottedIdentifier(std::string_view text)
{
    if (text.empty()) {
        return false;
    }
    bool atStart = true;
    for (char c : text) {
        if (c == '.') {
            if (atStart) {
                return false;
            }
            atStart = true;
            continue;
        }
        // Python identifiers may be non-ASCII; any byte >= 0x80 is left for
        // the import machinery to judge.
        const auto byte = static_cast<unsigned char>(c);
        const bool letter = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                            c == '_' || byte >= 0x80;
        const bool digit = byte >= '0' && byte <= '9';
        if (!(letter || (digit && !atStart))) {
            return false;
        }
        atStart = false;
    }
    return !atStart;
}

}  // namespace

std::optional<AppSpec> parseAppSpec(const std::string& spec)
{
    const auto colon = spec.find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    AppSpec result{spec.substr(0, colon), spec.substr(colon + 1)};
    if (!isDottedIdentifier(result.module) || !isDottedIdentifier(result.callable)) {
        return std::nullopt;
    }
    return result;
}

std::variant<WorkerOptions, int> parseOptions(int argc, char** argv)
{
    using manager::contract::WorkerExit;

    WorkerOptions options;
    CLI::App cli{"pyfpm-worker: serves one WSGI application, or the Python scripts of a folder, "
                 "over FastCGI on descriptor 0"};
    cli.set_version_flag("--version", std::string("pyfpm-worker ") + PYFPM_VERSION);
    auto* app = cli.add_option("--app", options.app, "WSGI application as MODULE:CALLABLE");
    auto* scripts = cli.add_option("--scripts", options.scriptsRoot,
                                   "run the file SCRIPT_FILENAME names, when it lies in this folder "
                                   "(php-fpm's model): as WSGI if it defines `application`, else as CGI")
                        ->type_name("ROOT");
    auto* extensions = cli.add_option("--script-extension", options.scriptExtensions,
                                      "file name ending a script must have (repeatable; default .py)")
                           ->type_name("EXT");
    app->excludes(scripts);
    extensions->needs(scripts);
    cli.add_option("--python-path", options.pythonPath,
                   "directory prepended to sys.path (repeatable, first wins)");
    cli.add_option("--virtualenv", options.virtualenv,
                   "virtualenv whose site-packages the application uses")
        ->envname("PYFPM_VIRTUALENV");
    cli.add_option("--pool", options.pool, "pool name for log lines")->envname("PYFPM_POOL");
    int notifyFd = -1;
    auto* notify = cli.add_option("--notify-fd", notifyFd,
                                  "descriptor to write \"ready\\n\" to before the first accept, "
                                  "and \"recycle REASON VALUE\\n\" once a limit is reached")
                       ->check(CLI::NonNegativeNumber);
    int scoreboardFd = -1;
    auto* scoreboard = cli.add_option("--scoreboard-fd", scoreboardFd,
                                      "descriptor of the pool's scoreboard memfd (the daemon passes 4); "
                                      "the worker keeps its state, current request and RSS in it")
                           ->check(CLI::NonNegativeNumber)
                           ->type_name("N");
    std::size_t slot = 0;
    auto* slotOption = cli.add_option("--slot", slot, "this worker's slot in the scoreboard")
                           ->check(CLI::NonNegativeNumber)
                           ->type_name("I");
    scoreboard->needs(slotOption);
    slotOption->needs(scoreboard);
    cli.add_option("--max-requests", options.maxRequests,
                   "after N requests, ask the manager once (on --notify-fd) to recycle this worker; "
                   "0 = never")
        ->check(CLI::NonNegativeNumber)
        ->type_name("N");
    cli.add_option("--max-rss", options.maxRssBytes,
                   "when the resident set exceeds BYTES after a request, ask the manager once to "
                   "recycle this worker; 0 = never")
        ->check(CLI::NonNegativeNumber)
        ->type_name("BYTES");
    cli.add_option("--slowlog", options.slowlog,
                   "file (appended to) that receives the Python stack of the main thread on SIGUSR2")
        ->type_name("FILE");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return cli.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return cli.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return cli.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "pyfpm-worker: {}\n", e.what());
        return static_cast<int>(WorkerExit::Usage);
    }

    if (app->count() == 0 && scripts->count() == 0) {
        fmt::print(stderr, "pyfpm-worker: one of --app MODULE:CALLABLE and --scripts ROOT is required\n");
        return static_cast<int>(WorkerExit::Usage);
    }
    if (scripts->count() > 0) {
        if (options.scriptsRoot.empty()) {
            fmt::print(stderr, "pyfpm-worker: --scripts: expected a folder\n");
            return static_cast<int>(WorkerExit::Usage);
        }
        if (options.scriptExtensions.empty()) {
            options.scriptExtensions = {".py"};
        }
        for (const auto& extension : options.scriptExtensions) {
            if (extension.size() < 2 || extension.front() != '.' || extension.find('/') != std::string::npos) {
                fmt::print(stderr, "pyfpm-worker: --script-extension \"{}\": expected a file name "
                                   "ending such as .py\n", extension);
                return static_cast<int>(WorkerExit::Usage);
            }
        }
    } else if (!parseAppSpec(options.app)) {
        fmt::print(stderr, "pyfpm-worker: --app \"{}\": expected MODULE:CALLABLE, e.g. app:app\n",
                   options.app);
        return static_cast<int>(WorkerExit::Usage);
    }
    if (notify->count() > 0) {
        options.notifyFd = notifyFd;
    }
    if (scoreboard->count() > 0) {
        options.scoreboardFd = scoreboardFd;
        options.slot = slot;
    }
    return options;
}

}  // namespace pyfpm::worker
