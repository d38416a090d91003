// pyfpmctl's command line (pyfpmctl(8), SYNOPSIS), parsed by CLI11 with one
// subcommand per row of the control command table.
#pragma once

#include <filesystem>
#include <optional>

#include "src/pyfpm/control/protocol.hpp"
#include "src/pyfpmctl/exit_code.hpp"

namespace pyfpm::ctl {

struct Options {
    std::filesystem::path socket;  // -s; else found through `config`
    std::filesystem::path config;  // -c; default: the installed pyfpm.yaml
    bool json = false;             // --json: print the daemon's answer as it is
    bool workers = false;          // status --workers
    control::Request request;
};

// Options, or the exit status when the program is done already (--help:
// Ok; a bad command line: Usage, with CLI11's message on stderr).
struct ParsedCommandLine {
    std::optional<Options> options;
    ExitCode exit = ExitCode::Ok;
};
ParsedCommandLine parseCommandLine(int argc, char** argv, const std::filesystem::path& defaultConfig);

}  // namespace pyfpm::ctl
