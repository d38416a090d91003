// pyfpm's command line (pyfpm(8), SYNOPSIS). CLI11 does the parsing.
#pragma once

#include <filesystem>
#include <optional>

namespace pyfpm::daemon {

// Exit statuses, documented in pyfpm(8) "EXIT STATUS".
enum class ExitCode : int {
    Ok = 0,
    InvalidConfig = 1,  // every error is printed
    Usage = 2,          // bad command line
    StartFailed = 3,    // a socket or address could not be taken, no worker binary
};

struct Options {
    std::filesystem::path config;  // -c FILE, made absolute
    bool test = false;             // -t: check the file, spawn nothing
};

// Parses argv. Returns the options, or the exit status when the program is
// done already: --help and --version print and give Ok, a bad command line
// prints CLI11's message and gives Usage.
struct ParsedCommandLine {
    std::optional<Options> options;
    ExitCode exit = ExitCode::Ok;
};
ParsedCommandLine parseCommandLine(int argc, char** argv);

}  // namespace pyfpm::daemon
