#include "src/pyfpm/http/exchange.hpp"

#include <event2/buffer.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "src/pyfpm/http/ascii.hpp"
#include "manager/timeval.hpp"
#include "src/pyfpm/http/reply.hpp"

namespace pyfpm::http {

namespace {

// A worker that writes FCGI_STDERR without newlines still gets logged, in
// pieces of this size.
constexpr std::size_t kMaxStderrLine = 8 * 1024;

std::string formatDuration(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{}ms", ms);
}

std::optional<std::uint64_t> parseContentLength(std::string_view value) {
    std::uint64_t length = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (error != std::errc() || end != value.data() + value.size() || value.empty()) {
        return std::nullopt;
    }
    return length;
}

}  // namespace

std::string toString(Exchange::State state) {
    switch (state) {
    case Exchange::State::Spooling: return "spooling";
    case Exchange::State::AwaitingHead: return "awaiting head";
    case Exchange::State::Streaming: return "streaming";
    case Exchange::State::Done: return "done";
    }
    return "unknown";
}

Exchange::Exchange(ExchangeHost& host, ClientConnection& connection, ExchangeSettings settings,
                   RequestDescription request, std::string logName)
    : host_(host),
      connection_(&connection),
      settings_(std::move(settings)),
      request_(std::move(request)),
      log_name_(std::move(logName)),
      upstream_(host.base(), *this, settings_.maxHeadBytes),
      body_(evbuffer_new()) {}

Exchange::~Exchange() { timer_.reset(); }

void Exchange::start() {
    started_ = std::chrono::steady_clock::now();
    timer_.reset(evtimer_new(host_.base(), &Exchange::onTimeout, this));
    const Request& request = connection_->request();
    if (!request.hasBody()) {
        body_complete_ = true;
        if (request.contentLength) request_.contentLength = 0;
        connection_->watch(*this);
        connect();
        return;
    }
    if (request.contentLength) {
        // Streamed as it arrives: the worker can start at once.
        request_.contentLength = *request.contentLength;
        connection_->readBody(*this);
        connect();
        return;
    }
    // Chunked: CONTENT_LENGTH is known only at the end, so the body waits
    // in an unlinked file (nginx's client_body_temp_path), not in memory.
    const std::filesystem::path& folder = settings_.spoolDirectory;
    spool_.reset(::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!spool_) {
        spdlog::error("[pool {}] {}: 500: open(2) O_TMPFILE in {}: {}", settings_.pool, log_name_,
                      folder.string(), std::strerror(errno));
        answerError(500, "500 Internal Server Error\n");
        return;
    }
    state_ = State::Spooling;
    connection_->readBody(*this);
}

void Exchange::connect() {
    state_ = State::AwaitingHead;
    const timeval timeout = manager::toTimeval(settings_.requestTimeout);
    evtimer_add(timer_.get(), &timeout);
    for (const auto& [name, value] : buildCgiParams(request_)) params_.add(name, value);
    params_.add(kWorkerHeaderParam, "1");
    // nginx's proxy_next_upstream: a request that can be sent again (no
    // body, a method that changes nothing) is, once, when a worker's kept
    // channel fails before any answer (the worker died while idle, and its
    // EOF was not seen yet).
    const std::string& method = request_.method;
    retryable_ = request_.contentLength.value_or(0) == 0 && !spool_ &&
                 (method == "GET" || method == "HEAD" || method == "OPTIONS");
    dispatch();
}

void Exchange::dispatch() {
    if (settings_.channels != nullptr) {
        Channel* channel = nullptr;
        switch (settings_.channels->acquire(*this, channel)) {
        case WorkerChannels::Grant::Now: startOn(*channel); return;
        case WorkerChannels::Grant::Queued: queued_ = true; return;
        case WorkerChannels::Grant::None: break;
        }
    }
    connectPoolSocket();
}

void Exchange::startOn(Channel& channel) {
    on_channel_ = true;
    upstream_.start(channel, params_, this);
}

void Exchange::onChannel(Channel* channel) {
    queued_ = false;
    if (state_ == State::Done) {
        if (channel != nullptr) channel->owner->release(*channel, true);
        return;
    }
    if (channel != nullptr) {
        startOn(*channel);
        return;
    }
    connectPoolSocket();
}

void Exchange::connectPoolSocket() {
    on_channel_ = false;
    std::string error;
    if (!upstream_.start(settings_.address, params_, this, error)) {
        spdlog::error("[pool {}] {}: 502 Bad Gateway: {}", settings_.pool, log_name_, error);
        answerError(502, "502 Bad Gateway\n");
    }
}

// --- the request body --------------------------------------------------------

void Exchange::onBodyData(std::string_view data) {
    if (state_ == State::Done) return;
    if (state_ == State::Spooling) {
        if (settings_.maxBodyBytes > 0 && spooled_ + data.size() > settings_.maxBodyBytes) {
            spdlog::warn("[pool {}] {}: 413: the chunked request body exceeds max_body_size ({} bytes)",
                         settings_.pool, log_name_, settings_.maxBodyBytes);
            answerError(413, "413 Content Too Large\n");
            return;
        }
        while (!data.empty()) {
            const ssize_t n = ::write(spool_.get(), data.data(), data.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                spdlog::error("[pool {}] {}: 500: write(2) to the request body spool in {}: {}",
                              settings_.pool, log_name_, settings_.spoolDirectory.string(),
                              std::strerror(errno));
                answerError(500, "500 Internal Server Error\n");
                return;
            }
            spooled_ += static_cast<std::uint64_t>(n);
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return;
    }
    evbuffer_add(body_.get(), data.data(), data.size());
    upstream_.stdinReady();
    if (connection_ != nullptr && evbuffer_get_length(body_.get()) > settings_.clientHighWater) {
        // The worker reads slower than the client sends: stop reading the
        // client rather than buffer the upload here.
        connection_->pauseBody();
    }
}

void Exchange::onBodyEnd() {
    body_complete_ = true;
    if (state_ == State::Spooling) {
        request_.contentLength = spooled_;
        connect();
        return;
    }
    upstream_.stdinReady();
}

std::size_t Exchange::readStdin(std::string& out, std::size_t max) {
    if (spool_) {
        const std::uint64_t left = spooled_ - spool_read_;
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, max));
        if (want == 0) return 0;
        const std::size_t at = out.size();
        out.resize(at + want);
        const ssize_t n = ::pread(spool_.get(), out.data() + at, want, static_cast<off_t>(spool_read_));
        if (n <= 0) {
            out.resize(at);
            spdlog::error("[pool {}] {}: pread(2) of the request body spool: {}", settings_.pool,
                          log_name_, n < 0 ? std::strerror(errno) : "unexpected end of file");
            spool_read_ = spooled_;  // end the stream; the worker sees a short body
            return 0;
        }
        out.resize(at + static_cast<std::size_t>(n));
        spool_read_ += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
    }
    const std::size_t available = evbuffer_get_length(body_.get());
    const std::size_t take = std::min(available, max);
    if (take == 0) return 0;
    const std::size_t at = out.size();
    out.resize(at + take);
    evbuffer_remove(body_.get(), out.data() + at, take);
    if (connection_ != nullptr && !body_complete_ &&
        evbuffer_get_length(body_.get()) <= settings_.clientHighWater / 2) {
        connection_->resumeBody();
    }
    return take;
}

