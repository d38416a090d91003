#include "manager/worker_output.hpp"

#include <array>
#include <utility>

namespace pyfpm::manager {

WorkerOutputLine classifyWorkerOutput(std::string_view line) {
    static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 6> kLevels{{
        {"trace: ", spdlog::level::trace},
        {"debug: ", spdlog::level::debug},
        {"info: ", spdlog::level::info},
        {"warning: ", spdlog::level::warn},
        {"error: ", spdlog::level::err},
        {"critical: ", spdlog::level::critical},
    }};
    for (const auto& [prefix, level] : kLevels) {
        if (line.starts_with(prefix)) {
            return {level, line.substr(prefix.size()), true};
        }
    }
    return {spdlog::level::warn, line, false};
}

}  // namespace pyfpm::manager
