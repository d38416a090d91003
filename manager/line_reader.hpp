// Reads a worker's pipe (its notify fd or its stdout/stderr) on the event
// loop and hands it over line by line.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "manager/unique_fd.hpp"

struct event;
struct event_base;

namespace pyfpm::manager {

// Owns the read end of a pipe; makes it non-blocking and watches it on
// `base`. `onLine` gets each line without its "\n" (or "\r\n"); a line
// longer than kMaxLine is handed over in kMaxLine pieces so a worker that
// writes binary junk cannot grow the daemon's memory. At end of file a last
// unterminated line is handed over, the descriptor is closed, and the
// watching stops. `onLine` must not destroy the reader.
class LineReader {
public:
    using LineCallback = std::function<void(std::string_view line)>;
    static constexpr std::size_t kMaxLine = 4096;

    // Throws std::runtime_error when libevent cannot add the event.
    LineReader(event_base* base, UniqueFd fd, LineCallback onLine);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // Reads everything the pipe holds right now, without waiting. A reaped
    // worker's last words are in the pipe even when the loop has not yet
    // seen them readable.
    void drain();

    bool atEof() const { return !fd_; }

private:
    static void onReadable(int, short, void* self);
    void consume(std::string_view data);
    void finish();

    UniqueFd fd_;
    LineCallback onLine_;
    std::string partial_;
    std::unique_ptr<event, void (*)(event*)> event_;
};

}  // namespace pyfpm::manager
