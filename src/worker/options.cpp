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
    CLI::App cli{"pyfpm-worker: serves one WSGI application over FastCGI on descriptor 0"};
    cli.set_version_flag("--version", std::string("pyfpm-worker ") + PYFPM_VERSION);
    cli.add_option("--app", options.app, "WSGI application as MODULE:CALLABLE")->required();
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

    if (!parseAppSpec(options.app)) {
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
