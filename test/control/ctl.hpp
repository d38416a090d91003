// Running pyfpmctl from the control tests: its exit status and output.
#pragma once

#include <string>
#include <vector>

#include "test/support/daemon.hpp"

namespace pyfpm::test {

struct CtlResult {
    int exit = -1;  // exit status; -1 if it did not exit normally in time
    std::string out;
    std::string err;
};

// Runs `$PYFPM_CTL args...` with stdout and stderr captured in `dir`,
// bounded by 60 s.
CtlResult runCtl(const std::filesystem::path& dir, const std::vector<std::string>& args);

// A daemon running pool `web` (bridge_app.py, with `poolKeys`) behind the
// HTTP bridge, its control socket at {{dir}}/ctl.sock.
std::string controlConfig(const std::string& poolKeys);

}  // namespace pyfpm::test
