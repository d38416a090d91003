#include "manager/worker_binary.hpp"

#include <unistd.h>

#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace pyfpm::manager {

namespace {

bool executable(const std::filesystem::path& candidate)
{
    std::error_code ec;
    return std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0;
}

}  // namespace

std::filesystem::path locateWorkerBinary(const std::filesystem::path& libexecDir)
{
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return locateWorkerBinary(ec ? std::filesystem::path() : self, libexecDir);
}

std::filesystem::path locateWorkerBinary(const std::filesystem::path& self, const std::filesystem::path& libexecDir)
{
    const auto besideSelf = self.empty() ? std::filesystem::path() : self.parent_path() / kWorkerBinaryName;
    if (!besideSelf.empty() && executable(besideSelf)) {
        return besideSelf;
    }
    const auto installed = libexecDir / kWorkerBinaryName;
    if (executable(installed)) {
        return installed;
    }
    throw std::runtime_error(fmt::format("{} not found: tried {} and {}", kWorkerBinaryName,
                                         besideSelf.empty() ? "(no /proc/self/exe)" : besideSelf.string(),
                                         installed.string()));
}

}  // namespace pyfpm::manager
