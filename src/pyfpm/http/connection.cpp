#include "src/pyfpm/http/connection.hpp"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "manager/timeval.hpp"
#include "src/pyfpm/http/ascii.hpp"
#include "src/pyfpm/http/reply.hpp"
#include "src/pyfpm/http/static_files.hpp"

namespace pyfpm::http {

namespace {

// nginx's lingering_timeout: how long a closing connection keeps reading an
// upload nobody wants, so the client sees our response instead of a reset.
constexpr std::chrono::milliseconds kLingerTimeout{5'000};
// Bytes of a pipelined next request (or of an unread body) buffered while a
// response is being produced.
constexpr std::size_t kReadAheadBytes = 64 * 1024;
// libevent 2.1 reads at most 4096 bytes per readable event (EVBUFFER_MAX_READ
// in its buffer.c, a cap that bufferevent_set_max_single_read does not
// lift), which holds an upload to a loop iteration per 4 KiB. readMore()
// reads on in pieces of this size, up to kReadPerEvent per event, so that
// one busy client cannot starve the others (the upstream side reads the
// same way).
constexpr std::size_t kReadPiece = 64 * 1024;
constexpr std::size_t kReadPerEvent = 256 * 1024;
constexpr ev_ssize_t kWritePerEvent = 256 * 1024;


SocketName nameOf(const sockaddr_storage& storage) {
    SocketName name;
    name.raw = storage;
    char text[INET6_ADDRSTRLEN] = {};
    if (storage.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
        name.port = ntohs(in->sin_port);
    } else if (storage.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
        name.port = ntohs(in6->sin6_port);
    } else if (storage.ss_family == AF_UNIX) {
        std::strcpy(text, "unix:");
    }
    name.address = text;
    return name;
}

// The Date header, formatted once per second.
const std::string& currentDate() {
    static thread_local std::time_t cached = 0;
    static thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != cached) {
        cached = now;
        text = formatHttpDate(now);
    }
    return text;
}

bool isFramingHeader(std::string_view name) {
    return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
           iequals(name, "Connection") || iequals(name, "Keep-Alive");
}

int statusForParserError(http_errno error) {
    return error == HPE_HEADER_OVERFLOW ? 431 : 400;
}

}  // namespace

const std::string* Request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return &value;
    }
    return nullptr;
}

std::string Request::protocol() const { return fmt::format("HTTP/{}.{}", major, minor); }

ClientConnection::ClientConnection(event_base* base, evutil_socket_t fd, ConnectionOwner& owner,
                                   const ConnectionLimits& limits)
    : base_(base), owner_(owner), limits_(limits) {
    sockaddr_storage storage = {};
    socklen_t length = sizeof(storage);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0) peer_ = nameOf(storage);
    storage = {};
    length = sizeof(storage);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0) local_ = nameOf(storage);
    if (storage.ss_family == AF_INET || storage.ss_family == AF_INET6) {
        // A head and a body written apart (a sendfile(2) after the head's
        // writev(2)) must not wait for the client's delayed ACK (Nagle):
        // nginx's tcp_nodelay.
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }

    // http-parser's own bound is global; ours (431) is per server and is
    // checked first, so theirs only needs to stay out of the way.
    http_parser_set_max_header_size(
        static_cast<std::uint32_t>(std::max<std::size_t>(limits_.maxHeaderBytes + 4096, 80 * 1024)));
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = &ClientConnection::onMessageBegin;
    settings_.on_url = &ClientConnection::onUrl;
    settings_.on_header_field = &ClientConnection::onHeaderField;
    settings_.on_header_value = &ClientConnection::onHeaderValue;
    settings_.on_headers_complete = &ClientConnection::onHeadersComplete;
    settings_.on_body = &ClientConnection::onBody;
    settings_.on_message_complete = &ClientConnection::onMessageComplete;

    bev_.reset(bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE));
    timer_.reset(evtimer_new(base, &ClientConnection::onTimer, this));
    deferred_.reset(event_new(base, -1, 0, &ClientConnection::onDeferred, this));
    flush_.reset(event_new(base, -1, 0, &ClientConnection::onFlush, this));
    if (!bev_) {
        ::close(fd);
        state_ = State::Closed;
        event_active(deferred_.get(), 0, 0);
        return;
    }
    bufferevent_setcb(bev_.get(), &ClientConnection::onRead, &ClientConnection::onWrite,
                      &ClientConnection::onEvent, this);
    bufferevent_setwatermark(bev_.get(), EV_WRITE, limits_.clientHighWater / 2, 0);
    bufferevent_setwatermark(bev_.get(), EV_READ, 0, std::max(kReadAheadBytes, limits_.maxHeaderBytes + 1));
    const timeval send = manager::toTimeval(limits_.sendTimeout);
    bufferevent_set_timeouts(bev_.get(), nullptr, &send);
    // Write interest only while the socket holds back output (flushOutput):
    // a response the socket takes at once costs no epoll_ctl and no extra
    // turn of the loop.
    bufferevent_disable(bev_.get(), EV_WRITE);  // enabled in a new bufferevent
    bufferevent_enable(bev_.get(), EV_READ);
    // libevent 2.1 writes at most 16 KiB per writev by default; a large
    // response the socket holds back goes out in fewer calls.
    bufferevent_set_max_single_write(bev_.get(), kWritePerEvent);
    // The first request must arrive whole within client_header_timeout.
    armTimer(limits_.headerTimeout);
}

