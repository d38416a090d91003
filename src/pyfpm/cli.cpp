#include "src/pyfpm/cli.hpp"

#include <CLI/CLI.hpp>

namespace pyfpm::daemon {

ParsedCommandLine parseCommandLine(int argc, char** argv) {
    CLI::App app{"pyfpm: FastCGI process manager and HTTP bridge for Python web applications"};
    app.set_version_flag("--version", "pyfpm " PYFPM_VERSION);
    Options options;
    std::string config;
    app.add_option("-c,--config", config, "the pyfpm.yaml(5) file")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_flag("-t,--test", options.test, "check the configuration and exit; spawn nothing");
    app.footer("Signals: TERM/INT stop gracefully. See pyfpm(8).");

    ParsedCommandLine parsed;
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e);
        parsed.exit = status == 0 ? ExitCode::Ok : ExitCode::Usage;
        return parsed;
    }
    options.config = std::filesystem::absolute(config);
    parsed.options = options;
    return parsed;
}

}  // namespace pyfpm::daemon