bool Exchange::stdinComplete() const {
    if (spool_) return spool_read_ >= spooled_;
    return body_complete_ && evbuffer_get_length(body_.get()) == 0;
}

// --- the response ------------------------------------------------------------

void Exchange::onUpstreamHead(const fcgi::ResponseHead& head) {
    if (state_ != State::AwaitingHead || connection_ == nullptr) return;
    if (head.status < 200 || head.status > 599) {
        upstream_.close();
        spdlog::error("[pool {}] {}: 502 Bad Gateway: the application answered status {}",
                      settings_.pool, log_name_, head.status);
        answerError(502, "502 Bad Gateway\n");
        return;
    }

    HeaderList headers;
    headers.reserve(head.headers.size());
    std::optional<std::uint64_t> contentLength;
    for (const auto& [name, value] : head.headers) {
        if (isHopByHopHeader(name)) continue;
        if (iequals(name, kWorkerHeader)) {
            pid_t pid = 0;
            const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), pid);
            if (error == std::errc() && end == value.data() + value.size() && pid > 0) worker_pid_ = pid;
            continue;
        }
        if (iequals(name, "Content-Length")) {
            const auto length = parseContentLength(value);
            if (!length || (contentLength && *contentLength != *length)) {
                upstream_.close();
                spdlog::error("[pool {}] {}: 502 Bad Gateway: invalid Content-Length \"{}\"",
                              settings_.pool, log_name_, value);
                answerError(502, "502 Bad Gateway\n");
                return;
            }
            contentLength = length;
            continue;
        }
        headers.emplace_back(name, value);
    }
    const bool headRequest = connection_->request().isHead();
    expect_body_ = !headRequest && head.status != 204 && head.status != 304;
    remaining_ = contentLength;
    state_ = State::Streaming;
    connection_->sendHead(head.status, head.reason, headers, contentLength);
}

