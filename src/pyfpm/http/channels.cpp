#include "src/pyfpm/http/channels.hpp"

#include <event2/buffer.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include <spdlog/spdlog.h>

#include "manager/unique_fd.hpp"

namespace pyfpm::http {

namespace {

// How often users waiting for a worker that serves the pool socket look
// again: short against a request, rare against the loop.
constexpr suseconds_t kRecheckUs = 2000;
// A channel whose request failed is left alone this long (the manager
// reaps a dead worker within milliseconds and says it is leaving).
constexpr std::int64_t kFailedPauseUs = 1'000'000;
// A worker's slot says Idle within microseconds of its FCGI_END_REQUEST;
// until this has passed, the bridge's own view of the channel wins.
constexpr std::int64_t kSlotSettleUs = 5000;

// unix(7), "Abstract sockets": sun_path[0] is NUL, the name follows, and
// the address length counts exactly the bytes of the name.
UpstreamAddress abstractAddress(std::string_view name)
{
    UpstreamAddress out;
    out.display = "unix:@" + std::string(name);
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    const std::size_t length = std::min(name.size(), sizeof(address.sun_path) - 1);
    std::memcpy(address.sun_path + 1, name.data(), length);
    std::memcpy(&out.storage, &address, sizeof(address));
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
    return out;
}

}  // namespace

WorkerChannels::WorkerChannels(event_base* base, std::string pool, std::function<void()> onQueued,
                               std::function<bool(pid_t)> busyElsewhere)
    : base_(base), pool_(std::move(pool)), on_queued_(std::move(onQueued)),
      busy_elsewhere_(std::move(busyElsewhere)),
      dispatch_(event_new(base, -1, 0, &WorkerChannels::onDispatch, this)),
      recheck_(evtimer_new(base, &WorkerChannels::onRecheck, this)) {}

WorkerChannels::~WorkerChannels() = default;

Channel* WorkerChannels::find(pid_t pid)
{
    for (auto& channel : channels_) {
        if (channel->pid == pid && !channel->leaving) return channel.get();
    }
    return nullptr;
}

void WorkerChannels::add(pid_t pid, std::string_view name)
{
    if (Channel* old = find(pid); old != nullptr) remove(pid);
    auto channel = std::make_unique<Channel>();
    channel->pid = pid;
    channel->address = abstractAddress(name);
    channel->owner = this;
    channel->idleSinceUs = nowUs();
    // Least recently used: a new worker is taken when the others are busy.
    channels_.insert(channels_.begin(), std::move(channel));
    if (!waiting_.empty()) scheduleDispatch();
}

void WorkerChannels::remove(pid_t pid)
{
    Channel* channel = find(pid);
    if (channel == nullptr) return;
    channel->leaving = true;
    if (!channel->leased) erase(*channel);
}

void WorkerChannels::erase(Channel& channel)
{
    const auto found = std::find_if(channels_.begin(), channels_.end(),
                                    [&](const auto& owned) { return owned.get() == &channel; });
    if (found != channels_.end()) channels_.erase(found);
    // Users waiting for a pool that has no channel left go to its socket.
    if (!usable() && !waiting_.empty()) scheduleDispatch();
}

bool WorkerChannels::connect(Channel& channel)
{
    manager::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        spdlog::error("[pool {}] worker {}: socket(2) for its channel: {}", pool_, channel.pid,
                      std::strerror(errno));
        return false;
    }
    // A unix stream connect completes at once or fails (EAGAIN: the
    // worker's backlog is full, which a worker that accepts at once never
    // has; ECONNREFUSED: it is gone).
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&channel.address.storage),
                  channel.address.length) != 0) {
        spdlog::warn("[pool {}] worker {}: connect(2) {}: {}; not using its channel", pool_, channel.pid,
                     channel.address.display, std::strerror(errno));
        return false;
    }
    channel.link = std::make_unique<UpstreamLink>(base_, fd.release());
    return true;
}

void WorkerChannels::watchIdle(Channel& channel)
{
    // The read event stays armed from the request before: no system call.
    channel.link->attach(&channel);
    channel.link->setReading(true);
}