ClientConnection::~ClientConnection() {
    bev_.reset();
    timer_.reset();
    deferred_.reset();
}

// --- http-parser callbacks -------------------------------------------------

int ClientConnection::onMessageBegin(http_parser* parser) {
    static_cast<ClientConnection*>(parser->data)->beginRequest();
    return 0;
}

void ClientConnection::beginRequest() {
    if (state_ == State::Head) return;
    state_ = State::Head;
    request_ = Request{};
    request_started_ = std::chrono::steady_clock::now();
    head_bytes_ = 0;
    field_.clear();
    value_.clear();
    in_value_ = false;
    head_error_.reset();
    headers_done_ = false;
    message_done_ = false;
    body_reading_ = false;
    body_paused_ = false;
    body_end_delivered_ = false;
    continue_sent_ = false;
    responder_ = nullptr;
    head_sent_ = false;
    response_ended_ = false;
    keep_alive_ = false;
    chunked_out_ = false;
    no_body_ = false;
    drain_wanted_ = false;
    status_ = 0;
    length_out_.reset();
    body_sent_ = 0;
    close_after_ = false;
    armTimer(limits_.headerTimeout);
}

bool ClientConnection::countHead(std::size_t bytes) {
    head_bytes_ += bytes;
    return head_bytes_ <= limits_.maxHeaderBytes;
}

int ClientConnection::onUrl(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<ClientConnection*>(parser->data);
    if (!self->countHead(length)) {
        self->head_error_.emplace(414, "the request line is longer than max_header_size");
        return 1;
    }
    self->request_.target.append(at, length);
    return 0;
}

void ClientConnection::finishHeaderPair() {
    if (!in_value_) return;
    request_.headers.emplace_back(std::move(field_), std::move(value_));
    field_.clear();
    value_.clear();
    in_value_ = false;
}

int ClientConnection::onHeaderField(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<ClientConnection*>(parser->data);
    self->finishHeaderPair();
    if (!self->countHead(length + 4)) {
        self->head_error_.emplace(431, "the request headers are larger than max_header_size");
        return 1;
    }
    self->field_.append(at, length);
    return 0;
}

int ClientConnection::onHeaderValue(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<ClientConnection*>(parser->data);
    if (!self->countHead(length)) {
        self->head_error_.emplace(431, "the request headers are larger than max_header_size");
        return 1;
    }
    self->in_value_ = true;
    self->value_.append(at, length);
    return 0;
}

