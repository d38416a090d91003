// The bridge's kept connections to one pool's workers: one private channel
// per pyfpm-worker (manager/worker_contract.hpp, "The bridge's channel"),
// each carrying one FastCGI request at a time with FCGI_KEEP_CONN
// (FastCGI 1.0 §3.5, §5.1), and the queue of requests waiting for a channel.
//
// Why. A connection per request to the pool socket costs the daemon a
// socket, connect, close and two epoll_ctl per request, and the worker an
// accept: the profile of /hello through the bridge put most of the daemon's
// time there (bench/README.md). A kept connection per worker costs none of
// it, and since a channel is lent to one request at a time the bridge knows
// exactly which workers are idle and how many requests wait: requests are
// only sent to an idle worker, the others wait here in arrival order, and
// the manager counts them as the pool's queue (WorkerChannelListener).
//
// When a pool has no channel at all (a command pool, a pool of pm ondemand
// with no worker yet, workers that are all leaving), acquire() says so and
// the request goes to the pool socket as before, where the manager's accept
// queue watch sees it. A request queued here when the last channel goes is
// sent to the pool socket then.
//
// Lifetime. A Channel is owned by its WorkerChannels; a lease (the Channel*
// handed to a ChannelUser) is valid until the user calls release(). A
// leaving worker's channel is closed once released. Everything runs on the
// daemon's event loop thread.
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/pyfpm/http/libevent_ptr.hpp"
#include "src/pyfpm/http/upstream.hpp"
#include "src/pyfpm/http/upstream_link.hpp"

namespace pyfpm::http {

class WorkerChannels;

// One worker's channel. Outside a lease the connection (if any) is idle and
// watched for EOF (the LinkHandler): a worker that exits closes it.
struct Channel final : LinkHandler {
    pid_t pid = 0;
    UpstreamAddress address;            // the abstract unix socket "@NAME"
    std::unique_ptr<UpstreamLink> link;  // null until connected, or after a close
    bool leased = false;
    bool leaving = false;       // told to stop: close once released
    // When its last request ended (or it was added), by the loop's cached
    // clock: its worker's scoreboard slot may still say Busy for a moment
    // after FCGI_END_REQUEST, so the slot is believed only after that.
    std::int64_t idleSinceUs = 0;
    // When a request on it last failed (EOF, reset, bad records): its
    // worker is probably dying, and a connect may still succeed while its
    // process is torn down; not lent for a while, unless the manager
    // announces it again.
    std::int64_t failedAtUs = 0;
    WorkerChannels* owner = nullptr;

    // Idle: bytes or EOF from the worker close the connection.
    void onLinkReadable() override;
    void onLinkWritable() override {}
    void onLinkWriteFailed(int) override { link.reset(); }
};

// A request waiting for a channel.
class ChannelUser {
public:
    virtual ~ChannelUser() = default;
    // From the event loop (never inside acquire() or release()): the
    // connected channel now lent to this user, or null when the pool has no
    // channel any more (send the request to the pool socket).
    virtual void onChannel(Channel* channel) = 0;
};

class WorkerChannels {
public:
    // `onQueued` runs when a request starts to wait with none waiting
    // before (the manager's tick then sees the queue); may be empty.
    // `busyElsewhere(pid)` says whether a worker whose channel is idle
    // serves a request from the pool socket (its scoreboard slot); such a
    // channel is not lent until it is free, so that a request does not wait
    // behind another while pm ondemand or dynamic could start a worker; may
    // be empty.
    WorkerChannels(event_base* base, std::string pool, std::function<void()> onQueued,
                   std::function<bool(pid_t)> busyElsewhere = {});
    ~WorkerChannels();
    WorkerChannels(const WorkerChannels&) = delete;
    WorkerChannels& operator=(const WorkerChannels&) = delete;

    // Worker `pid` listens on the abstract socket `name` (without '@').
    // Connected lazily, at its first request. A pid already known is
    // replaced (a new worker with a reused pid).
    void add(pid_t pid, std::string_view name);
    // Worker `pid` is leaving: nothing more is sent to it; its channel is
    // closed now if idle, else when released. Unknown pids are ignored.
    void remove(pid_t pid);

    enum class Grant {
        Now,     // `channel` is lent to the caller, connected
        Queued,  // every channel is busy: onChannel() comes later
        None,    // no channel: use the pool socket
    };
    // Lends an idle channel (the most recently used one first, so that the
    // least used workers stay idle and pm dynamic can stop them), connecting
    // it if need be; a channel that fails to connect is dropped (its worker
    // is gone) and the next one tried.
    [[nodiscard]] Grant acquire(ChannelUser& user, Channel*& channel);
    // A queued user that no longer waits (client gone, timeout). No-op for
    // a user that is not queued.
    void cancel(ChannelUser& user);
    // The lease of `channel` ends. `reusable`: the request ended with
    // FCGI_END_REQUEST and nothing is left unread; otherwise the connection
    // is closed (a later request reconnects). `failed`: the worker broke
    // the connection (see Channel::failedAtUs). The channel then serves the
    // first queued user, from the loop.
    void release(Channel& channel, bool reusable, bool failed = false);

    std::size_t queued() const { return waiting_.size(); }
    const std::string& pool() const { return pool_; }

private:
    static void onDispatch(evutil_socket_t, short, void* self);
    static void onRecheck(evutil_socket_t, short, void* self);

    Channel* find(pid_t pid);
    // An idle channel, connected and marked leased; null when none.
    Channel* lendIdle();
    std::int64_t nowUs() const;
    // Some channel may be lent now or later: not leaving, not paused after
    // a failure. Without one, requests go to the pool socket.
    bool usable() const;
    bool connect(Channel& channel);
    void watchIdle(Channel& channel);
    void erase(Channel& channel);
    // Hands idle channels to waiting users (from the loop).
    void dispatch();
    void scheduleDispatch();
    void armRecheck();

    event_base* base_;
    std::string pool_;
    std::function<void()> on_queued_;
    std::function<bool(pid_t)> busy_elsewhere_;
    // Most recently used last; std::unique_ptr keeps leases stable.
    std::vector<std::unique_ptr<Channel>> channels_;
    std::deque<ChannelUser*> waiting_;
    EventPtr dispatch_;
    // Users wait while idle channels' workers are busy elsewhere: nothing
    // tells when they are done, so look again after kRecheck.
    EventPtr recheck_;
    bool busy_skipped_ = false;  // the last lendIdle() passed over such a channel
};

}  // namespace pyfpm::http