Channel* WorkerChannels::lendIdle()
{
    busy_skipped_ = false;
    const auto free = [&](const Channel& channel) {
        if (channel.leased || channel.leaving) return false;
        if (channel.failedAtUs != 0 && nowUs() - channel.failedAtUs < kFailedPauseUs) return false;
        if (busy_elsewhere_ && nowUs() - channel.idleSinceUs > kSlotSettleUs && busy_elsewhere_(channel.pid)) {
            busy_skipped_ = true;
            return false;
        }
        return true;
    };
    for (;;) {
        Channel* pick = nullptr;
        // Most recently used first, connected before unconnected.
        for (auto it = channels_.rbegin(); it != channels_.rend() && pick == nullptr; ++it) {
            if ((*it)->link && free(**it)) pick = it->get();
        }
        for (auto it = channels_.rbegin(); it != channels_.rend() && pick == nullptr; ++it) {
            if (free(**it)) pick = it->get();
        }
        if (pick == nullptr) return nullptr;
        if (!pick->link && !connect(*pick)) {
            erase(*pick);  // its worker is gone; the manager says so soon
            continue;
        }
        pick->leased = true;
        return pick;
    }
}

WorkerChannels::Grant WorkerChannels::acquire(ChannelUser& user, Channel*& out)
{
    // Arrival order: with users already waiting, an idle channel is theirs
    // (its dispatch is scheduled).
    out = waiting_.empty() ? lendIdle() : nullptr;
    if (out != nullptr) return Grant::Now;
    if (!usable()) return Grant::None;
    waiting_.push_back(&user);
    if (waiting_.size() == 1 && on_queued_) on_queued_();
    if (busy_skipped_) armRecheck();
    return Grant::Queued;
}

void WorkerChannels::cancel(ChannelUser& user)
{
    const auto found = std::find(waiting_.begin(), waiting_.end(), &user);
    if (found != waiting_.end()) waiting_.erase(found);
}

std::int64_t WorkerChannels::nowUs() const
{
    timeval now{};
    event_base_gettimeofday_cached(base_, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1'000'000 + now.tv_usec;
}

bool WorkerChannels::usable() const
{
    const std::int64_t now = nowUs();
    return std::any_of(channels_.begin(), channels_.end(), [&](const auto& channel) {
        return !channel->leaving && (channel->failedAtUs == 0 || now - channel->failedAtUs >= kFailedPauseUs);
    });
}

void WorkerChannels::release(Channel& channel, bool reusable, bool failed)
{
    channel.leased = false;
    channel.idleSinceUs = nowUs();
    if (failed) channel.failedAtUs = channel.idleSinceUs;
    if (channel.leaving) {
        erase(channel);
        return;
    }
    if (!reusable) {
        channel.link.reset();
    } else if (channel.link) {
        watchIdle(channel);
    }
    // Most recently used last.
    const auto found = std::find_if(channels_.begin(), channels_.end(),
                                    [&](const auto& owned) { return owned.get() == &channel; });
    if (found != channels_.end() && found + 1 != channels_.end()) {
        std::rotate(found, found + 1, channels_.end());
    }
    if (!waiting_.empty()) scheduleDispatch();
}

void WorkerChannels::scheduleDispatch() { event_active(dispatch_.get(), EV_TIMEOUT, 0); }

void WorkerChannels::dispatch()
{
    while (!waiting_.empty()) {
        Channel* channel = usable() ? lendIdle() : nullptr;
        if (channel == nullptr && usable()) {
            if (busy_skipped_) armRecheck();
            return;  // all busy
        }
        ChannelUser* user = waiting_.front();
        waiting_.pop_front();
        user->onChannel(channel);
    }
}

void WorkerChannels::onDispatch(evutil_socket_t, short, void* self)
{
    static_cast<WorkerChannels*>(self)->dispatch();
}

void WorkerChannels::armRecheck()
{
    if (evtimer_pending(recheck_.get(), nullptr) != 0) return;
    const timeval after{0, kRecheckUs};
    evtimer_add(recheck_.get(), &after);
}

void WorkerChannels::onRecheck(evutil_socket_t, short, void* self)
{
    static_cast<WorkerChannels*>(self)->dispatch();
}

void Channel::onLinkReadable()
{
    char byte = 0;
    const ssize_t n = ::recv(link->fd(), &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n > 0) {
        // Between requests a worker has nothing to say; bytes now mean the
        // stream is out of step, and the next request must not read them.
        spdlog::warn("[pool {}] worker {}: bytes on its idle channel; closing it", owner->pool(), pid);
    }
    // EOF: it exits, or it replaced the connection. The next request
    // connects again, or finds the worker gone.
    link.reset();
}

}  // namespace pyfpm::http
