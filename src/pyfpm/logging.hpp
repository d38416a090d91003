// The daemon's log: spdlog's default logger, writing to standard error, one
// line per event: "2026-11-20 10:00:00.123 [warning] [pool web] ...".
#pragma once

namespace pyfpm::daemon {

// Replaces spdlog's default logger (which writes to stdout) with one on
// stderr; colours only when stderr is a terminal. Call once, before logging.
void setupLogging();

}  // namespace pyfpm::daemon
