// Helpers for manager tests that drive a real event loop with real child
// processes: a bounded loop runner, captured log lines, a one-line client.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <optional>
#include <string>
#include <vector>

#include <event2/event.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "test/support/process.hpp"

namespace pyfpm::manager::testing {

using EventBasePtr = std::unique_ptr<event_base, void (*)(event_base*)>;

inline EventBasePtr makeEventBase()
{
    return EventBasePtr(event_base_new(), &event_base_free);
}

// Runs `base` until `condition` holds (checked at least every 10 ms) or
// `timeout` passes; returns whether it held. Never waits unbounded.
inline bool runUntil(event_base* base, const std::function<bool()>& condition,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_ptr<event, void (*)(event*)> tick(
        event_new(base, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr), &event_free);
    const timeval interval{0, 10'000};
    event_add(tick.get(), &interval);
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        event_base_loop(base, EVLOOP_ONCE);
    }
    return true;
}

// Routes spdlog's default logger into a buffer (and stderr, for meson's
// log) for the lifetime of the object.
class LogCapture {
public:
    LogCapture()
        : ring_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096)),
          previous_(spdlog::default_logger())
    {
        auto logger = std::make_shared<spdlog::logger>(
            "test", spdlog::sinks_init_list{ring_, std::make_shared<spdlog::sinks::stderr_sink_mt>()});
        logger->set_pattern("%v");
        logger->set_level(spdlog::level::debug);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    // Without their line endings, so "$" in a pattern means end of message.
    std::vector<std::string> lines() const
    {
        std::vector<std::string> lines = ring_->last_formatted();
        for (auto& line : lines) {
            while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
                line.pop_back();
            }
        }
        return lines;
    }

    // The first line matching `pattern` (ECMAScript, searched anywhere in
    // the line), or "" when none does.
    std::string find(const std::string& pattern) const
    {
        const std::regex re(pattern);
        for (const auto& line : lines()) {
            if (std::regex_search(line, re)) {
                return line;
            }
        }
        return {};
    }

    bool contains(const std::string& pattern) const { return !find(pattern).empty(); }

private:
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring_;
    std::shared_ptr<spdlog::logger> previous_;
};

// Reads from `fd` until a newline; the line without it, or nullopt when the
// peer closes first or `timeout` passes. Retries what SIGCHLD (the
// Supervisor's reaper) interrupts: poll(2) whatever SA_RESTART says.
inline std::optional<std::string> readLine(int fd, std::chrono::milliseconds timeout)
{
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (line.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            return std::nullopt;
        }
        char buffer[512];
        const ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return std::nullopt;
        }
        line.append(buffer, static_cast<std::size_t>(n));
    }
    line.resize(line.find('\n'));
    return line;
}

// Connects to the unix socket and reads the fake worker's one-line answer
// (without "\n"); "" on failure or after `timeout`.
inline std::string askWorker(const std::filesystem::path& socket,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5))
{
    test::Fd fd = test::connectUnix(socket);
    if (!fd) {
        return {};
    }
    return readLine(fd.get(), timeout).value_or("");
}

inline std::string field(const std::string& answer, const std::string& key)
{
    const std::regex re("(?:^| )" + key + "=(\\S*)");
    std::smatch match;
    return std::regex_search(answer, match, re) ? match[1].str() : std::string();
}

// True once `pid` is gone or a zombie nobody here may reap.
inline bool processGone(pid_t pid)
{
    const std::string stat = [&] {
        try {
            return test::readFile("/proc/" + std::to_string(pid) + "/stat");
        } catch (...) {
            return std::string();
        }
    }();
    if (stat.empty()) {
        return true;
    }
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

}  // namespace pyfpm::manager::testing
