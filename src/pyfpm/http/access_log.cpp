#include "src/pyfpm/http/access_log.hpp"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <iterator>

#include <fmt/format.h>

namespace pyfpm::http {

namespace {

using config::LogVariable;

constexpr std::size_t kQueueLines = 8192;

// nginx's escaping of variables in access logs: '"', '\' and bytes outside
// printable ASCII as \xHH.
void appendEscaped(std::string& out, std::string_view text) {
    if (text.empty()) {
        out += '-';
        return;
    }
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\' || byte < 0x20 || byte >= 0x7f) {
            fmt::format_to(std::back_inserter(out), "\\x{:02X}", byte);
        } else {
            out += c;
        }
    }
}

std::string localTime(std::chrono::system_clock::time_point time, const char* pattern) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm local = {};
    ::localtime_r(&seconds, &local);
    char buffer[64];
    return std::string(buffer, std::strftime(buffer, sizeof(buffer), pattern, &local));
}

// "+0100" -> "+01:00", as ISO 8601 and nginx's $time_iso8601 write it.
std::string isoTime(std::chrono::system_clock::time_point time) {
    std::string text = localTime(time, "%Y-%m-%dT%H:%M:%S%z");
    if (text.size() >= 5) text.insert(text.size() - 2, ":");
    return text;
}

std::string secondsWithMs(std::chrono::microseconds duration) {
    const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
    return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

void appendVariable(std::string& out, LogVariable variable, const AccessRecord& r,
                    std::chrono::steady_clock::time_point finished, std::chrono::system_clock::time_point now) {
    switch (variable) {
    case LogVariable::RemoteAddr: appendEscaped(out, r.remoteAddr); return;
    case LogVariable::RemoteUser: out += '-'; return;
    case LogVariable::TimeLocal: out += localTime(r.receivedWall, "%d/%b/%Y:%H:%M:%S %z"); return;
    case LogVariable::TimeIso8601: out += isoTime(r.receivedWall); return;
    case LogVariable::Msec: {
        const long long ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        fmt::format_to(std::back_inserter(out), "{}.{:03}", ms / 1000, ms % 1000);
        return;
    }
    case LogVariable::Request:
        appendEscaped(out, r.method);
        out += ' ';
        appendEscaped(out, r.uri);
        out += ' ';
        appendEscaped(out, r.protocol);
        return;
    case LogVariable::RequestMethod: appendEscaped(out, r.method); return;
    case LogVariable::RequestUri: appendEscaped(out, r.uri); return;
    case LogVariable::ServerProtocol: appendEscaped(out, r.protocol); return;
    case LogVariable::Host: appendEscaped(out, r.host); return;
    case LogVariable::Status: fmt::format_to(std::back_inserter(out), "{}", r.status); return;
    case LogVariable::BodyBytesSent: fmt::format_to(std::back_inserter(out), "{}", r.bodyBytes); return;
    case LogVariable::HttpReferer: appendEscaped(out, r.referer); return;
    case LogVariable::HttpUserAgent: appendEscaped(out, r.userAgent); return;
    case LogVariable::RequestTime:
        out += secondsWithMs(std::chrono::duration_cast<std::chrono::microseconds>(
            std::max(finished - r.received, std::chrono::steady_clock::duration::zero())));
        return;
    case LogVariable::UpstreamResponseTime:
        out += r.upstreamTime ? secondsWithMs(*r.upstreamTime) : "-";
        return;
    case LogVariable::Pool: out += r.pool.empty() ? "-" : r.pool; return;
    case LogVariable::WorkerPid:
        out += r.workerPid > 0 ? std::to_string(r.workerPid) : "-";
        return;
    }
}

}  // namespace

std::string formatAccessLine(const std::vector<config::LogFormatPart>& format, const AccessRecord& record,
                             std::chrono::steady_clock::time_point finished,
                             std::chrono::system_clock::time_point now) {
    std::string line;
    for (const config::LogFormatPart& part : format) {
        if (part.variable) {
            appendVariable(line, *part.variable, record, finished, now);
        } else {
            line += part.literal;
        }
    }
    return line;
}

AccessLog::AccessLog(std::string target, std::string format)
    : target_(std::move(target)), format_text_(std::move(format)) {
    std::string error;
    auto parsed = config::parseLogFormat(format_text_, error);
    // The loader checked it; a format that fails here is a bug upstream, and
    // an empty format would still log nothing wrong.
    if (parsed) format_ = std::move(*parsed);
}

AccessLog::~AccessLog() {
    // The pool's thread writes what is queued, then joins.
    logger_.reset();
    thread_pool_.reset();
}

std::unique_ptr<AccessLog> AccessLog::open(const std::string& target, const std::string& format,
                                           std::string& error) {
    std::unique_ptr<AccessLog> log(new AccessLog(target, format));
    log->thread_pool_ = std::make_shared<spdlog::details::thread_pool>(kQueueLines, 1);
    if (!log->openSink(error)) return nullptr;
    return log;
}

bool AccessLog::openSink(std::string& error) {
    spdlog::sink_ptr sink;
    try {
        if (target_ == "stdout") {
            sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
        } else {
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(target_, false);
        }
    } catch (const spdlog::spdlog_ex& e) {
        error = e.what();
        return false;
    }
    auto pool = std::static_pointer_cast<spdlog::details::thread_pool>(thread_pool_);
    auto logger = std::make_shared<spdlog::async_logger>("access", std::move(sink), pool,
                                                         spdlog::async_overflow_policy::overrun_oldest);
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::info);
    // Flushing happens on the pool's thread, so every line reaches the file
    // promptly without the loop waiting for it.
    logger->flush_on(spdlog::level::info);
    logger_ = std::move(logger);
    return true;
}

void AccessLog::write(const AccessRecord& record) {
    if (!logger_) return;
    logger_->info(formatAccessLine(format_, record, std::chrono::steady_clock::now(),
                                   std::chrono::system_clock::now()));
}

bool AccessLog::reopen(std::string& error) {
    if (target_ == "stdout") return true;
    // Lines already queued hold the old logger and go to the old file.
    return openSink(error);
}

}  // namespace pyfpm::http
