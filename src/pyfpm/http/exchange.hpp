// One HTTP request proxied to a pool: the glue between a ClientConnection
// (connection.hpp) and an Upstream (one FastCGI connection). The request
// body streams to the worker as FCGI_STDIN as it arrives, with backpressure
// both ways: when the worker reads slowly the client is not read, and when
// the client reads slowly the worker is not read (it then blocks in write,
// as behind nginx), so a transfer of any size costs a bounded amount of
// memory. A body without Content-Length (chunked) is spooled to an unlinked
// temporary file first, so that CONTENT_LENGTH can be sent, as nginx does.
// Failures map as nginx maps them:
//
//   connect refused, connection broken or closed before FCGI_END_REQUEST,
//   malformed records or CGI head           -> 502 Bad Gateway
//   no complete response within request_timeout -> 504 Gateway Timeout
//   a chunked body over max_body_size        -> 413 Content Too Large
//   client gone before the response ended    -> logged as 499, FastCGI
//                                               connection closed (the
//                                               abort libfcgi honours)
//
// Once the response head has gone out, a failure can no longer change the
// status: what is already queued for the client is flushed and the
// connection is then closed, so that the client sees a truncated response
// (chunked without its last chunk, or short of its Content-Length), never a
// complete-looking one.
//
// Lifetime. The Server owns every Exchange and destroys it only from its
// reap event, after the Exchange called ExchangeHost::retire(); so an
// Exchange is never destroyed inside one of its own callbacks. It uses its
// ClientConnection until it ends the response or hears onClientGone().
//
// Everything runs on the daemon's single event loop thread.
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "fcgi/client.hpp"
#include "manager/unique_fd.hpp"
#include "src/pyfpm/http/cgi_params.hpp"
#include "src/pyfpm/http/channels.hpp"
#include "src/pyfpm/http/connection.hpp"
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
};

// What an Exchange needs from the server that owns it.
class ExchangeHost {
public:
    virtual ~ExchangeHost() = default;
    virtual event_base* base() const = 0;
    // Destroy `exchange` soon, from the event loop.
    virtual void retire(Exchange* exchange) = 0;
    // Once per Exchange, when its part ends (answered, failed, or the
    // client gone), before the response ends.
    virtual void noteUpstream(ClientConnection& connection, const UpstreamNote& note) = 0;
};

struct ExchangeSettings {
    std::string pool;
    UpstreamAddress address;
    // The pool's workers' channels; null: always the pool socket. Must
    // outlive the Exchange.
    WorkerChannels* channels = nullptr;
    std::chrono::milliseconds requestTimeout{60'000};
    // Bytes queued for the client above which reading from the worker
    // pauses until the client has taken them; also the bound of request
    // body bytes held for the worker.
    std::size_t clientHighWater = 256 * 1024;
    std::size_t maxHeadBytes = 64 * 1024;  // CGI response head bound
    std::uint64_t maxBodyBytes = 0;        // chunked bodies: 413 beyond; 0 = none
    std::filesystem::path spoolDirectory;  // for chunked bodies
};

class Exchange final : private UpstreamHandler, private Responder, private StdinSource, private ChannelUser {
public:
    enum class State {
        Spooling,      // reading a chunked body into the spool file
        AwaitingHead,  // request sent or being sent; nothing answered yet
        Streaming,     // head sent to the client; body flowing
        Done,          // over; waiting to be reaped
    };

    // `request` describes the CGI variables; CONTENT_LENGTH is filled in
    // here. `logName` is "GET /x?y" for log lines.
    Exchange(ExchangeHost& host, ClientConnection& connection, ExchangeSettings settings,
             RequestDescription request, std::string logName);
    ~Exchange() override;
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    // Sends the request to an idle worker's channel, or waits for one, or
    // connects to the pool socket (channels.hpp); or starts spooling. May
    // answer 502 at once.
    void start();

    // The daemon is tearing the bridge down: drop the request without an
    // answer (the connection is freed right after).
    void abandon();

    State state() const { return state_; }

private:
    // UpstreamHandler
    void onUpstreamHead(const fcgi::ResponseHead& head) override;
    void onUpstreamBody(std::string_view data) override;
    void onUpstreamStderr(std::string_view data) override;
    void onUpstreamEnd() override;
    void onUpstreamFailure(std::string_view why) override;
    // Responder
    void onBodyData(std::string_view data) override;
    void onBodyEnd() override;
    void onClientDrained() override;
    void onClientGone(std::string_view why) override;
    // StdinSource
    std::size_t readStdin(std::string& out, std::size_t max) override;
    bool stdinComplete() const override;
    // ChannelUser
    void onChannel(Channel* channel) override;

    static void onTimeout(evutil_socket_t, short, void* self);

    void connect();
    void connectPoolSocket();
    // A channel, a wait for one, or the pool socket.
    void dispatch();
    void startOn(Channel& channel);
    void logStderrLines(bool flush);
    void noteUpstream();
    // The endings; each leaves state Done and calls retire().
    void letGo();
    void finishResponse();
    void answerError(int status, std::string_view body);
    void truncateResponse();

    ExchangeHost& host_;
    ClientConnection* connection_;  // null once the response ended or the client went
    ExchangeSettings settings_;
    RequestDescription request_;
    std::string log_name_;
    Upstream upstream_;
    fcgi::ParamsBuilder params_;  // built once, sent when a channel is free
    bool queued_ = false;         // waiting in settings_.channels
    bool on_channel_ = false;     // the current attempt uses a channel
    bool retryable_ = false;      // may be sent once more (connect())
    State state_ = State::AwaitingHead;
    EventPtr timer_;
    EvbufferPtr body_;              // client body bytes not yet taken by the upstream
    manager::UniqueFd spool_;       // chunked body, when there is one
    std::uint64_t spooled_ = 0;     // bytes in spool_
    std::uint64_t spool_read_ = 0;  // bytes of spool_ sent on
    bool body_complete_ = false;    // the client body has been read whole
    bool expect_body_ = true;
    bool paused_ = false;
    bool warned_excess_ = false;
    std::optional<std::uint64_t> remaining_;  // body bytes still owed per Content-Length
    std::string stderr_pending_;             // an unfinished FCGI_STDERR line
    std::chrono::steady_clock::time_point started_;
    pid_t worker_pid_ = 0;
    bool noted_ = false;   // noteUpstream ran
    bool let_go_ = false;  // letGo ran
};

std::string toString(Exchange::State state);

}  // namespace pyfpm::http
