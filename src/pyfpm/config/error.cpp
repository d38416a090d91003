#include "src/pyfpm/config/error.hpp"

#include <utility>

namespace pyfpm::config {

namespace {

std::string joinLines(const std::vector<ConfigError>& errors) {
    std::string text;
    for (const auto& error : errors) {
        if (!text.empty()) text += '\n';
        text += error.toString();
    }
    return text;
}

}  // namespace

std::string ConfigError::toString() const {
    std::string text = file.string();
    if (line > 0) text += ':' + std::to_string(line) + ':' + std::to_string(column);
    text += ": ";
    if (!key.empty()) text += key + ": ";
    return text + message;
}

InvalidConfig::InvalidConfig(std::vector<ConfigError> errors)
    : std::runtime_error(joinLines(errors)), errors_(std::move(errors)) {}

}  // namespace pyfpm::config
