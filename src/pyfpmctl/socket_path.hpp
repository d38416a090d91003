// Where pyfpmctl finds the control socket when -s is not given: the
// control.socket key of the daemon's configuration file.
#pragma once

#include <filesystem>
#include <string>
#include <variant>

namespace pyfpm::ctl {

// control.socket of `config`, made absolute against the file's folder as
// the daemon does, or the daemon's default (pyfpm.sock in that folder) when
// the key is absent. Only that key is read, so a file with errors elsewhere
// (one a reload refused) still names the socket of the running daemon.
// A message for people when the file cannot be read or parsed.
std::variant<std::filesystem::path, std::string> controlSocketOf(const std::filesystem::path& config);

}  // namespace pyfpm::ctl
