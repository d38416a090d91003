#include "src/pyfpm/http/upstream.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "manager/unique_fd.hpp"
#include "src/pyfpm/http/channels.hpp"

namespace pyfpm::http {

namespace {

// Encoded FCGI_STDIN waiting in the socket's output buffer: refill below the
// low mark, stop above the high one.
constexpr std::size_t kStdinLowWater = 64 * 1024;
constexpr std::size_t kStdinHighWater = 256 * 1024;
// Body bytes taken per refill step; appendStream splits them into records.
constexpr std::size_t kStdinChunk = 64 * 1024;
// libevent 2.1 reads at most 4096 bytes per readable event
// (EVBUFFER_MAX_READ), so a response of a megabyte would cost 256 turns of
// the loop, each with epoll_wait, FIONREAD and readv: read on directly, in
// pieces of kReadPiece, up to kReadPerEvent per event (which bounds what a
// paused exchange can be left holding).
constexpr std::size_t kReadPiece = 64 * 1024;
constexpr std::size_t kReadPerEvent = 256 * 1024;

std::string displayTcp(const std::string& host, std::uint16_t port) {
    return host.find(':') == std::string::npos ? fmt::format("{}:{}", host, port)
                                               : fmt::format("[{}]:{}", host, port);
}

}  // namespace

bool UpstreamAddress::resolve(const manager::ListenAddress& listen, UpstreamAddress& out,
                              std::string& error) {
    out = UpstreamAddress{};
    switch (listen.kind) {
    case manager::ListenAddress::Kind::Unix: {
        out.display = "unix:" + listen.path.string();
        sockaddr_un address = {};
        address.sun_family = AF_UNIX;
        const std::string& path = listen.path.native();
        if (path.empty() || path.size() >= sizeof(address.sun_path)) {
            error = fmt::format("{}: a unix socket path must have 1 to {} bytes", out.display,
                                sizeof(address.sun_path) - 1);
            return false;
        }
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        std::memcpy(&out.storage, &address, sizeof(address));
        out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        return true;
    }
    case manager::ListenAddress::Kind::Tcp: {
        out.display = displayTcp(listen.host, listen.port);
        addrinfo hints = {};
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo* found = nullptr;
        const std::string port = std::to_string(listen.port);
        const int rc = ::getaddrinfo(listen.host.c_str(), port.c_str(), &hints, &found);
        if (rc != 0 || found == nullptr) {
            error = fmt::format("getaddrinfo(3) {}: {}", out.display, ::gai_strerror(rc));
            return false;
        }
        std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
        out.length = found->ai_addrlen;
        ::freeaddrinfo(found);
        return true;
    }
    }
    error = "unknown listen address kind";
    return false;
}

Upstream::Upstream(event_base* base, UpstreamHandler& handler, std::size_t maxHeadBytes)
    : base_(base), handler_(handler), request_(1, 0, maxHeadBytes), max_head_bytes_(maxHeadBytes) {}

Upstream::~Upstream() {
    close();
    kick_.reset();
}

pid_t Upstream::channelPid() const { return channel_ != nullptr ? channel_->pid : 0; }

bool Upstream::start(const UpstreamAddress& address, const fcgi::ParamsBuilder& params,
                     StdinSource* body, std::string& error) {
    display_ = address.display;
    manager::UniqueFd fd(
        ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = fmt::format("socket(2) for {}: {}", display_, std::strerror(errno));
        return false;
    }
    bool connecting = false;
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) !=
        0) {
        if (errno != EINPROGRESS) {
            error = fmt::format("connect(2) {}: {}", display_, std::strerror(errno));
            return false;
        }
        connecting = true;
    }

    bufferevent* bev = bufferevent_socket_new(base_, fd.get(), BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) {
        error = fmt::format("bufferevent_socket_new for {} failed", display_);
        return false;
    }
    fd.release();
    owned_.reset(bev);
    connection_ = bev;
    kick_.reset(event_new(base_, -1, 0, &Upstream::onKick, this));
    // With the descriptor set and no address, this only waits for the
    // connect(2) in progress to finish (BEV_EVENT_CONNECTED or an error).
    if (connecting && bufferevent_socket_connect(bev, nullptr, 0) != 0) {
        owned_.reset();
        connection_ = nullptr;
        error = fmt::format("connect(2) {}: {}", display_, std::strerror(errno));
        return false;
    }
    // No FCGI_KEEP_CONN: the worker closes after FCGI_END_REQUEST.
    request_ = fcgi::ClientRequest(1, 0, max_head_bytes_);
    send(params, body);
    // Reading starts once connected, so a refused connect is reported by
    // connect(2)'s error rather than by a read on a dead socket.
    bufferevent_enable(bev, connecting ? EV_WRITE : EV_READ | EV_WRITE);
    return true;
}

