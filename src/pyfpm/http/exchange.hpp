// One HTTP request proxied to a pool: the glue between an evhttp request and
// an Upstream (one FastCGI connection). It turns the CGI response into the
// HTTP response, streams the body as it arrives, applies backpressure from a
// slow client, enforces the pool's request_timeout, and maps failures as
// nginx does:
//
//   connect refused, connection broken or closed before FCGI_END_REQUEST,
//   malformed records or CGI head           -> 502 Bad Gateway
//   no complete response within request_timeout -> 504 Gateway Timeout
//   client gone before the response ended    -> logged as 499, FastCGI
//                                               connection closed
//
// Once the response head has gone out, a failure can no longer change the
// status: what is already queued for the client is flushed (bounded by the
// client timeout) and the connection is then closed, so that the client sees
// a truncated response (chunked without its last chunk, or short of its
// Content-Length), never a complete-looking one.
//
// Lifetime. The Server owns every Exchange and destroys it only from its
// reap event, after the Exchange called ExchangeHost::retire(); so an
// Exchange is never destroyed inside one of its own callbacks. The evhttp
// request is libevent's: the Exchange holds it only until it hands it back
// (evhttp_send_reply*, or freeing the connection) or until the Server says
// the client connection is gone (clientGone()).
//
// Everything runs on the daemon's single event loop thread.
#pragma once

#include <event2/http.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "fcgi/client.hpp"
#include "src/pyfpm/http/libevent_ptr.hpp"
#include "src/pyfpm/http/upstream.hpp"

namespace pyfpm::http {

class Exchange;

// The response header a pyfpm worker names itself in (its pid, decimal)
// when the request carries the FastCGI param kWorkerHeaderParam, which the
// bridge always sends. The bridge strips it from the response and logs the
// pid ($worker_pid in the access log). nginx never sends the param, so its
// clients never see the header.
inline constexpr const char* kWorkerHeader = "X-Pyfpm-Worker";
inline constexpr const char* kWorkerHeaderParam = "PYFPM_WORKER_HEADER";

// What the access log wants to know about the worker's part of a request.
struct UpstreamNote {
    std::string pool;
    pid_t workerPid = 0;                  // 0: unknown (no header came)
    std::chrono::microseconds elapsed{0};  // connect to the end with the worker
    std::uint64_t bodyBytes = 0;          // response body bytes queued for the client
};

// What an Exchange needs from the server that owns it.
class ExchangeHost {
public:
    virtual ~ExchangeHost() = default;
    virtual event_base* base() const = 0;
    // The Exchange let go of the request on `connection` (it answered, or
    // is about to free the connection); the server stops routing client
    // events for that connection to it.
    virtual void detach(evhttp_connection* connection) = 0;
    // Destroy `exchange` soon, from the event loop.
    virtual void retire(Exchange* exchange) = 0;
    // The Exchange serving `connection`, or nullptr; for the client's
    // "output drained" callback, which carries only the connection.
    virtual Exchange* exchangeFor(evhttp_connection* connection) const = 0;
    // True once the server stops accepting: responses then carry
    // `Connection: close` so that keep-alive clients go away.
    virtual bool closingConnections() const = 0;
    // Once per Exchange, when its part ends (answered, failed, or the
    // client gone), before the request goes back to evhttp.
    virtual void noteUpstream(evhttp_connection* connection, const UpstreamNote& note) = 0;
};

struct ExchangeSettings {
    std::string pool;
    UpstreamAddress address;
    std::chrono::milliseconds requestTimeout{60'000};
    // Bytes queued for the client above which reading from the worker
    // pauses until the client has taken them.
    std::size_t clientHighWater = 256 * 1024;
    std::size_t maxHeadBytes = 64 * 1024;  // CGI response head bound
};

class Exchange final : private UpstreamHandler {
public:
    enum class State {
        AwaitingHead,  // request sent or being sent; nothing answered yet
        Streaming,     // head sent to the client; body flowing
        Flushing,      // failed mid-body: the client gets what is queued, then a close
        Done,          // request handed back or dropped; waiting to be reaped
    };

    // `logName` is "GET /x?y" for log lines.
    Exchange(ExchangeHost& host, evhttp_request* request, ExchangeSettings settings,
             fcgi::ParamsBuilder params, std::string logName);
    ~Exchange() override;
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    // Connects and sends the request; may answer 502 at once.
    void start();

    // The client connection is being freed by evhttp (its close callback):
    // the request must not be touched any more. Logs 499 unless done.
    void clientGone();

    // The daemon is tearing the bridge down: drop the request without an
    // answer (evhttp frees it with its connection right after).
    void abandon();

    State state() const { return state_; }

    // evhttp_send_reply_chunk_with_cb's callback: the client's output
    // buffer is empty. `host` is the ExchangeHost, which outlives every
    // client connection, so a stale callback finds no Exchange rather than
    // a freed one.
    static void onClientDrained(evhttp_connection* connection, void* host);

private:
    void setState(State next);

    void onUpstreamHead(const fcgi::ResponseHead& head) override;
    void onUpstreamBody(std::string_view data) override;
    void onUpstreamStderr(std::string_view data) override;
    void onUpstreamEnd() override;
    void onUpstreamFailure(std::string_view why) override;

    static void onTimeout(evutil_socket_t, short, void* self);
    static void onClientEvent(evutil_socket_t fd, short what, void* self);
    static void onFlushed(bufferevent* bev, void* self);
    static void onFlushError(bufferevent* bev, short what, void* self);

    void resumeAfterDrain();
    // True once the client has every byte it was promised: the head of a
    // HEAD or bodiless status, or Content-Length bytes of body.
    bool clientHasWholeResponse() const;
    void logStderrLines(bool flush);
    void releaseEvents();
    // Tells the host what the worker did; only the first call counts.
    void noteUpstream();
    // The endings. Each leaves state Done (truncateResponse: Flushing, then
    // Done) and calls retire().
    // What every ending does first, once: the access-log figures, the
    // worker connection and timers dropped, the client connection handed
    // back to the server.
    void letGo();
    void finishResponse();
    void answerError(int status, std::string_view body);
    void truncateResponse();
    void closeClientConnection();

    ExchangeHost& host_;
    evhttp_request* request_;
    evhttp_connection* connection_;
    ExchangeSettings settings_;
    fcgi::ParamsBuilder params_;
    std::string log_name_;
    Upstream upstream_;
    State state_ = State::AwaitingHead;
    EventPtr timer_;
    EventPtr client_watch_;
    EvbufferPtr chunk_;
    bool head_request_ = false;
    bool expect_body_ = true;
    bool paused_ = false;
    bool warned_excess_ = false;
    std::optional<std::uint64_t> remaining_;  // body bytes still owed per Content-Length
    std::string stderr_pending_;             // an unfinished FCGI_STDERR line
    std::chrono::steady_clock::time_point started_;
    pid_t worker_pid_ = 0;
    std::uint64_t body_bytes_ = 0;
    bool noted_ = false;   // noteUpstream ran
    bool let_go_ = false;  // letGo ran
};

std::string toString(Exchange::State state);

}  // namespace pyfpm::http
