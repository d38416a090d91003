#include "src/pyfpmctl/options.hpp"

#include <cmath>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

namespace pyfpm::ctl {

ParsedCommandLine parseCommandLine(int argc, char** argv, const std::filesystem::path& defaultConfig)
{
    CLI::App app{"pyfpmctl: control a running pyfpm daemon through its control socket"};
    app.set_version_flag("--version", "pyfpmctl " PYFPM_VERSION);
    app.require_subcommand(1);
    // -s, -c and --json may also follow the command: `pyfpmctl status --json`.
    app.fallthrough();
    Options options;
    std::string socket;
    std::string config = defaultConfig.string();
    app.add_option("-s,--socket", socket, "the control socket (control.socket)");
    app.add_option("-c,--config", config, "read control.socket from this pyfpm.yaml(5)")->capture_default_str();
    app.add_flag("--json", options.json, "print the daemon's JSON answer as it is");
    app.footer("Exit status: 0 ok, 1 failed, 2 usage, 3 daemon not running, 4 socket not accessible, "
               "5 unknown pool, 6 no answer. See pyfpmctl(8).");

    std::string pool;
    int workers = 0;
    double timeoutSeconds = -1;
    std::string file;
    std::map<const CLI::App*, control::Command> byApp;
    for (const auto& info : control::commands()) {
        CLI::App* sub = app.add_subcommand(std::string(info.name), std::string(info.summary));
        byApp.emplace(sub, info.command);
        switch (info.command) {
        case control::Command::Status:
            sub->add_option("POOL", pool, "only this pool");
            sub->add_flag("--workers", options.workers, "add a row per worker");
            break;
        case control::Command::Scale:
            sub->add_option("POOL", pool, "the pool")->required();
            sub->add_option("N", workers, "static: the worker count; dynamic, ondemand: max_children")
                ->required()
                ->check(CLI::Range(1, 10000));
            break;
        case control::Command::Restart:
            sub->add_option("POOL", pool, "the pool")->required();
            break;
        case control::Command::Stop:
            sub->add_option("--timeout", timeoutSeconds,
                            "seconds requests in flight may take (default: stop_timeout)")
                ->check(CLI::Range(0.0, 86400.0));
            break;
        case control::Command::CheckConfig:
            sub->add_option("FILE", file, "the pyfpm.yaml(5) file")->required();
            break;
        case control::Command::Reload:
        case control::Command::ReopenLogs:
            break;
        }
    }

    ParsedCommandLine parsed;
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        parsed.exit = app.exit(e) == 0 ? ExitCode::Ok : ExitCode::Usage;
        return parsed;
    }
    for (const auto& [sub, command] : byApp) {
        if (sub->parsed()) {
            options.request.command = command;
        }
    }
    options.request.pool = pool;
    options.request.workers = workers;
    if (timeoutSeconds >= 0) {
        options.request.timeout = std::chrono::milliseconds(std::llround(timeoutSeconds * 1000));
    }
    if (!file.empty()) {
        options.request.file = std::filesystem::absolute(file);
    }
    options.socket = socket;
    options.config = config;
    parsed.options = options;
    return parsed;
}

}  // namespace pyfpm::ctl
