#include "manager/slowlog.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "manager/describe.hpp"
#include "manager/unique_fd.hpp"

namespace pyfpm::manager {

std::string slowlogHeader(std::chrono::system_clock::time_point at, std::string_view pool, pid_t pid,
                          std::string_view method, std::string_view uri, std::chrono::milliseconds elapsed)
{
    const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    return fmt::format("[{:%Y-%m-%d %H:%M:%S}] [pool {}] pid {}: {} {} running {}; stack:\n", local, pool, pid,
                       method, uri, formatDuration(elapsed));
}

std::string appendToSlowlog(const std::filesystem::path& file, std::string_view text)
{
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!fd) {
        return fmt::format("open(2) {}: {}", file.string(), std::strerror(errno));
    }
    ssize_t written = -1;
    do {
        written = ::write(fd.get(), text.data(), text.size());
    } while (written < 0 && errno == EINTR);
    if (written < 0) {
        return fmt::format("write(2) {}: {}", file.string(), std::strerror(errno));
    }
    if (static_cast<std::size_t>(written) != text.size()) {
        return fmt::format("write(2) {}: short write ({} of {} bytes)", file.string(), written, text.size());
    }
    return {};
}

}  // namespace pyfpm::manager
