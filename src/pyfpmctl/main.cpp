// pyfpmctl: wires the command line to the command runner.
#include <iostream>

#include "src/pyfpmctl/options.hpp"
#include "src/pyfpmctl/run.hpp"

int main(int argc, char** argv)
{
    const auto parsed = pyfpm::ctl::parseCommandLine(argc, argv, PYFPMCTL_DEFAULT_CONFIG);
    if (!parsed.options) {
        return static_cast<int>(parsed.exit);
    }
    return static_cast<int>(pyfpm::ctl::run(*parsed.options, std::cout, std::cerr));
}
