// The service manager's view of the daemon: sd_notify(3) messages for a
// systemd unit of Type=notify (etc/systemd/pyfpm.service). READY=1 once the
// pools and the HTTP listener are up, RELOADING=1 while a SIGHUP reload is
// applied and READY=1 after it (whether it applied or not), STOPPING=1 when a
// stop begins, and a STATUS= line every few seconds with the workers' state
// and the request rate, which `systemctl status pyfpm` shows.
//
// Without NOTIFY_SOCKET in the environment (not started by systemd) every
// call is a no-op and no timer runs. Nothing here fails the daemon: a lost
// datagram is logged at debug level and forgotten.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

struct event;
struct event_base;

namespace pyfpm::manager {
class Supervisor;
}

namespace pyfpm::daemon {

// The workers of every serving pool, added up, at one instant.
struct WorkerTotals {
    int pools = 0;
    int active = 0;  // busy with a request (php-fpm's "active processes")
    int idle = 0;    // ready and waiting for one
    // Requests finished since the pools started (PoolStatus::acceptedConnections).
    std::uint64_t accepted = 0;
    std::chrono::steady_clock::time_point at;
};

// The serving pools' totals now; all zero (with `at` set) without a
// supervisor, before the pools start.
WorkerTotals workerTotals(const manager::Supervisor* supervisor);

// The STATUS= text for `now`; the request rate is the accepted requests
// between `before` and `now` per second, and is left out without `before`.
// A counter that went down (a reload replaced a pool, whose counters start
// at zero) counts the new value as the requests since then. Example:
// "2 pools: 3 active, 5 idle workers; 41.5 req/s".
std::string statusLine(const WorkerTotals& now, const std::optional<WorkerTotals>& before);

// Runs on the daemon's event loop: construct, call and destroy it on the
// loop's thread; `base` must outlive it. `sample` is called on the loop to
// take the totals for each STATUS= line.
class Notifier {
public:
    using Sample = std::function<WorkerTotals()>;

    // How often STATUS= is refreshed while running.
    static constexpr std::chrono::milliseconds kStatusInterval{2000};

    Notifier(event_base* base, Sample sample,
             std::chrono::milliseconds statusInterval = kStatusInterval);
    ~Notifier();
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    // True when NOTIFY_SOCKET was set at construction.
    bool enabled() const { return enabled_; }

    // READY=1 with a first STATUS=; starts the periodic STATUS= lines.
    void ready();
    // RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, µs), as
    // sd_notify(3) asks of a service that reloads.
    void reloading();
    // READY=1 after reloading(), with `outcome` as the STATUS= line until
    // the next periodic one (e.g. "reload failed: ...").
    void reloaded(const std::string& outcome);
    // STOPPING=1; no more STATUS= lines after this.
    void stopping();

private:
    static void onTick(int, short, void* self);
    void send(const std::string& message) const;
    std::string currentStatus();

    Sample sample_;
    std::chrono::milliseconds interval_;
    bool enabled_;
    bool stopping_ = false;
    std::optional<WorkerTotals> previous_;
    std::unique_ptr<event, void (*)(event*)> timer_;
};

}  // namespace pyfpm::daemon
