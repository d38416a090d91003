// One client connection of the HTTP bridge: HTTP/1.1 (RFC 9112) over a
// bufferevent, the request head and body framing parsed by http-parser
// (Debian's libhttp-parser), responses framed here.
//
// Why not evhttp: evhttp reads a request body whole before anyone sees the
// request, cannot tell a slow head from a slow body, and answers 400 where
// RFC 9110 has 413, 414 and 431. This class streams the body to whoever
// answers the request, with backpressure both ways, so that a 1 GiB upload
// or download costs a bounded amount of memory (DESIGN.md, "The HTTP bridge").
//
// What the connection enforces itself, before a request reaches a route
// (each answered with a short text/plain body and the connection closed):
//   * a malformed request line or header, a NUL or space in the target, a
//     header without a colon, Content-Length together with
//     Transfer-Encoding, a Transfer-Encoding other than chunked, a bad
//     chunk size, HTTP/1.1 without Host                         -> 400
//   * a request line longer than the head bound                 -> 414
//   * request line and headers over ConnectionLimits::maxHeaderBytes -> 431
//   * the head not complete within headerTimeout, or no body byte
//     for bodyTimeout while the body is being read             -> 408
//   * an HTTP version other than 1.0 and 1.1                   -> 505
// A client that takes no response byte for sendTimeout is disconnected.
//
// Keep-alive and pipelining: one request at a time; bytes of a next request
// stay unparsed until the current response has ended. After a response the
// connection waits keepaliveTimeout for the next request. A response that
// ends while the request body is still unread closes the connection after a
// lingering read (nginx's lingering_close), so the client's unread upload
// cannot turn our close into a reset that destroys the response.
//
// Reading: up to 256 KiB per readable event (libevent 2.1 alone reads
// 4 KiB), and only while the parser takes the bytes: a paused body, a body
// nobody reads yet and a pipelined next request stay in the socket, apart
// from a bounded read-ahead, so the client feels the backpressure.
//
// Lifetime: the owner (ConnectionOwner) creates connections and must destroy
// them only outside their callbacks; onConnectionClosed() tells it when. The
// responder of a request (Responder) is not owned.
//
// Everything runs on the thread of the event_base given (the daemon's loop).
#pragma once

#include <event2/event.h>
#include <http_parser.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/pyfpm/http/libevent_ptr.hpp"

namespace pyfpm::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request's head as the client sent it.
struct Request {
    std::string method;   // "GET", as http-parser names it
    std::string target;   // the request-target, undecoded
    int major = 1;
    int minor = 1;
    HeaderList headers;   // arrival order, names as written
    std::optional<std::uint64_t> contentLength;  // Content-Length, when sent
    bool chunked = false;                        // Transfer-Encoding: chunked
    bool expectContinue = false;                 // Expect: 100-continue

    // First value of `name` (ASCII case-insensitive), or nullptr.
    const std::string* header(std::string_view name) const;
    bool hasBody() const { return chunked || (contentLength && *contentLength > 0); }
    bool isHead() const { return method == "HEAD"; }
    std::string protocol() const;  // "HTTP/1.1"
};

// An address as the bridge logs it and hands it to CGI.
struct SocketName {
    std::string address;  // "127.0.0.1", "::1"
    std::uint16_t port = 0;
    sockaddr_storage raw = {};
};

