// A FastCGI connection's descriptor with its read and write events and its
// output buffer: the bridge's side of a socket to a worker, without a
// bufferevent.
//
// Why not a bufferevent. Per request a bufferevent adds and removes write
// interest (two epoll_ctl), sizes every read with FIONREAD, and reads at
// most 4 KiB per event (libevent 2.1's EVBUFFER_MAX_READ). Here output is
// written at once when the socket takes it, write interest is armed only for
// what it did not take, and reading is left to the handler, which reads
// with recv(2) into its own buffer as much as it wants. The read event is
// persistent and stays armed between requests on a kept channel, so a
// request costs no epoll_ctl at all.
//
// Everything runs on the event loop of `base` (the daemon's single loop).
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <cstddef>

#include "src/pyfpm/http/libevent_ptr.hpp"

namespace pyfpm::http {

class LinkHandler {
public:
    virtual ~LinkHandler() = default;
    // The socket is readable (or at EOF, or in error): read it with recv(2).
    virtual void onLinkReadable() = 0;
    // Everything queued was written (after a partial write), or the connect
    // in progress completed.
    virtual void onLinkWritable() = 0;
    // A write, or the connect in progress, failed with `error` (an errno
    // value); nothing more is written.
    virtual void onLinkWriteFailed(int error) = 0;
};

class UpstreamLink {
public:
    // Takes `fd`, a non-blocking stream socket, and closes it when
    // destroyed. `connecting`: a connect(2) is in progress (EINPROGRESS);
    // writes wait for it, and its outcome is reported as onLinkWritable or
    // onLinkWriteFailed.
    UpstreamLink(event_base* base, int fd, bool connecting = false);
    ~UpstreamLink();
    UpstreamLink(const UpstreamLink&) = delete;
    UpstreamLink& operator=(const UpstreamLink&) = delete;

    int fd() const { return fd_; }

    // Who hears the events from now on; null: nobody (events are dropped,
    // reading stays as set).
    void attach(LinkHandler* handler) { handler_ = handler; }
    // Arms or disarms the persistent read event (no system call when it
    // does not change).
    void setReading(bool on);

    // Bytes to send; call flush() after adding.
    evbuffer* output() const { return output_.get(); }
    // Writes what output() holds as far as the socket takes it now, and
    // arms the write event for the rest. Returns false once a write failed
    // (errno kept in failedWith()); the handler also hears it, from the loop.
    bool flush();
    std::size_t pending() const { return evbuffer_get_length(output_.get()); }
    int failedWith() const { return write_error_; }

private:
    static void onRead(evutil_socket_t, short, void* self);
    static void onWrite(evutil_socket_t, short, void* self);
    void armWrite(bool on);

    int fd_;
    LinkHandler* handler_ = nullptr;
    EventPtr read_;
    EventPtr write_;
    EvbufferPtr output_;
    bool reading_ = false;
    bool write_armed_ = false;
    bool connecting_ = false;
    int write_error_ = 0;
};

}  // namespace pyfpm::http
