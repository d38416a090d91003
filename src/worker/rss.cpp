#include "src/worker/rss.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace pyfpm::worker {

std::optional<std::uint64_t> parseStatmRss(std::string_view statm, std::uint64_t pageBytes)
{
    const auto space = statm.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view resident = statm.substr(space + 1);
    std::uint64_t pages = 0;
    const auto [end, error] = std::from_chars(resident.data(), resident.data() + resident.size(), pages);
    if (error != std::errc() || end == resident.data() || (end != resident.data() + resident.size() &&
                                                             *end != ' ' && *end != '\n')) {
        return std::nullopt;
    }
    return pages * pageBytes;
}

RssReader::RssReader()
    : fd_(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC)),
      pageBytes_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)))
{
}

RssReader::~RssReader()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

std::uint64_t RssReader::read() const
{
    if (fd_ < 0) {
        return 0;
    }
    // Seven numbers of at most 20 digits each fit; procfs regenerates the
    // text on every read at offset 0.
    char text[160];
    ssize_t length = 0;
    do {
        length = ::pread(fd_, text, sizeof text, 0);
    } while (length < 0 && errno == EINTR);
    if (length <= 0) {
        return 0;
    }
    return parseStatmRss(std::string_view(text, static_cast<std::size_t>(length)), pageBytes_).value_or(0);
}

}  // namespace pyfpm::worker
