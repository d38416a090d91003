#include "src/pyfpm/http/exchange.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

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
    case Exchange::State::AwaitingHead: return "awaiting head";
    case Exchange::State::Streaming: return "streaming";
    case Exchange::State::Flushing: return "flushing";
    case Exchange::State::Done: return "done";
    }
    return "unknown";
}

Exchange::Exchange(ExchangeHost& host, evhttp_request* request, ExchangeSettings settings,
                   fcgi::ParamsBuilder params, std::string logName)
    : host_(host),
      request_(request),
      connection_(evhttp_request_get_connection(request)),
      settings_(std::move(settings)),
      params_(std::move(params)),
      log_name_(std::move(logName)),
      upstream_(host.base(), *this, settings_.maxHeadBytes),
      chunk_(evbuffer_new()),
      head_request_(evhttp_request_get_command(request) == EVHTTP_REQ_HEAD) {}

Exchange::~Exchange() { releaseEvents(); }

void Exchange::setState(State next) { state_ = next; }

void Exchange::start() {
    started_ = std::chrono::steady_clock::now();
    event_base* base = host_.base();
    timer_.reset(evtimer_new(base, &Exchange::onTimeout, this));
    const timeval timeout = manager::toTimeval(settings_.requestTimeout);
    evtimer_add(timer_.get(), &timeout);

    // evhttp does not read from a client while its request is being
    // answered, so it would notice a client that gave up only when writing
    // the response. Watch the socket ourselves to drop the FastCGI request
    // at once, as nginx does (proxy_ignore_client_abort off).
    const evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(connection_));
    if (fd >= 0) {
        short events = EV_READ | EV_PERSIST;
        if ((event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE) != 0) events |= EV_CLOSED;
        client_watch_.reset(event_new(base, fd, events, &Exchange::onClientEvent, this));
        event_add(client_watch_.get(), nullptr);
    }

    std::string error;
    if (!upstream_.start(settings_.address, params_, evhttp_request_get_input_buffer(request_),
                         error)) {
        spdlog::error("[pool {}] {}: 502 Bad Gateway: {}", settings_.pool, log_name_, error);
        answerError(502, "502 Bad Gateway\n");
        return;
    }
    params_.clear();
}

void Exchange::onUpstreamHead(const fcgi::ResponseHead& head) {
    if (state_ != State::AwaitingHead) return;
    if (head.status < 200 || head.status > 599) {
        upstream_.close();
        spdlog::error("[pool {}] {}: 502 Bad Gateway: the application answered status {}",
                      settings_.pool, log_name_, head.status);
        answerError(502, "502 Bad Gateway\n");
        return;
    }

    evkeyvalq* output = evhttp_request_get_output_headers(request_);
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
            if (contentLength) continue;  // an identical repeat: send it once
            contentLength = length;
        }
        if (evhttp_add_header(output, name.c_str(), value.c_str()) != 0) {
            spdlog::warn("[pool {}] {}: dropped response header {}: invalid value",
                         settings_.pool, log_name_, name);
        }
    }

    if (host_.closingConnections()) {
        evhttp_remove_header(output, "Connection");
        evhttp_add_header(output, "Connection", "close");
    }
    const HttpVersion version = httpVersion(request_);
    // An HTTP/1.0 client gets no chunked encoding: without a length, only
    // closing the connection can end the body (RFC 9112 §6.3).
    if (!contentLength && (version.major < 1 || (version.major == 1 && version.minor < 1))) {
        evhttp_remove_header(output, "Connection");
        evhttp_add_header(output, "Connection", "close");
    }
    expect_body_ = !head_request_ && head.status != 204 && head.status != 304;
    remaining_ = contentLength;
    setState(State::Streaming);
    // Chunked (Transfer-Encoding added by evhttp) when the application gave
    // no Content-Length and the client speaks HTTP/1.1.
    evhttp_send_reply_start(request_, head.status,
                            head.reason.empty() ? nullptr : head.reason.c_str());
}

void Exchange::onUpstreamBody(std::string_view data) {
    if (state_ != State::Streaming || !expect_body_) return;
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

    body_bytes_ += data.size();
    evbuffer_add(chunk_.get(), data.data(), data.size());
    evhttp_send_reply_chunk_with_cb(request_, chunk_.get(), &Exchange::onClientDrained, &host_);
    evbuffer_drain(chunk_.get(), evbuffer_get_length(chunk_.get()));

    evbuffer* clientOutput = bufferevent_get_output(evhttp_connection_get_bufferevent(connection_));
    if (!paused_ && evbuffer_get_length(clientOutput) > settings_.clientHighWater) {
        // A slow client: let the worker block on its writes instead of
        // buffering its whole response here.
        paused_ = true;
        upstream_.pauseReading();
    }
}

void Exchange::onClientDrained(evhttp_connection* connection, void* host) {
    Exchange* exchange = static_cast<ExchangeHost*>(host)->exchangeFor(connection);
    if (exchange != nullptr) exchange->resumeAfterDrain();
}

