// Where the daemon finds pyfpm-worker.
#pragma once

#include <filesystem>

namespace pyfpm::manager {

inline constexpr char kWorkerBinaryName[] = "pyfpm-worker";

// The worker next to the running executable (the build tree puts pyfpm and
// pyfpm-worker side by side), else the one in `libexecDir` (the daemon's
// PYFPM_LIBEXECDIR). A candidate counts when it is a regular file the daemon
// may execute. Throws std::runtime_error naming both places tried.
std::filesystem::path locateWorkerBinary(const std::filesystem::path& libexecDir);

// The same search from `self` (the executable's path) instead of
// /proc/self/exe.
std::filesystem::path locateWorkerBinary(const std::filesystem::path& self, const std::filesystem::path& libexecDir);

}  // namespace pyfpm::manager
