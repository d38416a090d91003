// The worker's resident set size, read after every request for the
// scoreboard (the status page shows it per worker) and for --max-rss.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pyfpm::worker {

// Pure: the RSS in bytes from the text of /proc/PID/statm ("size resident
// shared text lib data dt", in pages); nullopt when it does not parse.
std::optional<std::uint64_t> parseStatmRss(std::string_view statm, std::uint64_t pageBytes);

// /proc/self/statm, opened once (close-on-exec) so that each read is one
// pread(2) and no allocation: cheap enough for every request. statm's
// "resident" is what ps(1) shows as RSS (file-backed and anonymous pages,
// shared ones included). Main thread only.
class RssReader {
public:
    // Never throws: when /proc is not mounted, read() returns 0.
    RssReader();
    ~RssReader();
    RssReader(const RssReader&) = delete;
    RssReader& operator=(const RssReader&) = delete;

    // Bytes resident now; 0 when unknown.
    std::uint64_t read() const;

private:
    int fd_ = -1;
    std::uint64_t pageBytes_ = 0;
};

}  // namespace pyfpm::worker
