// A line of a worker's stdout/stderr, as the daemon logs it. pyfpm-worker,
// when supervised, writes its own log lines as "LEVEL: message" (spdlog's
// level names: trace, debug, info, warning, error, critical), with the pool
// and pid already in the message; the daemon re-logs them at that level
// without adding a second prefix. Anything else (an application's print(),
// a traceback, a foreign program) is logged as a warning with the pool and
// pid put in front. Pure; thread-safe.
#pragma once

#include <spdlog/common.h>

#include <string_view>

namespace pyfpm::manager {

struct WorkerOutputLine {
    spdlog::level::level_enum level = spdlog::level::warn;
    std::string_view message;  // points into the line given
    bool fromWorker = false;   // a "LEVEL: " line of pyfpm-worker's own log
};

WorkerOutputLine classifyWorkerOutput(std::string_view line);

}  // namespace pyfpm::manager
