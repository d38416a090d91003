#include "src/pyfpm/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace pyfpm::daemon {

bool setupLogging(const std::filesystem::path& errorLog, std::string& error) {
    std::shared_ptr<spdlog::logger> logger;
    try {
        if (errorLog.empty()) {
            logger = std::make_shared<spdlog::logger>(
                "pyfpm", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        } else {
            logger = std::make_shared<spdlog::logger>(
                "pyfpm", std::make_shared<spdlog::sinks::basic_file_sink_mt>(errorLog.string(), false));
        }
    } catch (const spdlog::spdlog_ex& e) {
        error = e.what();
        return false;
    }
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] %v");
    logger->set_level(spdlog::level::info);
    // Worker output and errors must reach the log even if the daemon is
    // killed right after; lines are short and few next to requests.
    logger->flush_on(spdlog::level::trace);
    // Replaces (and so closes) the previous logger: the old file is closed
    // after the new one is open.
    spdlog::set_default_logger(std::move(logger));
    return true;
}

}  // namespace pyfpm::daemon
