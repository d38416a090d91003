// pyfpmctl's exit statuses, documented in pyfpmctl(8) "EXIT STATUS".
#pragma once

namespace pyfpm::ctl {

enum class ExitCode : int {
    Ok = 0,
    Failed = 1,       // the daemon refused or could not do it; check-config: the file is invalid
    Usage = 2,        // bad command line, or a request the daemon called bad
    NotRunning = 3,   // no socket there, or nobody listens on it
    NoAccess = 4,     // the socket exists but may not be used (permissions)
    UnknownPool = 5,  // no pool by that name
    NoAnswer = 6,     // connected, but no (readable) answer in time
};

}  // namespace pyfpm::ctl
