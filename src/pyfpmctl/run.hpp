// Runs one pyfpmctl command: check-config locally, every other command
// through the control socket. Prints results to `out`, problems to `err`
// (each line "pyfpmctl: ..."), and returns the exit status.
#pragma once

#include <ostream>

#include "src/pyfpmctl/exit_code.hpp"
#include "src/pyfpmctl/options.hpp"

namespace pyfpm::ctl {

ExitCode run(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace pyfpm::ctl