void Exchange::onUpstreamBody(std::string_view data) {
    if (state_ != State::Streaming || !expect_body_ || connection_ == nullptr) return;
    if (remaining_) {
        if (data.size() > *remaining_) {
            if (!warned_excess_) {
                spdlog::warn("[pool {}] {}: the application sent more than its Content-Length; "
                             "extra bytes dropped",
                             settings_.pool, log_name_);
                warned_excess_ = true;
            }
            data = data.substr(0, static_cast<std::size_t>(*remaining_));
        }
        *remaining_ -= data.size();
    }
    if (data.empty()) return;
    connection_->sendBody(data);
    if (!paused_ && connection_->outputPending() > settings_.clientHighWater) {
        // A slow client: let the worker block on its writes instead of
        // buffering its whole response here.
        paused_ = true;
        upstream_.pauseReading();
    }
}

void Exchange::onClientDrained() {
    if (state_ != State::Streaming || !paused_) return;
    paused_ = false;
    upstream_.resumeReading();
}

void Exchange::onUpstreamStderr(std::string_view data) {
    stderr_pending_.append(data);
    logStderrLines(false);
}

void Exchange::logStderrLines(bool flush) {
    std::string_view pending(stderr_pending_);
    while (true) {
        const std::size_t newline = pending.find('\n');
        if (newline == std::string_view::npos) {
            if (pending.size() < kMaxStderrLine && !(flush && !pending.empty())) break;
            const std::size_t take = std::min(pending.size(), kMaxStderrLine);
            spdlog::warn("[pool {}] {}: stderr: {}", settings_.pool, log_name_,
                         pending.substr(0, take));
            pending.remove_prefix(take);
            continue;
        }
        std::string_view line = pending.substr(0, newline);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        spdlog::warn("[pool {}] {}: stderr: {}", settings_.pool, log_name_, line);
        pending.remove_prefix(newline + 1);
    }
    stderr_pending_.erase(0, stderr_pending_.size() - pending.size());
}

void Exchange::onUpstreamEnd() {
    logStderrLines(true);
    if (state_ != State::Streaming) return;
    if (expect_body_ && remaining_ && *remaining_ > 0) {
        spdlog::error("[pool {}] {}: the response ended {} bytes short of its Content-Length; "
                      "closing the client connection",
                      settings_.pool, log_name_, *remaining_);
        truncateResponse();
        return;
    }
    finishResponse();
}

