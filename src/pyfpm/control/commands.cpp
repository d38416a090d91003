#include "src/pyfpm/control/commands.hpp"

#include <algorithm>
#include <array>

namespace pyfpm::control {

namespace {

constexpr std::array kCommands{
    CommandInfo{Command::Status, "status", "[POOL]", "show every pool, or one, with its workers", true},
    CommandInfo{Command::Scale, "scale", "POOL N",
                "set a static pool's worker count, or max_children, until the next reload", true},
    CommandInfo{Command::Restart, "restart", "POOL", "replace a pool's workers, rolling, dropping no request",
                true},
    CommandInfo{Command::Reload, "reload", "", "reload the configuration file, as SIGHUP, and report the outcome",
                true},
    CommandInfo{Command::Stop, "stop", "[--timeout S]", "stop the daemon gracefully and wait until it is gone",
                true},
    CommandInfo{Command::ReopenLogs, "reopen-logs", "", "reopen the log files, as SIGUSR1", true},
    CommandInfo{Command::CheckConfig, "check-config", "FILE", "validate a configuration file (no daemon needed)",
                false},
};

}  // namespace

std::span<const CommandInfo> commands()
{
    return kCommands;
}

const CommandInfo* findCommand(std::string_view name)
{
    const auto found =
        std::find_if(kCommands.begin(), kCommands.end(), [&](const CommandInfo& info) { return info.name == name; });
    return found == kCommands.end() ? nullptr : &*found;
}

const CommandInfo& infoOf(Command command)
{
    // The table lists every enumerator exactly once, in enum order.
    return kCommands[static_cast<std::size_t>(command)];
}

}  // namespace pyfpm::control
