// The access log (pyfpm.yaml(5), http.access_log): one line per HTTP request
// the daemon answers (pool routes, static files, its own status paths),
// formatted by http.access_log_format, written by spdlog's asynchronous
// logger: the event loop only formats the line and queues it; a background
// thread writes it. When the queue (8192 lines) is full because the disk is
// slower than the traffic, the oldest queued lines are dropped rather than
// the loop blocked.
//
// Threading: open(), write() and reopen() on the daemon's loop thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/pyfpm/config/log_format.hpp"

namespace spdlog {
class logger;
}

namespace pyfpm::http {

// What is known about one request when it ends.
struct AccessRecord {
    std::chrono::system_clock::time_point receivedWall;  // $time_local, $time_iso8601
    std::chrono::steady_clock::time_point received;      // start of $request_time
    std::string remoteAddr;
    std::string method;
    std::string uri;        // as sent: path and query
    std::string protocol;   // "HTTP/1.1"
    std::string host;       // Host header; empty when none
    std::string referer;
    std::string userAgent;
    int status = 0;
    std::uint64_t bodyBytes = 0;
    std::optional<std::chrono::microseconds> upstreamTime;  // only for pool routes
    std::string pool;       // empty for static files and the daemon's own paths
    pid_t workerPid = 0;    // 0: unknown
};

// The line for `record` without its newline; `finished` is when the
// response ended (for $request_time), `now` the wall clock for $msec. Text
// from the client is escaped as nginx escapes it ("\xHH" for control bytes,
// '"' and '\'), so one request stays one line.
std::string formatAccessLine(const std::vector<config::LogFormatPart>& format, const AccessRecord& record,
                             std::chrono::steady_clock::time_point finished,
                             std::chrono::system_clock::time_point now);

class AccessLog {
public:
    // `target` is "stdout" or a file path (appended to, created if missing);
    // `format` must have passed config::parseLogFormat. Returns nullptr with
    // `error` (the path and the reason) when the file cannot be opened.
    static std::unique_ptr<AccessLog> open(const std::string& target, const std::string& format,
                                           std::string& error);
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    const std::string& target() const { return target_; }
    const std::string& formatText() const { return format_text_; }

    void write(const AccessRecord& record);

    // Opens the file again under its name (after logrotate renamed it);
    // lines queued before are still written to the old file. false with
    // `error` when it cannot be opened: logging then continues to the old one.
    bool reopen(std::string& error);

private:
    AccessLog(std::string target, std::string format);
    bool openSink(std::string& error);

    std::string target_;
    std::string format_text_;
    std::vector<config::LogFormatPart> format_;
    std::shared_ptr<void> thread_pool_;  // spdlog::details::thread_pool, kept out of this header
    std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace pyfpm::http
