#include "src/pyfpm/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace pyfpm::daemon {

void setupLogging() {
    auto logger = spdlog::stderr_color_mt("pyfpm");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] %v");
    spdlog::set_level(spdlog::level::info);
    // Worker output and errors must reach the log even if the daemon is
    // killed right after; lines are short and infrequent compared with
    // requests.
    spdlog::flush_on(spdlog::level::trace);
}

}  // namespace pyfpm::daemon
