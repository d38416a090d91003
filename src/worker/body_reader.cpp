#include "src/worker/body_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace pyfpm::worker {

namespace {

// libfcgi hands out at most INT_MAX per call.
constexpr std::size_t kMaxChunk = 1 << 20;
// How much readline() asks the socket for at a time.
constexpr std::size_t kLineChunk = 8192;

}  // namespace

BodyReader::BodyReader(FCGX_Stream* in, std::uint64_t contentLength)
    : in_(in), unread_(contentLength)
{
}

std::size_t BodyReader::pull(char* out, std::size_t size)
{
    const auto want = static_cast<std::size_t>(
        std::min<std::uint64_t>({size, unread_, kMaxChunk}));
    if (want == 0 || ended_ || in_ == nullptr) {
        return 0;
    }
    const int got = FCGX_GetStr(out, static_cast<int>(want), in_);
    if (got <= 0) {
        ended_ = true;
        return 0;
    }
    unread_ -= static_cast<std::uint64_t>(got);
    if (static_cast<std::size_t>(got) < want) {
        // FCGX_GetStr returns short only at the end of FCGI_STDIN.
        ended_ = true;
    }
    return static_cast<std::size_t>(got);
}

std::size_t BodyReader::fill(std::size_t want)
{
    if (position_ > 0) {
        buffer_.erase(0, position_);
        position_ = 0;
    }
    const std::size_t old = buffer_.size();
    buffer_.resize(old + want);
    const std::size_t got = pull(buffer_.data() + old, want);
    buffer_.resize(old + got);
    return got;
}

std::size_t BodyReader::read(char* out, std::size_t size)
{
    std::size_t done = std::min(size, buffered());
    std::memcpy(out, buffer_.data() + position_, done);
    position_ += done;
    while (done < size) {
        const std::size_t got = pull(out + done, size - done);
        if (got == 0) {
            break;
        }
        done += got;
    }
    return done;
}

std::size_t BodyReader::readLine(std::string& line, std::size_t limit)
{
    std::size_t scanned = 0;  // bytes of the buffer already known to hold no '\n'
    for (;;) {
        const char* begin = buffer_.data() + position_;
        const std::size_t window = std::min(buffered(), limit);
        const void* newline = std::memchr(begin + scanned, '\n', window - scanned);
        if (newline != nullptr || window == limit) {
            const std::size_t length =
                newline != nullptr ? static_cast<const char*>(newline) - begin + 1 : window;
            line.append(begin, length);
            position_ += length;
            return length;
        }
        scanned = window;
        if (fill(kLineChunk) == 0) {
            line.append(buffer_.data() + position_, window);
            position_ += window;
            return window;
        }
    }
}

std::uint64_t parseContentLength(const char* value)
{
    if (value == nullptr) {
        return 0;
    }
    const char* end = value + std::strlen(value);
    std::uint64_t length = 0;
    const auto [stop, error] = std::from_chars(value, end, length);
    if (error != std::errc() || stop != end || value == end) {
        return 0;
    }
    return length;
}

}  // namespace pyfpm::worker
