#include "src/pyfpm/http/upstream_link.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace pyfpm::http {

UpstreamLink::UpstreamLink(event_base* base, int fd, bool connecting)
    : fd_(fd),
      read_(event_new(base, fd, EV_READ | EV_PERSIST, &UpstreamLink::onRead, this)),
      write_(event_new(base, fd, EV_WRITE | EV_PERSIST, &UpstreamLink::onWrite, this)),
      output_(evbuffer_new()),
      connecting_(connecting) {
    if (connecting_) armWrite(true);
}

UpstreamLink::~UpstreamLink() {
    read_.reset();
    write_.reset();
    if (fd_ >= 0) ::close(fd_);
}

namespace {

// Adds or deletes `ev` only when `armed` changes: no epoll_ctl otherwise.
void setArmed(event* ev, bool& armed, bool on) {
    if (on == armed) return;
    armed = on;
    if (on) {
        event_add(ev, nullptr);
    } else {
        event_del(ev);
    }
}

}  // namespace

void UpstreamLink::setReading(bool on) { setArmed(read_.get(), reading_, on); }

void UpstreamLink::armWrite(bool on) { setArmed(write_.get(), write_armed_, on); }

bool UpstreamLink::flush() {
    if (write_error_ != 0) return false;
    if (connecting_) return true;  // onWrite flushes once connected
    while (evbuffer_get_length(output_.get()) > 0) {
        const int n = evbuffer_write(output_.get(), fd_);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            armWrite(true);
            return true;
        }
        write_error_ = n < 0 ? errno : EPIPE;
        evbuffer_drain(output_.get(), evbuffer_get_length(output_.get()));
        armWrite(true);  // reports the failure from the loop
        return false;
    }
    armWrite(false);
    return true;
}

void UpstreamLink::onRead(evutil_socket_t, short, void* self) {
    auto* link = static_cast<UpstreamLink*>(self);
    if (link->handler_ != nullptr) link->handler_->onLinkReadable();
}

void UpstreamLink::onWrite(evutil_socket_t, short, void* self) {
    auto* link = static_cast<UpstreamLink*>(self);
    if (link->connecting_) {
        link->connecting_ = false;
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(link->fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        if (error != 0) link->write_error_ = error;
    }
    if (link->write_error_ != 0) {
        link->armWrite(false);
        if (link->handler_ != nullptr) link->handler_->onLinkWriteFailed(link->write_error_);
        return;
    }
    if (!link->flush()) return;  // the failure is reported on the next turn
    if (link->pending() == 0 && link->handler_ != nullptr) link->handler_->onLinkWritable();
}

}  // namespace pyfpm::http
