#include "src/pyfpm/notify.hpp"

#include <event2/event.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "manager/supervisor.hpp"

namespace pyfpm::daemon {

WorkerTotals workerTotals(const manager::Supervisor* supervisor) {
    WorkerTotals totals;
    totals.at = std::chrono::steady_clock::now();
    if (!supervisor) return totals;
    for (const auto& name : supervisor->poolNames()) {
        const manager::PoolStatus status = supervisor->status(name);
        ++totals.pools;
        totals.active += status.busyWorkers;
        totals.idle += status.idleWorkers;
        totals.accepted += status.acceptedConnections;
    }
    return totals;
}

std::string statusLine(const WorkerTotals& now, const std::optional<WorkerTotals>& before) {
    std::string line = fmt::format("{} pool{}: {} active, {} idle workers", now.pools,
                                   now.pools == 1 ? "" : "s", now.active, now.idle);
    if (!before) return line;
    const auto elapsed = std::chrono::duration<double>(now.at - before->at).count();
    if (elapsed <= 0) return line;
    const std::uint64_t requests =
        now.accepted >= before->accepted ? now.accepted - before->accepted : now.accepted;
    return line + fmt::format("; {:.1f} req/s", static_cast<double>(requests) / elapsed);
}

Notifier::Notifier(event_base* base, Sample sample, std::chrono::milliseconds statusInterval)
    : sample_(std::move(sample)),
      interval_(statusInterval),
      // sd_notify(3) reads the variable on every call; reading it once here
      // also decides whether the timer is worth running at all.
      enabled_(std::getenv("NOTIFY_SOCKET") != nullptr),
      timer_(enabled_ && base ? event_new(base, -1, EV_PERSIST, &Notifier::onTick, this) : nullptr, &event_free) {}

Notifier::~Notifier() = default;

void Notifier::ready() {
    if (!enabled_) return;
    previous_.reset();
    send("READY=1\nSTATUS=" + currentStatus());
    if (timer_) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(interval_).count();
        const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
        evtimer_add(timer_.get(), &tv);
    }
}

void Notifier::reloading() {
    if (!enabled_) return;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ULL +
                      static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
    send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=Reloading the configuration", usec));
}

void Notifier::reloaded(const std::string& outcome) {
    if (!enabled_ || stopping_) return;
    send("READY=1\nSTATUS=" + outcome);
}

void Notifier::stopping() {
    if (!enabled_ || stopping_) return;
    stopping_ = true;
    if (timer_) evtimer_del(timer_.get());
    send("STOPPING=1\nSTATUS=Stopping: finishing requests in flight, then the workers");
}

void Notifier::onTick(int, short, void* self) {
    auto* notifier = static_cast<Notifier*>(self);
    if (notifier->stopping_) return;
    notifier->send("STATUS=" + notifier->currentStatus());
}

std::string Notifier::currentStatus() {
    WorkerTotals now = sample_();
    std::string line = statusLine(now, previous_);
    previous_ = now;
    return line;
}

void Notifier::send(const std::string& message) const {
    // unset_environment=0: every later message needs the variable. A pool
    // with clear_env: false passes it on to its workers, which is harmless:
    // the unit's NotifyAccess=main makes systemd ignore any other sender.
    const int rc = sd_notify(0, message.c_str());
    if (rc < 0) spdlog::debug("sd_notify: {}; the service manager misses: {}", std::strerror(-rc), message);
}

}  // namespace pyfpm::daemon
