#include "manager/line_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>

#include <event2/event.h>

namespace pyfpm::manager {

LineReader::LineReader(event_base* base, UniqueFd fd, LineCallback onLine)
    : fd_(std::move(fd)), onLine_(std::move(onLine)), event_(nullptr, &event_free)
{
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
        throw std::runtime_error("fcntl(2) O_NONBLOCK on a worker pipe failed");
    }
    event_.reset(event_new(base, fd_.get(), EV_READ | EV_PERSIST, &LineReader::onReadable, this));
    if (!event_ || event_add(event_.get(), nullptr) != 0) {
        throw std::runtime_error("libevent: cannot watch a worker pipe");
    }
}

LineReader::~LineReader() = default;

void LineReader::onReadable(int, short, void* self)
{
    static_cast<LineReader*>(self)->drain();
}

void LineReader::drain()
{
    std::array<char, 4096> buffer{};
    while (fd_) {
        const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
        if (n > 0) {
            consume(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        // 0: every writer closed it. Any other error: nothing more will come.
        finish();
    }
}

void LineReader::consume(std::string_view data)
{
    while (!data.empty()) {
        const auto newline = data.find('\n');
        const std::size_t room = kMaxLine - partial_.size();
        if (newline == std::string_view::npos || newline > room) {
            const std::size_t take = std::min(room, data.size());
            partial_.append(data.substr(0, take));
            data.remove_prefix(take);
            if (partial_.size() == kMaxLine) {
                onLine_(partial_);
                partial_.clear();
            }
            continue;
        }
        partial_.append(data.substr(0, newline));
        data.remove_prefix(newline + 1);
        if (!partial_.empty() && partial_.back() == '\r') {
            partial_.pop_back();
        }
        onLine_(partial_);
        partial_.clear();
    }
}

void LineReader::finish()
{
    event_.reset();
    fd_.reset();
    if (!partial_.empty()) {
        onLine_(partial_);
        partial_.clear();
    }
}

}  // namespace pyfpm::manager