void Exchange::onUpstreamFailure(std::string_view why) {
    logStderrLines(true);
    switch (state_) {
    case State::AwaitingHead:
        if (on_channel_ && retryable_) {
            retryable_ = false;
            spdlog::warn("[pool {}] {}: {}; sending it again", settings_.pool, log_name_, why);
            dispatch();
            return;
        }
        spdlog::error("[pool {}] {}: 502 Bad Gateway: {}", settings_.pool, log_name_, why);
        answerError(502, "502 Bad Gateway\n");
        return;
    case State::Streaming:
        spdlog::error("[pool {}] {}: response truncated: {}; closing the client connection",
                      settings_.pool, log_name_, why);
        truncateResponse();
        return;
    case State::Spooling:
    case State::Done: return;
    }
}

void Exchange::onTimeout(evutil_socket_t, short, void* self) {
    auto* exchange = static_cast<Exchange*>(self);
    exchange->upstream_.close();
    exchange->logStderrLines(true);
    const std::string limit = formatDuration(exchange->settings_.requestTimeout);
    switch (exchange->state_) {
    case State::AwaitingHead:
        spdlog::error("[pool {}] {}: 504 Gateway Timeout: no response within request_timeout "
                      "({}) from {}; closed the FastCGI connection",
                      exchange->settings_.pool, exchange->log_name_, limit,
                      exchange->settings_.address.display);
        exchange->answerError(504, "504 Gateway Timeout\n");
        return;
    case State::Streaming:
        spdlog::error("[pool {}] {}: response not complete within request_timeout ({}); "
                      "closed the FastCGI connection and the client connection",
                      exchange->settings_.pool, exchange->log_name_, limit);
        exchange->truncateResponse();
        return;
    case State::Spooling:
    case State::Done: return;
    }
}

void Exchange::onClientGone(std::string_view why) {
    if (state_ == State::Done) return;
    const bool whole = state_ == State::Streaming && (!expect_body_ || (remaining_ && *remaining_ == 0));
    if (whole) {
        // Complete for the client; only FCGI_END_REQUEST was still due.
        spdlog::debug("[pool {}] {}: the client closed after the whole response; closed the "
                      "FastCGI connection before FCGI_END_REQUEST",
                      settings_.pool, log_name_);
    } else {
        spdlog::info("[pool {}] {}: 499: {} before the response was complete; closed the "
                     "FastCGI connection",
                     settings_.pool, log_name_, why);
    }
    if (connection_ != nullptr) noteUpstream();
    connection_ = nullptr;
    letGo();
    state_ = State::Done;
    host_.retire(this);
}

void Exchange::abandon() {
    if (state_ == State::Done) return;
    spdlog::warn("[pool {}] {}: abandoned: the HTTP bridge is shutting down", settings_.pool,
                 log_name_);
    connection_ = nullptr;
    letGo();
    state_ = State::Done;
}

void Exchange::noteUpstream() {
    if (noted_ || connection_ == nullptr) return;
    noted_ = true;
    UpstreamNote note;
    note.pool = settings_.pool;
    note.workerPid = worker_pid_;
    note.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_);
    host_.noteUpstream(*connection_, note);
}

void Exchange::letGo() {
    if (let_go_) return;
    let_go_ = true;
    if (queued_) {
        settings_.channels->cancel(*this);
        queued_ = false;
    }
    noteUpstream();
    upstream_.close();
    timer_.reset();
    spool_.reset();
}

void Exchange::finishResponse() {
    letGo();
    state_ = State::Done;
    if (ClientConnection* connection = std::exchange(connection_, nullptr)) connection->endResponse();
    host_.retire(this);
}

void Exchange::answerError(int status, std::string_view body) {
    letGo();
    state_ = State::Done;
    if (ClientConnection* connection = std::exchange(connection_, nullptr)) {
        connection->sendText(status, body, {});
    }
    host_.retire(this);
}

void Exchange::truncateResponse() {
    letGo();
    state_ = State::Done;
    if (ClientConnection* connection = std::exchange(connection_, nullptr)) connection->abortResponse();
    host_.retire(this);
}

}  // namespace pyfpm::http
