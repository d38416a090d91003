// People-readable words for log lines: how a process ended, how long
// something took.
#pragma once

#include <chrono>
#include <string>

namespace pyfpm::manager {

// A waitpid(2) status: "exited with status 3", "killed by SIGKILL",
// "killed by SIGSEGV (core dumped)".
std::string describeWaitStatus(int status);

// "0ms", "400ms", "3.2s", "30s", "2m05s": milliseconds under a second,
// tenths of a second under a minute, whole seconds above.
std::string formatDuration(std::chrono::milliseconds duration);

}  // namespace pyfpm::manager
