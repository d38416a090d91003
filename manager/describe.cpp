#include "manager/describe.hpp"

#include <sys/wait.h>

#include <cstring>

#include <fmt/format.h>

namespace pyfpm::manager {

std::string describeWaitStatus(int status)
{
    if (WIFEXITED(status)) {
        return fmt::format("exited with status {}", WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        // sigabbrev_np (glibc 2.32): "KILL"; nullptr for realtime signals.
        const char* name = ::sigabbrev_np(sig);
        std::string text = name != nullptr ? fmt::format("killed by SIG{}", name)
                                           : fmt::format("killed by signal {}", sig);
        if (WCOREDUMP(status)) {
            text += " (core dumped)";
        }
        return text;
    }
    return fmt::format("ended with wait status {:#x}", status);
}

std::string formatDuration(std::chrono::milliseconds duration)
{
    const long long ms = duration.count();
    if (ms < 1000) {
        return fmt::format("{}ms", ms);
    }
    if (ms < 60'000) {
        const long long tenths = (ms + 50) / 100;
        if (tenths % 10 == 0) {
            return fmt::format("{}s", tenths / 10);
        }
        return fmt::format("{}.{}s", tenths / 10, tenths % 10);
    }
    const long long seconds = (ms + 500) / 1000;
    return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
}

std::string countOf(long long count, std::string_view noun)
{
    return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

}  // namespace pyfpm::manager
