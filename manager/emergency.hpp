// php-fpm's emergency_restart_threshold / emergency_restart_interval: when
// that many workers of one pool die of SIGSEGV or SIGBUS within the
// interval, something shared is likely corrupt (a native extension's cache,
// a mapped file), and the pool is restarted from scratch. Pure: time is
// passed in, so the counter is unit-tested without processes or clocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

namespace pyfpm::manager {

// True for a waitpid(2) status of a process killed by SIGSEGV or SIGBUS:
// the crashes php-fpm counts towards an emergency restart.
bool isEmergencyCrash(int waitStatus);

// One pool's crash counter. Not thread-safe; the pool's loop thread only.
class EmergencyRestart {
public:
    using Clock = std::chrono::steady_clock;

    // `threshold` 0 (or less) turns the counter off: record() never fires.
    EmergencyRestart(int threshold, std::chrono::milliseconds interval);

    // A worker crashed at `now`. True when this crash makes `threshold`
    // crashes within `interval` (counting both ends): the caller restarts
    // the pool, and counting starts over.
    bool record(Clock::time_point now);

    // Crashes still inside the interval that ends at `now`.
    int recent(Clock::time_point now) const;

    int threshold() const { return threshold_; }
    std::chrono::milliseconds interval() const { return interval_; }

private:
    void forgetBefore(Clock::time_point now);

    int threshold_;
    std::chrono::milliseconds interval_;
    // Crash times, oldest first; at most threshold_ of them, since a full
    // set fires and is cleared.
    std::deque<Clock::time_point> crashes_;
};

}  // namespace pyfpm::manager