void Upstream::start(Channel& channel, const fcgi::ParamsBuilder& params, StdinSource* body) {
    display_ = channel.address.display;
    channel_ = &channel;
    connection_ = channel.connection.get();
    if (!kick_) kick_.reset(event_new(base_, -1, 0, &Upstream::onKick, this));
    request_ = fcgi::ClientRequest(1, fcgi::kKeepConn, max_head_bytes_);
    send(params, body);
    bufferevent_enable(connection_, EV_READ | EV_WRITE);
}

void Upstream::send(const fcgi::ParamsBuilder& params, StdinSource* body) {
    bufferevent_setcb(connection_, &Upstream::onReadable, &Upstream::onWritable, &Upstream::onEvent, this);
    bufferevent_setwatermark(connection_, EV_WRITE, kStdinLowWater, 0);
    // FastCGI 1.0 §5.1-5.3: FCGI_BEGIN_REQUEST, the FCGI_PARAMS stream,
    // then FCGI_STDIN, each stream ended by an empty record. Output queues
    // while a connect finishes.
    scratch_.clear();
    request_.appendBegin(scratch_);
    request_.appendParams(scratch_, params);
    evbuffer_add(bufferevent_get_output(connection_), scratch_.data(), scratch_.size());
    body_ = body;
    stdin_done_ = false;
    ended_.reset();
    paused_ = false;
    broken_ = false;
    pumpStdin();
}

void Upstream::stdinReady() { pumpStdin(); }

void Upstream::pumpStdin() {
    if (stdin_done_ || !connection_) return;
    evbuffer* output = bufferevent_get_output(connection_);
    while (evbuffer_get_length(output) < kStdinHighWater) {
        data_.clear();
        const std::size_t n = body_ != nullptr ? body_->readStdin(data_, kStdinChunk) : 0;
        scratch_.clear();
        if (n == 0) {
            if (body_ != nullptr && !body_->stdinComplete()) return;  // more later
            request_.appendStdinEnd(scratch_);
            evbuffer_add(output, scratch_.data(), scratch_.size());
            stdin_done_ = true;
            body_ = nullptr;
            return;
        }
        request_.appendStdin(scratch_, data_);
        evbuffer_add(output, scratch_.data(), scratch_.size());
    }
}

void Upstream::feedInput() {
    if (!connection_) return;
    evbuffer* input = bufferevent_get_input(connection_);
    const std::size_t length = evbuffer_get_length(input);
    if (length == 0) return;
    const int count = evbuffer_peek(input, -1, nullptr, nullptr, 0);
    std::vector<evbuffer_iovec> chunks(static_cast<std::size_t>(count));
    evbuffer_peek(input, -1, nullptr, chunks.data(), count);
    for (const evbuffer_iovec& chunk : chunks) {
        request_.feed(std::string_view(static_cast<const char*>(chunk.iov_base), chunk.iov_len));
    }
    evbuffer_drain(input, length);
}

void Upstream::process() {
    while (connection_ && !paused_) {
        const fcgi::ClientEvent event = request_.next();
        switch (event.type) {
        case fcgi::ClientEvent::Type::NeedMore: {
            if (!ended_) return;
            const std::string why =
                ended_->empty() ? fmt::format("{} ({})", request_.eof().error, display_) : *ended_;
            finish(false, true);
            handler_.onUpstreamFailure(why);
            return;
        }
        case fcgi::ClientEvent::Type::Head: handler_.onUpstreamHead(request_.head()); break;
        case fcgi::ClientEvent::Type::Body: handler_.onUpstreamBody(event.data); break;
        case fcgi::ClientEvent::Type::Stderr: handler_.onUpstreamStderr(event.data); break;
        case fcgi::ClientEvent::Type::End:
            // Close (or give back) before anything else: libfcgi waits for
            // our close (up to 2 s) before its worker accepts the next
            // connection, and a channel serves the next request.
            finish(stdin_done_ && !broken_ && !ended_, false);
            handler_.onUpstreamEnd();
            return;
        case fcgi::ClientEvent::Type::Error: {
            const std::string why = fmt::format("{} ({})", event.error, display_);
            finish(false, true);
            handler_.onUpstreamFailure(why);
            return;
        }
        }
    }
}

