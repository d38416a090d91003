// The daemon's log: spdlog's default logger, one line per event:
// "2026-11-20 10:00:00.123 [warning] [pool web] ...". To standard error, or
// to php-fpm's `error_log` file, which SIGUSR1 reopens (logrotate's
// copy-less rotation: rename, then signal).
//
// Called on the daemon's loop thread only.
#pragma once

#include <filesystem>
#include <string>

#include "src/pyfpm/config/config.hpp"

namespace pyfpm::daemon {

// The threshold of the default logger, now and for every later
// setupLogging (config's log_level; notice and info are spdlog's info).
void setLogLevel(config::LogLevel level);

// Installs the default logger: on stderr when `errorLog` is empty (colours
// only on a terminal), else appending to that file. Returns false with
// `error` (the file and strerror) when the file cannot be opened; the
// previous logger then stays.
bool setupLogging(const std::filesystem::path& errorLog, std::string& error);

// Opens the log file again under its name (after a rotation) or switches to
// `errorLog` (after a reload changed it). Same result as setupLogging.
inline bool reopenLogs(const std::filesystem::path& errorLog, std::string& error) {
    return setupLogging(errorLog, error);
}

}  // namespace pyfpm::daemon
