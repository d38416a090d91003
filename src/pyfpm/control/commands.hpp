// The commands of the control socket, one table for the daemon (which
// answers them), pyfpmctl (which sends them) and the test that checks
// pyfpmctl(8) documents each one.
#pragma once

#include <span>
#include <string_view>

namespace pyfpm::control {

enum class Command { Status, Scale, Restart, Reload, Stop, ReopenLogs, CheckConfig };

struct CommandInfo {
    Command command;
    std::string_view name;       // as typed: "reopen-logs"
    std::string_view arguments;  // pyfpmctl's synopsis: "POOL N"
    std::string_view summary;    // one line, for --help
    // False for check-config: pyfpmctl runs it itself, no daemon needed
    // (the daemon answers bad_request if sent it).
    bool viaDaemon;
};

// Every command, in the order pyfpmctl(8) lists them.
std::span<const CommandInfo> commands();

// By name; nullptr for an unknown one.
const CommandInfo* findCommand(std::string_view name);
const CommandInfo& infoOf(Command command);

}  // namespace pyfpm::control
