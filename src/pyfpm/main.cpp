// pyfpm: wires the command line, the configuration and the daemon together.
#include <iostream>

#include "manager/worker_binary.hpp"
#include "src/pyfpm/cli.hpp"
#include "src/pyfpm/config/loader.hpp"
#include "src/pyfpm/daemon.hpp"
#include "src/pyfpm/logging.hpp"

#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
    using pyfpm::daemon::ExitCode;

    const auto parsed = pyfpm::daemon::parseCommandLine(argc, argv);
    if (!parsed.options) return static_cast<int>(parsed.exit);
    const auto& options = *parsed.options;

    if (options.test) return pyfpm::config::checkConfig(options.config, std::cout);

    auto loaded = pyfpm::config::load(options.config);
    if (!loaded.config) {
        for (const auto& error : loaded.errors) std::cerr << error.toString() << '\n';
        return static_cast<int>(ExitCode::InvalidConfig);
    }
    std::string error;
    pyfpm::daemon::setLogLevel(loaded.config->log_level);
    if (!pyfpm::daemon::setupLogging(loaded.config->error_log, error)) {
        std::cerr << "pyfpm: cannot open error_log " << loaded.config->error_log.string() << ": "
                  << error << '\n';
        return static_cast<int>(ExitCode::StartFailed);
    }

    std::filesystem::path worker;
    try {
        worker = pyfpm::manager::locateWorkerBinary(PYFPM_LIBEXECDIR);
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return static_cast<int>(ExitCode::StartFailed);
    }
    return static_cast<int>(pyfpm::daemon::run(std::move(*loaded.config), worker));
}