int ClientConnection::onHeadersComplete(http_parser* parser) {
    auto* self = static_cast<ClientConnection*>(parser->data);
    self->finishHeaderPair();
    Request& request = self->request_;
    request.method = http_method_str(static_cast<http_method>(parser->method));
    request.major = parser->http_major;
    request.minor = parser->http_minor;
    request.chunked = (parser->flags & F_CHUNKED) != 0;
    if ((parser->flags & F_CONTENTLENGTH) != 0) request.contentLength = parser->content_length;
    if (request.major != 1 || request.minor > 1) {
        self->head_error_.emplace(505, fmt::format("HTTP version {}.{} is not supported",
                                                   request.major, request.minor));
        return -1;
    }
    if (request.minor == 1 && request.header("Host") == nullptr) {
        self->head_error_.emplace(400, "an HTTP/1.1 request without Host (RFC 9112 §3.2)");
        return -1;
    }
    if (parser->uses_transfer_encoding && !request.chunked) {
        // RFC 9112 §6.1: without chunked last, the body's end is unknowable.
        self->head_error_.emplace(400, "a Transfer-Encoding whose last coding is not chunked");
        return -1;
    }
    if (request.target.find('\0') != std::string::npos) {
        self->head_error_.emplace(400, "a NUL byte in the request target");
        return -1;
    }
    if (const std::string* expect = request.header("Expect")) {
        if (!iequals(*expect, "100-continue")) {
            self->head_error_.emplace(417, fmt::format("unsupported Expect: {}", *expect));
            return -1;
        }
        request.expectContinue = request.minor == 1;
    }
    self->keep_alive_ = http_should_keep_alive(parser) != 0;
    self->headers_done_ = true;
    // Stop here: the owner sees the head before any body byte is parsed.
    http_parser_pause(parser, 1);
    return 0;
}

int ClientConnection::onBody(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<ClientConnection*>(parser->data);
    if (self->body_reading_ && self->responder_ != nullptr) {
        self->responder_->onBodyData(std::string_view(at, length));
    }
    return 0;
}

int ClientConnection::onMessageComplete(http_parser* parser) {
    auto* self = static_cast<ClientConnection*>(parser->data);
    self->message_done_ = true;
    // Bytes after this belong to the next request: parsed after the response.
    http_parser_pause(parser, 1);
    return 0;
}

// --- reading ---------------------------------------------------------------

void ClientConnection::parse() {
    while (bev_ && state_ != State::Closed) {
        if (state_ == State::Lingering) {
            evbuffer* input = bufferevent_get_input(bev_.get());
            evbuffer_drain(input, evbuffer_get_length(input));
            return;
        }
        if (state_ == State::Closing) return;
        if (state_ == State::Dispatched) {
            if (message_done_) {
                if (body_reading_ && !body_end_delivered_ && responder_ != nullptr) {
                    body_end_delivered_ = true;
                    responder_->onBodyEnd();
                    continue;
                }
                if (!response_ended_) return;
                // The exchange is over: the next request, if any.
                state_ = State::Idle;
                http_parser_pause(&parser_, 0);
                armTimer(limits_.keepaliveTimeout);
                updateReading();
                continue;
            }
            const bool wantBody = body_reading_ ? !body_paused_ : !request_.hasBody();
            if (!wantBody) return;
        }
        evbuffer* input = bufferevent_get_input(bev_.get());
        if (evbuffer_get_length(input) == 0) return;
        if (state_ == State::Idle) beginRequest();

        evbuffer_iovec chunk;
        if (evbuffer_peek(input, -1, nullptr, &chunk, 1) < 1) return;
        const std::size_t parsed = http_parser_execute(&parser_, &settings_,
                                                       static_cast<const char*>(chunk.iov_base),
                                                       chunk.iov_len);
        evbuffer_drain(input, parsed);
        if (head_error_) {
            const auto [status, why] = *head_error_;
            failRequest(status, why);
            return;
        }
        const auto error = HTTP_PARSER_ERRNO(&parser_);
        if (error == HPE_PAUSED) {
            http_parser_pause(&parser_, 0);
            if (message_done_) http_parser_pause(&parser_, 1);  // hold the next request
            if (state_ == State::Head && headers_done_) dispatch();
            continue;
        }
        if (error != HPE_OK) {
            failRequest(statusForParserError(error), http_errno_description(error));
            return;
        }
        if (state_ == State::Dispatched && body_reading_ && !message_done_ && !body_paused_) {
            armTimer(limits_.bodyTimeout);
        }
    }
}

