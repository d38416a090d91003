// The running daemon: one libevent loop that carries the process manager,
// the HTTP bridge and the signal handling, and the graceful stop that ties
// them together (pyfpm(8), SIGNALS).
#pragma once

#include <filesystem>

#include "src/pyfpm/cli.hpp"
#include "src/pyfpm/config/config.hpp"

namespace pyfpm::daemon {

// Runs `config` until SIGTERM or SIGINT, on the calling thread. Spawns the
// workers of every pool, serves HTTP when the config has an http section,
// reloads config.file on SIGHUP and reopens the log on SIGUSR1, and returns
// Ok after a graceful stop, or StartFailed (after logging why) when a pool
// socket or an HTTP address cannot be had. Logging must be set up.
ExitCode run(config::Config config, const std::filesystem::path& workerBinary);

}  // namespace pyfpm::daemon
