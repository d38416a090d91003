#include "test/control/ctl.hpp"

#include <sys/wait.h>

#include <atomic>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {

CtlResult runCtl(const std::filesystem::path& dir, const std::vector<std::string>& args)
{
    static std::atomic<int> counter{0};
    const int n = counter++;
    const auto out = dir / ("ctl-" + std::to_string(n) + ".out");
    const auto err = dir / ("ctl-" + std::to_string(n) + ".err");
    std::vector<std::string> argv{requiredEnv("PYFPM_CTL")};
    argv.insert(argv.end(), args.begin(), args.end());
    Child child({.argv = argv, .env = {}, .fds = {}, .stdoutFile = out, .stderrFile = err, .cwd = {}});
    CtlResult result;
    const auto status = child.wait(60s);
    if (status && WIFEXITED(*status)) {
        result.exit = WEXITSTATUS(*status);
    }
    result.out = readFile(out);
    result.err = readFile(err);
    return result;
}

std::string controlConfig(const std::string& poolKeys)
{
    return "control:\n  socket: \"{{dir}}/ctl.sock\"\n" + webPoolConfig(poolKeys);
}

}  // namespace pyfpm::test
