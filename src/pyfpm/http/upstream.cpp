#include "src/pyfpm/http/upstream.hpp"

#include <event2/buffer.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "manager/unique_fd.hpp"
#include "src/pyfpm/http/channels.hpp"
#include "src/pyfpm/http/upstream_link.hpp"

namespace pyfpm::http {

namespace {

// Encoded FCGI_STDIN waiting for the socket: refilled once written, up to
// this much.
constexpr std::size_t kStdinHighWater = 256 * 1024;
// Body bytes taken per refill step; appendStream splits them into records.
constexpr std::size_t kStdinChunk = 64 * 1024;
// A bufferevent would read at most 4096 bytes per readable event (libevent
// 2.1's EVBUFFER_MAX_READ), so a response of a megabyte would cost 256 turns
// of the loop, each with epoll_wait, FIONREAD and readv: read directly, in
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
    owned_ = std::make_unique<UpstreamLink>(base_, fd.release(), connecting);
    link_ = owned_.get();
    connecting_ = connecting;
    if (!kick_) kick_.reset(event_new(base_, -1, 0, &Upstream::onKick, this));
    // No FCGI_KEEP_CONN: the worker closes after FCGI_END_REQUEST.
    request_ = fcgi::ClientRequest(1, 0, max_head_bytes_);
    send(params, body);
    return true;
}

void Upstream::start(Channel& channel, const fcgi::ParamsBuilder& params, StdinSource* body) {
    display_ = channel.address.display;
    channel_ = &channel;
    link_ = channel.link.get();
    connecting_ = false;
    if (!kick_) kick_.reset(event_new(base_, -1, 0, &Upstream::onKick, this));
    request_ = fcgi::ClientRequest(1, fcgi::kKeepConn, max_head_bytes_);
    send(params, body);
}

void Upstream::send(const fcgi::ParamsBuilder& params, StdinSource* body) {
    link_->attach(this);
    // FastCGI 1.0 §5.1-5.3: FCGI_BEGIN_REQUEST, the FCGI_PARAMS stream,
    // then FCGI_STDIN, each stream ended by an empty record; written at
    // once where the socket takes them (a connect in progress: once it
    // completes).
    scratch_.clear();
    request_.appendBegin(scratch_);
    request_.appendParams(scratch_, params);
    evbuffer_add(link_->output(), scratch_.data(), scratch_.size());
    body_ = body;
    stdin_done_ = false;
    ended_.reset();
    paused_ = false;
    broken_ = false;
    // Reading starts once connected, so a refused connect is reported by
    // connect(2)'s error rather than by a read on a dead socket.
    if (!connecting_) link_->setReading(true);
    pumpStdin();
}

void Upstream::stdinReady() { pumpStdin(); }

void Upstream::pumpStdin() {
    // readStdin() may let the client connection read on, which calls
    // stdinReady() from inside the loop below: that call only says "more".
    if (pumping_) return;
    if (stdin_done_ || link_ == nullptr || broken_) return;
    pumping_ = true;
    evbuffer* output = link_->output();
    // Until the socket is full (the link then calls back once it took
    // everything) or the body has nothing more now (stdinReady() then).
    bool more = true;
    while (more && !stdin_done_) {
        while (evbuffer_get_length(output) < kStdinHighWater) {
            data_.clear();
            const std::size_t n = body_ != nullptr ? body_->readStdin(data_, kStdinChunk) : 0;
            scratch_.clear();
            if (n == 0) {
                more = false;
                if (body_ != nullptr && !body_->stdinComplete()) break;  // more later
                request_.appendStdinEnd(scratch_);
                evbuffer_add(output, scratch_.data(), scratch_.size());
                stdin_done_ = true;
                body_ = nullptr;
                break;
            }
            request_.appendStdin(scratch_, data_);
            evbuffer_add(output, scratch_.data(), scratch_.size());
        }
        // A failure is heard through onLinkWriteFailed.
        if (!link_->flush() || link_->pending() > 0) break;
    }
    pumping_ = false;
}

void Upstream::process() {
    while (link_ != nullptr && !paused_) {
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
            finish(stdin_done_ && !broken_ && !ended_ && link_->pending() == 0, false);
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
    if (link_ != nullptr) link_->setReading(false);
}

void Upstream::resumeReading() {
    if (!paused_) return;
    paused_ = false;
    if (link_ == nullptr) return;
    if (!ended_ && !connecting_) link_->setReading(true);
    // Events parsed before the pause are delivered from the loop, not from
    // inside the caller (the client connection's write callback).
    event_active(kick_.get(), 0, 0);
}

void Upstream::close() { finish(false, false); }

void Upstream::finish(bool reusable, bool failed) {
    body_ = nullptr;
    if (kick_) event_del(kick_.get());
    if (link_ != nullptr) link_->attach(nullptr);
    if (channel_ != nullptr) {
        Channel* channel = channel_;
        channel_ = nullptr;
        link_ = nullptr;
        channel->owner->release(*channel, reusable, failed);
        return;
    }
    link_ = nullptr;
    owned_.reset();
}

void Upstream::readSocket() {
    if (link_ == nullptr || paused_ || ended_) return;
    read_piece_.resize(kReadPiece);
    std::size_t total = 0;
    while (total < kReadPerEvent) {
        const ssize_t n = ::recv(link_->fd(), read_piece_.data(), read_piece_.size(), MSG_DONTWAIT);
        if (n > 0) {
            request_.feed(std::string_view(read_piece_.data(), static_cast<std::size_t>(n)));
            total += static_cast<std::size_t>(n);
            // A short read emptied the socket: epoll says when more comes,
            // without one more recv(2) to hear EAGAIN.
            if (static_cast<std::size_t>(n) < read_piece_.size()) return;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            ended_ = std::string();  // EOF: ClientRequest::eof() says what was missing
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            ended_ = fmt::format("recv(2) {}: {}", display_, std::strerror(errno));
        }
        if (ended_) link_->setReading(false);
        return;
    }
}

void Upstream::onLinkReadable() {
    readSocket();
    process();
}

void Upstream::onLinkWritable() {
    if (connecting_) {
        connecting_ = false;
        if (!paused_) link_->setReading(true);
    }
    pumpStdin();
}

void Upstream::onLinkWriteFailed(int error) {
    if (connecting_) {
        connecting_ = false;
        ended_ = fmt::format("connect(2) {}: {}", display_, std::strerror(error));
        process();
        return;
    }
    // The application stopped reading FCGI_STDIN (it answered without the
    // body, or it died). Stop sending; reading decides the outcome: a
    // complete response may still be waiting in the socket.
    stdin_done_ = true;
    broken_ = true;
    body_ = nullptr;
}

void Upstream::onKick(evutil_socket_t, short, void* self) { static_cast<Upstream*>(self)->process(); }

}  // namespace pyfpm::http