void Upstream::pauseReading() {
    paused_ = true;
    if (connection_) bufferevent_disable(connection_, EV_READ);
}

void Upstream::resumeReading() {
    if (!paused_) return;
    paused_ = false;
    if (!connection_) return;
    if (!ended_) bufferevent_enable(connection_, EV_READ);
    // Events parsed before the pause are delivered from the loop, not from
    // inside the caller (the client connection's write callback).
    event_active(kick_.get(), 0, 0);
}

void Upstream::close() { finish(false, false); }

void Upstream::finish(bool reusable, bool failed) {
    body_ = nullptr;
    if (kick_) event_del(kick_.get());
    if (channel_ != nullptr) {
        Channel* channel = channel_;
        channel_ = nullptr;
        connection_ = nullptr;
        // A kept connection must hold nothing of this request any more.
        reusable = reusable && evbuffer_get_length(bufferevent_get_input(channel->connection.get())) == 0;
        channel->owner->release(*channel, reusable, failed);
        return;
    }
    connection_ = nullptr;
    owned_.reset();
}

void Upstream::readMore() {
    if (!connection_ || paused_ || ended_) return;
    const evutil_socket_t fd = bufferevent_getfd(connection_);
    read_piece_.resize(kReadPiece);
    std::size_t total = 0;
    while (total < kReadPerEvent) {
        const ssize_t n = ::recv(fd, read_piece_.data(), read_piece_.size(), MSG_DONTWAIT);
        if (n > 0) {
            request_.feed(std::string_view(read_piece_.data(), static_cast<std::size_t>(n)));
            total += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            ended_ = std::string();  // EOF: ClientRequest::eof() says what was missing
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            ended_ = fmt::format("recv(2) {}: {}", display_, std::strerror(errno));
        }
        return;
    }
}

void Upstream::onReadable(bufferevent*, void* self) {
    auto* upstream = static_cast<Upstream*>(self);
    upstream->feedInput();
    upstream->readMore();
    upstream->process();
}

void Upstream::onWritable(bufferevent*, void* self) { static_cast<Upstream*>(self)->pumpStdin(); }

void Upstream::onEvent(bufferevent*, short what, void* self) {
    auto* upstream = static_cast<Upstream*>(self);
    if ((what & BEV_EVENT_CONNECTED) != 0) {
        if (!upstream->paused_) bufferevent_enable(upstream->connection_, EV_READ);
        upstream->pumpStdin();
        return;
    }
    if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == 0) return;
    if ((what & BEV_EVENT_WRITING) != 0) {
        // The application stopped reading FCGI_STDIN (it answered without
        // the body, or it died). Stop sending; reading decides the outcome:
        // a complete response may still be waiting in the socket.
        upstream->stdin_done_ = true;
        upstream->broken_ = true;
        upstream->body_ = nullptr;
        evbuffer* output = bufferevent_get_output(upstream->connection_);
        evbuffer_drain(output, evbuffer_get_length(output));
        return;
    }
    if ((what & BEV_EVENT_ERROR) != 0) {
        const int error = EVUTIL_SOCKET_ERROR();
        const char* call = (what & BEV_EVENT_READING) != 0 ? "recv(2)" : "connect(2)";
        upstream->ended_ = fmt::format("{} {}: {}", call, upstream->display_, std::strerror(error));
    } else {
        upstream->ended_ = std::string();  // plain EOF: ClientRequest::eof() says what was missing
    }
    bufferevent_disable(upstream->connection_, EV_READ | EV_WRITE);
    upstream->feedInput();
    upstream->process();
}

void Upstream::onKick(evutil_socket_t, short, void* self) { static_cast<Upstream*>(self)->process(); }

}  // namespace pyfpm::http