void Exchange::resumeAfterDrain() {
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
        spdlog::error("[pool {}] {}: 502 Bad Gateway: {}", settings_.pool, log_name_, why);
        answerError(502, "502 Bad Gateway\n");
        return;
    case State::Streaming:
        spdlog::error("[pool {}] {}: response truncated: {}; closing the client connection",
                      settings_.pool, log_name_, why);
        truncateResponse();
        return;
    case State::Flushing:
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
    case State::Flushing:
    case State::Done: return;
    }
}

void Exchange::onClientEvent(evutil_socket_t fd, short what, void* self) {
    auto* exchange = static_cast<Exchange*>(self);
    bool closed = (what & EV_CLOSED) != 0;
    if (!closed) {
        char byte = 0;
        const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) {
            // A pipelined next request, which evhttp reads after this
            // response. Stop watching rather than spin on readable data.
            exchange->client_watch_.reset();
            return;
        }
        closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
    if (!closed || exchange->state_ == State::Done || exchange->state_ == State::Flushing) return;
    if (exchange->clientHasWholeResponse()) {
        // A client may close as soon as it has Content-Length bytes (or the
        // head of a HEAD), before FCGI_END_REQUEST arrives here: that is a
        // complete response, not a 499. Let the worker finish normally.
        exchange->client_watch_.reset();
        return;
    }
    spdlog::info("[pool {}] {}: 499: the client closed the connection before the response was "
                 "complete; closed the FastCGI connection",
                 exchange->settings_.pool, exchange->log_name_);
    exchange->upstream_.close();
    exchange->closeClientConnection();
}

bool Exchange::clientHasWholeResponse() const {
    return state_ == State::Streaming && (!expect_body_ || (remaining_ && *remaining_ == 0));
}

void Exchange::clientGone() {
    if (state_ == State::Done) return;
    if (clientHasWholeResponse()) {
        // Complete for the client; only FCGI_END_REQUEST was still due.
        spdlog::debug("[pool {}] {}: the client closed after the whole response; closed the "
                      "FastCGI connection before FCGI_END_REQUEST",
                      settings_.pool, log_name_);
    } else {
        spdlog::info("[pool {}] {}: 499: the client closed the connection before the response "
                     "was complete; closed the FastCGI connection",
                     settings_.pool, log_name_);
    }
    noteUpstream();
    upstream_.close();
    releaseEvents();
    request_ = nullptr;
    connection_ = nullptr;
    setState(State::Done);
    host_.retire(this);
}

void Exchange::abandon() {
    if (state_ == State::Done) return;
    spdlog::warn("[pool {}] {}: abandoned: the HTTP bridge is shutting down", settings_.pool,
                 log_name_);
    upstream_.close();
    releaseEvents();
    host_.detach(connection_);
    request_ = nullptr;
    connection_ = nullptr;
    setState(State::Done);
}

void Exchange::releaseEvents() {
    client_watch_.reset();
    timer_.reset();
}

void Exchange::noteUpstream() {
    if (noted_ || connection_ == nullptr) return;
    noted_ = true;
    UpstreamNote note;
    note.pool = settings_.pool;
    note.workerPid = worker_pid_;
    note.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_);
    note.bodyBytes = body_bytes_;
    host_.noteUpstream(connection_, note);
}

void Exchange::letGo() {
    if (let_go_) return;
    let_go_ = true;
    noteUpstream();
    upstream_.close();
    releaseEvents();
    host_.detach(connection_);
}

void Exchange::finishResponse() {
    letGo();
    setState(State::Done);
    evhttp_request* request = std::exchange(request_, nullptr);
    connection_ = nullptr;
    // May complete synchronously (evhttp's on-complete callback runs inside).
    evhttp_send_reply_end(request);
    host_.retire(this);
}

void Exchange::answerError(int status, std::string_view body) {
    letGo();
    setState(State::Done);
    evhttp_request* request = std::exchange(request_, nullptr);
    connection_ = nullptr;
    sendPlainText(request, status, body);
    host_.retire(this);
}

void Exchange::truncateResponse() {
    letGo();
    request_ = nullptr;
    bufferevent* bev = evhttp_connection_get_bufferevent(connection_);
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        closeClientConnection();
        return;
    }
    setState(State::Flushing);
    // The connection is closed once its output is written, so evhttp has
    // nothing left to do with it: take its callbacks over. A client that
    // stops reading is cut off by the write timeout evhttp set
    // (ServerOptions::clientTimeout), which arrives as an event here.
    bufferevent_setcb(bev, nullptr, &Exchange::onFlushed, &Exchange::onFlushError, this);
    bufferevent_enable(bev, EV_WRITE);
}

void Exchange::onFlushed(bufferevent*, void* self) {
    static_cast<Exchange*>(self)->closeClientConnection();
}

void Exchange::onFlushError(bufferevent*, short, void* self) {
    static_cast<Exchange*>(self)->closeClientConnection();
}

void Exchange::closeClientConnection() {
    letGo();
    setState(State::Done);
    request_ = nullptr;
    // Frees the request with it; evhttp's close callback runs inside and
    // finds this Exchange already detached.
    evhttp_connection_free(std::exchange(connection_, nullptr));
    host_.retire(this);
}

}  // namespace pyfpm::http