void ClientConnection::dispatch() {
    state_ = State::Dispatched;
    event_del(timer_.get());
    updateReading();
    owner_.onRequest(*this);
    if (state_ == State::Dispatched && !message_done_ && !request_.hasBody()) {
        // A bodyless request still has its final LF to parse.
        event_active(deferred_.get(), 0, 0);
    }
}

void ClientConnection::failRequest(int status, std::string_view why) {
    const std::string line =
        request_.method.empty() ? std::string("-") : describeRequest(request_.method, request_.target);
    spdlog::info("[http] {} {}: {} {}: {}", peer_.address, line, status, reasonPhrase(status), why);
    if (head_sent_ || state_ == State::Closing || state_ == State::Lingering) {
        clientGone(why);
        return;
    }
    if (Responder* responder = std::exchange(responder_, nullptr)) responder->onClientGone(why);
    if (state_ != State::Dispatched) {
        state_ = State::Dispatched;
        headers_done_ = true;
    }
    // No more parsing on this connection: the answer closes it.
    keep_alive_ = false;
    close_after_ = true;
    message_done_ = false;
    body_reading_ = false;
    sendText(status, fmt::format("{} {}\n", status, reasonPhrase(status)));
}

void ClientConnection::readBody(Responder& responder) {
    responder_ = &responder;
    body_reading_ = true;
    if (request_.expectContinue && !message_done_ && !head_sent_ && !continue_sent_) {
        continue_sent_ = true;
        writeRaw("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (!message_done_) armTimer(limits_.bodyTimeout);
    event_active(deferred_.get(), 0, 0);
}

void ClientConnection::pauseBody() {
    if (body_paused_) return;
    body_paused_ = true;
    event_del(timer_.get());
    updateReading();
}

void ClientConnection::resumeBody() {
    if (!body_paused_) return;
    body_paused_ = false;
    updateReading();
    if (!message_done_) armTimer(limits_.bodyTimeout);
    event_active(deferred_.get(), 0, 0);
}

void ClientConnection::updateReading() {
    if (!bev_) return;
    const bool read = state_ == State::Idle || state_ == State::Head || state_ == State::Lingering ||
                      (state_ == State::Dispatched && !(body_reading_ && body_paused_));
    if (read) {
        bufferevent_enable(bev_.get(), EV_READ);
    } else {
        bufferevent_disable(bev_.get(), EV_READ);
    }
}

void ClientConnection::armTimer(std::chrono::milliseconds timeout) {
    if (!timer_) return;
    const timeval tv = manager::toTimeval(timeout);
    evtimer_add(timer_.get(), &tv);
}

void ClientConnection::onTimer(evutil_socket_t, short, void* self) {
    auto* connection = static_cast<ClientConnection*>(self);
    switch (connection->state_) {
    case State::Idle:
        // An idle keep-alive connection: closed without a word, as nginx does.
        connection->closeNow();
        return;
    case State::Head:
        connection->failRequest(408, "the request head did not arrive within client_header_timeout");
        return;
    case State::Dispatched:
        if (connection->body_reading_ && !connection->message_done_ && !connection->body_paused_) {
            connection->failRequest(408, "no request body bytes within client_body_timeout");
        }
        return;
    case State::Closing:
    case State::Lingering:
    case State::Closed: connection->closeNow(); return;
    }
}

bool ClientConnection::wantsInput() const {
    if (!bev_) return false;
    switch (state_) {
    case State::Idle:
    case State::Head:
    case State::Lingering: return true;
    case State::Dispatched:
        // Only a body someone takes: a paused body, an unread one and the
        // bytes after the request are left to the socket (backpressure).
        return body_reading_ && !body_paused_ && !message_done_;
    case State::Closing:
    case State::Closed: return false;
    }
    return false;
}

void ClientConnection::readMore() {
    std::size_t total = 0;
    while (total < kReadPerEvent && wantsInput()) {
        evbuffer* input = bufferevent_get_input(bev_.get());
        // Only once parse() has taken everything: bytes still buffered mean
        // the parser waits for something other than input.
        if (evbuffer_get_length(input) != 0) return;
        // The bytes go into the bufferevent's own input buffer, as libevent's
        // read would put them, so that parse(), a resume, the next request
        // and the lingering close find them where they always look. Its
        // end is frozen outside libevent's own read, so thaw it around ours.
        evbuffer_iovec space{};
        evbuffer_unfreeze(input, 0);
        if (evbuffer_reserve_space(input, static_cast<ev_ssize_t>(kReadPiece), &space, 1) != 1) {
            evbuffer_freeze(input, 0);
            return;
        }
        ssize_t n = 0;
        do {
            n = ::recv(bufferevent_getfd(bev_.get()), space.iov_base,
                       std::min(space.iov_len, kReadPiece), MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        const int error = errno;
        bool committed = true;
        if (n > 0) {
            space.iov_len = static_cast<std::size_t>(n);
            committed = evbuffer_commit_space(input, &space, 1) == 0;
        }
        evbuffer_freeze(input, 0);
        if (!committed) {
            // Cannot happen with the space just reserved; a stream with a
            // hole in it must not go on.
            clientGone("evbuffer_commit_space failed");
            return;
        }
        if (n < 0 && (error == EAGAIN || error == EWOULDBLOCK)) return;
        if (n <= 0) {
            // What libevent does when its own read sees the end or an error.
            bufferevent_disable(bev_.get(), EV_READ);
            errno = error;
            onEvent(bev_.get(), BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), this);
            return;
        }
        total += static_cast<std::size_t>(n);
        parse();
    }
}

void ClientConnection::onRead(bufferevent*, void* self) {
    auto* connection = static_cast<ClientConnection*>(self);
    connection->parse();
    connection->readMore();
}


void ClientConnection::onDeferred(evutil_socket_t, short, void* self) {
    auto* connection = static_cast<ClientConnection*>(self);
    if (connection->state_ == State::Closed) {
        connection->owner_.onConnectionClosed(*connection);
        return;
    }
    connection->parse();
}

void ClientConnection::onWrite(bufferevent*, void* self) {
    auto* connection = static_cast<ClientConnection*>(self);
    const std::size_t pending = connection->outputPending();
    // Back to writing directly (flushOutput) once libevent wrote the rest.
    if (pending == 0 && connection->bev_) bufferevent_disable(connection->bev_.get(), EV_WRITE);
    if (connection->state_ == State::Closing) {
        if (pending == 0) {
            if (connection->message_done_ || !connection->headers_done_) {
                connection->closeNow();
            } else {
                connection->startLingering();
            }
        }
        return;
    }
    if (connection->drain_wanted_ && pending <= connection->limits_.clientHighWater / 2) {
        connection->drain_wanted_ = false;
        if (connection->responder_ != nullptr) connection->responder_->onClientDrained();
    }
}

void ClientConnection::onEvent(bufferevent*, short what, void* self) {
    auto* connection = static_cast<ClientConnection*>(self);
    if ((what & BEV_EVENT_TIMEOUT) != 0) {
        connection->clientGone("the client took no response bytes within send_timeout");
        return;
    }
    if ((what & BEV_EVENT_ERROR) != 0) {
        const int error = EVUTIL_SOCKET_ERROR();
        connection->clientGone(fmt::format("{}: {}", (what & BEV_EVENT_READING) != 0 ? "recv(2)" : "send(2)",
                                           std::strerror(error)));
        return;
    }
    if ((what & BEV_EVENT_EOF) == 0) return;
    switch (connection->state_) {
    case State::Idle:
    case State::Lingering:
    case State::Closed: connection->closeNow(); return;
    case State::Head:
        spdlog::debug("[http] {}: the client closed the connection in the middle of a request head",
                      connection->peer_.address);
        connection->closeNow();
        return;
    case State::Closing: return;  // flushing; the write side decides
    case State::Dispatched:
        if (connection->response_ended_) {
            // The response is out or on its way: flush it, then close.
            connection->state_ = State::Closing;
            connection->message_done_ = true;
            if (connection->outputPending() == 0) connection->closeNow();
            return;
        }
        connection->clientGone("the client closed the connection");
        return;
    }
}

void ClientConnection::clientGone(std::string_view why) {
    if (state_ == State::Closed) return;
    if (Responder* responder = std::exchange(responder_, nullptr)) responder->onClientGone(why);
    if (state_ == State::Dispatched && !response_ended_) {
        response_ended_ = true;
        // nginx's 499: the client went away before the whole response.
        owner_.onResponseEnd(*this, 499, body_sent_);
    }
    closeNow();
}

void ClientConnection::closeNow() {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    responder_ = nullptr;
    bev_.reset();
    if (timer_) event_del(timer_.get());
    // The owner hears of it from the loop, never inside a caller's stack.
    event_active(deferred_.get(), 0, 0);
}

void ClientConnection::startLingering() {
    state_ = State::Lingering;
    ::shutdown(bufferevent_getfd(bev_.get()), SHUT_WR);
    updateReading();
    armTimer(kLingerTimeout);
    parse();
}

// --- writing ---------------------------------------------------------------

std::size_t ClientConnection::outputPending() const {
    return bev_ ? evbuffer_get_length(bufferevent_get_output(bev_.get())) : 0;
}

void ClientConnection::writeRaw(std::string_view data) {
    if (!bev_) return;
    evbuffer_add(bufferevent_get_output(bev_.get()), data.data(), data.size());
    scheduleFlush();
}

void ClientConnection::scheduleFlush() {
    if (flush_scheduled_ || !bev_) return;
    flush_scheduled_ = true;
    event_active(flush_.get(), 0, 0);
}

void ClientConnection::onFlush(evutil_socket_t, short, void* self) {
    static_cast<ClientConnection*>(self)->flushOutput();
}

void ClientConnection::flushOutput() {
    flush_scheduled_ = false;
    if (!bev_) return;
    // libevent is already writing the rest: it keeps the order.
    if ((bufferevent_get_enabled(bev_.get()) & EV_WRITE) != 0) return;
    evbuffer* output = bufferevent_get_output(bev_.get());
    const evutil_socket_t fd = bufferevent_getfd(bev_.get());
    // The bufferevent keeps its output's front frozen outside its own
    // write; thaw it around ours (as readMore() does with the input's end).
    evbuffer_unfreeze(output, 1);
    int n = 0;
    while (evbuffer_get_length(output) > 0) {
        n = evbuffer_write(output, fd);
        if (n > 0 || (n < 0 && errno == EINTR)) continue;
        break;
    }
    evbuffer_freeze(output, 1);
    if (evbuffer_get_length(output) > 0) {
        // EAGAIN: the rest when the socket drains, under send_timeout. An
        // error: libevent's own write meets it again and reports it
        // (onEvent), as before.
        bufferevent_enable(bev_.get(), EV_WRITE);
        return;
    }
    onWrite(bev_.get(), this);
}

void ClientConnection::writeChunkHeader(std::size_t length) {
    char line[32];
    const int n = std::snprintf(line, sizeof(line), "%zx\r\n", length);
    writeRaw(std::string_view(line, static_cast<std::size_t>(n)));
}

bool ClientConnection::bodyAllowed() const {
    return !request_.isHead() && status_ >= 200 && status_ != 204 && status_ != 304;
}

void ClientConnection::sendHead(int status, std::string_view reason, const HeaderList& headers,
                                std::optional<std::uint64_t> contentLength) {
    if (head_sent_ || state_ == State::Closed) return;
    head_sent_ = true;
    status_ = status;
    no_body_ = !bodyAllowed();
    const bool http11 = request_.minor >= 1;
    // Keep the connection only when the next request can be found: the body
    // of this one must be read (or be read by the responder) and the
    // response must have a framed end.
    bool keep = keep_alive_ && !close_after_ && limits_.keepaliveTimeout.count() > 0 &&
                !owner_.closingConnections() &&
                (message_done_ || body_reading_ || !request_.hasBody());
    if (!no_body_) {
        if (contentLength) {
            length_out_ = contentLength;
        } else if (http11) {
            chunked_out_ = true;
        } else {
            keep = false;  // only the close can end the body (RFC 9112 §6.3)
        }
    }
    keep_alive_ = keep;

    scratch_.clear();
    fmt::format_to(std::back_inserter(scratch_), "HTTP/1.1 {} {}\r\nDate: {}\r\n", status,
                   reason.empty() ? reasonPhrase(status) : reason, currentDate());
    for (const auto& [name, value] : headers) {
        if (isFramingHeader(name)) continue;
        scratch_.append(name).append(": ").append(value).append("\r\n");
    }
    if (contentLength && (length_out_ || (no_body_ && status != 204 && status >= 200))) {
        fmt::format_to(std::back_inserter(scratch_), "Content-Length: {}\r\n", *contentLength);
    }
    if (chunked_out_) scratch_.append("Transfer-Encoding: chunked\r\n");
    if (!keep) {
        scratch_.append("Connection: close\r\n");
    } else if (!http11) {
        scratch_.append("Connection: keep-alive\r\n");
    }
    scratch_.append("\r\n");
    writeRaw(scratch_);
}

void ClientConnection::sendBody(std::string_view data) {
    if (!head_sent_ || response_ended_ || no_body_ || data.empty() || !bev_) return;
    if (length_out_) {
        const std::uint64_t room = *length_out_ - std::min(*length_out_, body_sent_);
        if (data.size() > room) data = data.substr(0, static_cast<std::size_t>(room));
        if (data.empty()) return;
    }
    if (chunked_out_) writeChunkHeader(data.size());
    writeRaw(data);
    if (chunked_out_) writeRaw("\r\n");
    body_sent_ += data.size();
    if (outputPending() > limits_.clientHighWater) drain_wanted_ = true;
}

void ClientConnection::sendFile(int fd, off_t offset, std::uint64_t length) {
    if (!head_sent_ || response_ended_ || no_body_ || length == 0 || !bev_) {
        ::close(fd);
        return;
    }
    if (chunked_out_) writeChunkHeader(static_cast<std::size_t>(length));
    // evbuffer_add_file takes the descriptor and uses sendfile(2).
    if (evbuffer_add_file(bufferevent_get_output(bev_.get()), fd, offset,
                          static_cast<ev_off_t>(length)) != 0) {
        spdlog::error("[http] {}: evbuffer_add_file failed; closing the connection", peer_.address);
        close_after_ = true;
        return;
    }
    scheduleFlush();
    if (chunked_out_) writeRaw("\r\n");
    body_sent_ += length;
    if (outputPending() > limits_.clientHighWater) drain_wanted_ = true;
}

void ClientConnection::endResponse() {
    if (!head_sent_ || response_ended_ || state_ == State::Closed) return;
    if (chunked_out_) writeRaw("0\r\n\r\n");
    if (length_out_ && !no_body_ && body_sent_ < *length_out_) close_after_ = true;
    response_ended_ = true;
    owner_.onResponseEnd(*this, status_, no_body_ ? 0 : body_sent_);
    responder_ = nullptr;
    const bool bodyUnread = request_.hasBody() && !message_done_;
    if (close_after_ || !keep_alive_ || bodyUnread) {
        state_ = State::Closing;
        updateReading();
        event_del(timer_.get());
        if (outputPending() == 0) onWrite(bev_.get(), this);
        return;
    }
    event_active(deferred_.get(), 0, 0);
}

void ClientConnection::abortResponse() {
    if (state_ == State::Closed) return;
    close_after_ = true;
    if (!response_ended_) {
        response_ended_ = true;
        owner_.onResponseEnd(*this, status_ == 0 ? 502 : status_, body_sent_);
    }
    responder_ = nullptr;
    state_ = State::Closing;
    message_done_ = true;  // no lingering: the client gets a cut response
    updateReading();
    if (outputPending() == 0) closeNow();
}

void ClientConnection::sendText(int status, std::string_view body, const HeaderList& extra) {
    HeaderList headers{{"Content-Type", "text/plain; charset=utf-8"}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    sendHead(status, {}, headers, body.size());
    sendBody(body);
    endResponse();
}

}  // namespace pyfpm::http
