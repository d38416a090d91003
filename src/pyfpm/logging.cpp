#include "src/pyfpm/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace pyfpm::daemon {

namespace {

spdlog::level::level_enum level_ = spdlog::level::info;

spdlog::level::level_enum toSpdlog(config::LogLevel level) {
    switch (level) {
    case config::LogLevel::Error: return spdlog::level::err;
    case config::LogLevel::Warning: return spdlog::level::warn;
    case config::LogLevel::Notice: return spdlog::level::info;
    case config::LogLevel::Info: return spdlog::level::info;
    case config::LogLevel::Debug: return spdlog::level::debug;
    }
    return spdlog::level::info;
}

}  // namespace

void setLogLevel(config::LogLevel level) {
    level_ = toSpdlog(level);
    spdlog::set_level(level_);
}

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
    logger->set_level(level_);
    // Worker output and errors must reach the log even if the daemon is
    // killed right after; lines are short and few next to requests.
    logger->flush_on(spdlog::level::trace);
    // Replaces (and so closes) the previous logger: the old file is closed
    // after the new one is open.
    spdlog::set_default_logger(std::move(logger));
    return true;
}

}  // namespace pyfpm::daemon
