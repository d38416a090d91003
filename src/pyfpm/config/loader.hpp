// Loading pyfpm.yaml(5) into a Config: the daemon calls loadConfig() at start
// and on reload; `pyfpm -t` calls checkConfig(). Synchronous, reads the file
// and stats the paths it names; spawns nothing, binds nothing. Thread-safe
// (no shared state).
//
// Loading runs in two passes (STYLE.md "Config"): each key on its own (type,
// syntax, range, unknown and duplicate keys, existing directories, known
// users and groups), then rules across keys (a route's pool exists, listen
// addresses are unique, a pool's spare servers fit max_children). Every
// error is collected, each as "FILE:LINE:COL: key.path: expected ...".
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/config/error.hpp"

namespace pyfpm::config {

struct LoadResult {
    std::optional<Config> config;     // set if and only if errors is empty
    std::vector<ConfigError> errors;  // in file order; position-less ones first
};

// Reads and validates `file`. An unreadable file, a YAML syntax error, an
// empty file or one with several YAML documents are errors like any other.
LoadResult load(const std::filesystem::path& file);

// As load(), for text already read: `file` names it in errors, and relative
// paths resolve against its folder. The file itself is not read.
LoadResult loadText(const std::string& yaml, const std::filesystem::path& file);

// As load(), but throws InvalidConfig carrying every error.
Config loadConfig(const std::filesystem::path& file);

// `pyfpm -t -c FILE`: writes "FILE: ok" or every error, one per line, to
// `out`, and returns the exit status: 0 if the file is valid, 1 if not.
int checkConfig(const std::filesystem::path& file, std::ostream& out);

}  // namespace pyfpm::config
