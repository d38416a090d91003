// People-readable words for log lines: how a process ended, how long
// something took.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace pyfpm::manager {

// A waitpid(2) status: "exited with status 3", "killed by SIGKILL",
// "killed by SIGSEGV (core dumped)".
std::string describeWaitStatus(int status);

// "0ms", "400ms", "3.2s", "30s", "2m05s": milliseconds under a second,
// tenths of a second under a minute, whole seconds above.
std::string formatDuration(std::chrono::milliseconds duration);

// "1 worker", "3 workers": `noun` with an "s" unless `count` is 1.
std::string countOf(long long count, std::string_view noun);

}  // namespace pyfpm::manager
