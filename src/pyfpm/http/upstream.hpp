// One FastCGI request to a pool's socket over a bufferevent: the bridge's
// side of FastCGI 1.0 §5 (responder role), as nginx's fastcgi_pass plays it.
//
// Either over a worker's private channel (channels.hpp), lent for this one
// request, with FCGI_KEEP_CONN, and given back when FCGI_END_REQUEST
// arrives; or over a fresh connection to the pool socket, without
// FCGI_KEEP_CONN, closed as soon as FCGI_END_REQUEST arrives (a libfcgi
// program serves one connection at a time, so a kept idle connection there
// would pin it). The request body is written as FCGI_STDIN in bounded pieces as
// the socket drains, so the bridge holds at most ~256 KiB of encoded stdin
// per request. The response is turned into events by fcgi::ClientRequest.
//
// Everything runs on the event loop of `base` (the daemon's single loop).
#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "fcgi/client.hpp"
#include "manager/pool_config.hpp"
#include "src/pyfpm/http/libevent_ptr.hpp"
#include "src/pyfpm/http/upstream_link.hpp"

namespace pyfpm::http {

struct Channel;

// A pool's `listen` address as a socket address, resolved once at start so
// that no request waits for a name lookup on the event loop.
struct UpstreamAddress {
    sockaddr_storage storage = {};
    socklen_t length = 0;
    std::string display;  // "unix:/run/pyfpm/web.sock", "127.0.0.1:9000"

    // Fails (false, `error` set) for a unix path too long for sun_path or a
    // host that does not resolve. A name resolving to several addresses uses
    // the first, as nginx does for fastcgi_pass.
    static bool resolve(const manager::ListenAddress& listen, UpstreamAddress& out,
                        std::string& error);
};

// Receives one request's outcome. Exactly one of onUpstreamEnd and
// onUpstreamFailure ends the request; after it, and after Upstream::close(),
// no further call arrives. A handler may call Upstream::close(),
// pauseReading() or resumeReading() from any of these, but must not destroy
// the Upstream inside one.
class UpstreamHandler {
public:
    virtual ~UpstreamHandler() = default;
    // The CGI response head is complete (RFC 3875 §6.3; Status/Location
    // already applied by fcgi::CgiResponseParser).
    virtual void onUpstreamHead(const fcgi::ResponseHead& head) = 0;
    // FCGI_STDOUT bytes after the head, in order. `data` is valid during the
    // call only.
    virtual void onUpstreamBody(std::string_view data) = 0;
    // FCGI_STDERR bytes, in order, not split at lines.
    virtual void onUpstreamStderr(std::string_view data) = 0;
    // FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE. The connection is closed.
    virtual void onUpstreamEnd() = 0;
    // Connect refused, the connection broke or closed before
    // FCGI_END_REQUEST, malformed records or CGI head: `why` says which,
    // naming the system call and the address. The connection is closed.
    virtual void onUpstreamFailure(std::string_view why) = 0;
};

// Where FCGI_STDIN comes from: the request body as it arrives, or a spool
// file. Pulled by the Upstream as its socket drains.
class StdinSource {
public:
    virtual ~StdinSource() = default;
    // Appends at most `max` body bytes to `out` and returns how many; 0 when
    // none is available right now (Upstream::stdinReady() says when more is).
    virtual std::size_t readStdin(std::string& out, std::size_t max) = 0;
    // No byte will come after those readStdin() returns.
    virtual bool stdinComplete() const = 0;
};

class Upstream final : private LinkHandler {
public:
    // `maxHeadBytes` bounds the CGI response head (fcgi::CgiResponseParser).
    Upstream(event_base* base, UpstreamHandler& handler, std::size_t maxHeadBytes);
    ~Upstream();
    Upstream(const Upstream&) = delete;
    Upstream& operator=(const Upstream&) = delete;

    // Connects to `address` and sends FCGI_BEGIN_REQUEST, `params` as
    // FCGI_PARAMS, then what `body` gives as FCGI_STDIN, pulling it as the
    // socket drains (at most ~256 KiB of encoded stdin queued). `body` (may
    // be null: no body) must stay alive until the request ends or close()
    // is called. Returns false with `error` set when the connect fails at
    // once (a unix socket nobody listens on); the handler is not called
    // then. A later failure arrives as onUpstreamFailure.
    [[nodiscard]] bool start(const UpstreamAddress& address, const fcgi::ParamsBuilder& params,
                             StdinSource* body, std::string& error);
    // The same over `channel`, connected and lent to this request
    // (WorkerChannels::acquire), with FCGI_KEEP_CONN. The lease ends
    // (WorkerChannels::release) when the request ends, fails or is closed:
    // the channel stays usable only after a complete FCGI_END_REQUEST with
    // the whole of FCGI_STDIN sent.
    void start(Channel& channel, const fcgi::ParamsBuilder& params, StdinSource* body);

    // The StdinSource has bytes again (or is complete): send them.
    void stdinReady();

    // Backpressure from a slow client: stop reading the application's
    // output (the worker then blocks in write, as behind nginx) and resume.
    // Events already parsed are held while paused.
    void pauseReading();
    void resumeReading();

    // Closes the connection now (the abort that libfcgi honours; §5.4's
    // FCGI_ABORT_REQUEST is ignored while a request runs); a channel is
    // closed too, and reconnected by a later request. Idempotent; no
    // handler call follows.
    void close();

    bool isOpen() const { return link_ != nullptr; }

private:
    // LinkHandler
    void onLinkReadable() override;
    void onLinkWritable() override;
    void onLinkWriteFailed(int error) override;
    static void onKick(evutil_socket_t, short, void* self);

    void send(const fcgi::ParamsBuilder& params, StdinSource* body);
    // The request ended: the connection is closed, or given back to its
    // channel when `reusable`; `failed`: the worker broke it.
    void finish(bool reusable, bool failed);
    // recv(2) in pieces of 64 KiB, up to 256 KiB per event (which bounds
    // what a paused exchange can be left holding).
    void readSocket();
    void pumpStdin();
    void process();

    event_base* base_;
    UpstreamHandler& handler_;
    fcgi::ClientRequest request_;
    std::size_t max_head_bytes_;
    UpstreamLink* link_ = nullptr;  // owned_'s, or the channel's
    std::unique_ptr<UpstreamLink> owned_;
    Channel* channel_ = nullptr;
    EventPtr kick_;  // resumes processing outside the caller's stack
    StdinSource* body_ = nullptr;
    std::string display_;
    std::string scratch_;
    std::string data_;  // body bytes on their way into FCGI_STDIN records
    std::string read_piece_;  // readSocket()'s buffer
    std::optional<std::string> ended_;  // EOF or error seen: why
    bool stdin_done_ = false;
    bool paused_ = false;
    bool connecting_ = false;
    bool pumping_ = false;  // inside pumpStdin()
    bool broken_ = false;  // a write failed: the connection is out of step
};

}  // namespace pyfpm::http