struct ConnectionLimits {
    std::size_t maxHeaderBytes = 32 * 1024;
    std::chrono::milliseconds headerTimeout{60'000};
    std::chrono::milliseconds bodyTimeout{60'000};
    std::chrono::milliseconds sendTimeout{60'000};
    std::chrono::milliseconds keepaliveTimeout{75'000};  // 0: no keep-alive
    // Response bytes queued for the client above which the responder is
    // told to stop producing (Responder::onClientDrained resumes it).
    std::size_t clientHighWater = 256 * 1024;
};

// Whoever answers the current request (an Exchange, for a pool). Every call
// comes from the event loop, never from inside a ClientConnection method
// the responder itself called.
class Responder {
public:
    virtual ~Responder() = default;
    // Request body bytes, chunked framing removed, in order; only after
    // ClientConnection::readBody(). `data` is valid during the call only.
    virtual void onBodyData(std::string_view data) = 0;
    // The whole body has arrived (at once for a request without one).
    virtual void onBodyEnd() = 0;
    // Queued output fell below half the high-water mark.
    virtual void onClientDrained() = 0;
    // The client went away, timed out or broke the protocol before the
    // response ended: stop, and do not touch the connection again.
    virtual void onClientGone(std::string_view why) = 0;
};

class ClientConnection;

class ConnectionOwner {
public:
    virtual ~ConnectionOwner() = default;
    // A valid request head arrived: answer it (now or later) through the
    // connection's response methods.
    virtual void onRequest(ClientConnection& connection) = 0;
    // The current response ended: `status` as sent (or 499 when the client
    // went away first), `bodyBytes` of body written to the socket's buffer.
    // For the access log; the request is still readable.
    virtual void onResponseEnd(ClientConnection& connection, int status, std::uint64_t bodyBytes) = 0;
    // The connection is closed; destroy it outside this call.
    virtual void onConnectionClosed(ClientConnection& connection) = 0;
    // True while the server is stopping: responses carry Connection: close.
    virtual bool closingConnections() const = 0;
};

class ClientConnection {
public:
    // Takes `fd` (an accepted, non-blocking socket) and starts reading.
    ClientConnection(event_base* base, evutil_socket_t fd, ConnectionOwner& owner,
                     const ConnectionLimits& limits);
    ~ClientConnection();
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    const Request& request() const { return request_; }
    const SocketName& peer() const { return peer_; }
    const SocketName& local() const { return local_; }
    // When the current request's head began to arrive.
    std::chrono::steady_clock::time_point requestStarted() const { return request_started_; }

    // The request body goes to `responder` (onBodyData/onBodyEnd), which
    // also hears about drain and loss. Sends "100 Continue" when the
    // client asked for it. Call once per request, before its response ends.
    void readBody(Responder& responder);
    // The responder cannot take more body now; resumeBody() continues.
    void pauseBody();
    void resumeBody();
    // Receives onClientDrained/onClientGone without taking the body (a
    // responder that answers without it).
    void watch(Responder& responder) { responder_ = &responder; }

    // The response. `headers` must not contain framing headers
    // (Content-Length, Transfer-Encoding, Connection): the connection adds
    // them. With `contentLength` the body must have exactly that many bytes
    // (fewer: the connection is closed at endResponse); without it, chunked
    // for HTTP/1.1 and close-delimited for HTTP/1.0. HEAD, 1xx, 204 and 304
    // get no body whatever is written. `reason` empty: the standard phrase.
    void sendHead(int status, std::string_view reason, const HeaderList& headers,
                  std::optional<std::uint64_t> contentLength);
    void sendBody(std::string_view data);
    // Sends `length` bytes of `fd` from `offset` with sendfile(2); takes
    // ownership of `fd`.
    void sendFile(int fd, off_t offset, std::uint64_t length);
    // The response is complete: next request, or close.
    void endResponse();
    // The response cannot be completed (its producer failed after the head
    // went out): what is queued is flushed, then the connection closes, so
    // the client sees a truncated body rather than a complete-looking one.
    void abortResponse();
    // A whole short text/plain response (status pages, errors).
    void sendText(int status, std::string_view body, const HeaderList& extra = {});

    bool responseStarted() const { return head_sent_; }
    std::size_t outputPending() const;
    // Bytes of body written so far for the current response.
    std::uint64_t bodyBytesSent() const { return body_sent_; }

private:
    enum class State {
        Idle,        // waiting for a request (keep-alive)
        Head,        // reading a request head
        Dispatched,  // head handed to the owner; body read on demand
        Closing,     // flushing the last response, then closing
        Lingering,   // response flushed and write side shut; draining input
        Closed,
    };

    static int onMessageBegin(http_parser* parser);
    static int onUrl(http_parser* parser, const char* at, std::size_t length);
    static int onHeaderField(http_parser* parser, const char* at, std::size_t length);
    static int onHeaderValue(http_parser* parser, const char* at, std::size_t length);
    static int onHeadersComplete(http_parser* parser);
    static int onBody(http_parser* parser, const char* at, std::size_t length);
    static int onMessageComplete(http_parser* parser);

    static void onRead(bufferevent* bev, void* self);
    static void onWrite(bufferevent* bev, void* self);
    static void onEvent(bufferevent* bev, short what, void* self);
    static void onTimer(evutil_socket_t, short, void* self);
    static void onDeferred(evutil_socket_t, short, void* self);
    static void onFlush(evutil_socket_t, short, void* self);
    // Writes the output straight to the socket, once per loop turn (so a
    // head, a body and an end written apart go out in one writev), and
    // hands libevent only what the socket did not take.
    void flushOutput();
    void scheduleFlush();

    void parse();
    bool countHead(std::size_t bytes);
    void finishHeaderPair();
    void failRequest(int status, std::string_view why);
    void beginRequest();
    void dispatch();
    void armTimer(std::chrono::milliseconds timeout);
    void updateReading();
    // Reads on past libevent's 4 KiB per event while the parser takes
    // everything and the state wants input (wantsInput()).
    void readMore();
    bool wantsInput() const;
    void clientGone(std::string_view why);
    void closeNow();
    void startLingering();
    void writeRaw(std::string_view data);
    void writeChunkHeader(std::size_t length);
    bool bodyAllowed() const;

    event_base* base_;
    ConnectionOwner& owner_;
    ConnectionLimits limits_;
    BuffereventPtr bev_;
    EventPtr timer_;
    EventPtr deferred_;
    EventPtr flush_;  // flushOutput() later in this loop turn
    bool flush_scheduled_ = false;
    http_parser parser_{};
    http_parser_settings settings_{};
    SocketName peer_;
    SocketName local_;
    State state_ = State::Idle;
    Request request_;
    std::chrono::steady_clock::time_point request_started_{};
    std::size_t head_bytes_ = 0;
    std::string field_;
    std::string value_;
    bool in_value_ = false;
    std::optional<std::pair<int, std::string>> head_error_;  // set by a parser callback
    bool headers_done_ = false;
    bool message_done_ = false;  // the request body has been read completely
    bool body_reading_ = false;  // readBody() was called
    bool body_paused_ = false;
    bool body_end_delivered_ = false;
    bool continue_sent_ = false;
    Responder* responder_ = nullptr;
    // Response
    bool head_sent_ = false;
    bool response_ended_ = false;
    bool keep_alive_ = false;
    bool chunked_out_ = false;
    bool no_body_ = false;
    bool drain_wanted_ = false;
    int status_ = 0;
    std::optional<std::uint64_t> length_out_;
    std::uint64_t body_sent_ = 0;
    bool close_after_ = false;
    std::string scratch_;
};

// RFC 9110 §15 reason phrase ("Not Found"); "Unknown" for others.
std::string_view reasonPhrase(int status);

}  // namespace pyfpm::http
