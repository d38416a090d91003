// One problem found in pyfpm.yaml, and the exception that carries all of
// them out of loadConfig() (loader.hpp).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace pyfpm::config {

struct ConfigError {
    // The file as the user named it (not made absolute), so messages match
    // what they typed.
    std::filesystem::path file;
    // 1-based, as editors count. 0 when the error has no position (the file
    // cannot be read). yaml-cpp's marks are 0-based; the loader adds 1.
    int line = 0;
    int column = 0;
    // Dotted path of the key: "pools.web.max_children", "http.routes[1].pool"
    // (list indexes 0-based). Empty for file-level and YAML syntax errors.
    std::string key;
    // What is wrong, usually "expected ...": "expected an integer from 1 to
    // 10000, got \"two\"".
    std::string message;

    // "FILE:LINE:COL: key: message"; "FILE: message" without a position; the
    // key part is left out when empty.
    std::string toString() const;

    friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

// Thrown by loadConfig(). what() is every error's toString(), one per line.
class InvalidConfig : public std::runtime_error {
public:
    explicit InvalidConfig(std::vector<ConfigError> errors);
    const std::vector<ConfigError>& errors() const { return errors_; }

private:
    std::vector<ConfigError> errors_;
};

}  // namespace pyfpm::config
