#include "manager/emergency.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <csignal>

namespace pyfpm::manager {

bool isEmergencyCrash(int waitStatus)
{
    return WIFSIGNALED(waitStatus) && (WTERMSIG(waitStatus) == SIGSEGV || WTERMSIG(waitStatus) == SIGBUS);
}

EmergencyRestart::EmergencyRestart(int threshold, std::chrono::milliseconds interval)
    : threshold_(threshold), interval_(interval)
{
}

void EmergencyRestart::forgetBefore(Clock::time_point now)
{
    while (!crashes_.empty() && now - crashes_.front() > interval_) {
        crashes_.pop_front();
    }
}

bool EmergencyRestart::record(Clock::time_point now)
{
    if (threshold_ <= 0) {
        return false;
    }
    forgetBefore(now);
    crashes_.push_back(now);
    if (static_cast<int>(crashes_.size()) < threshold_) {
        return false;
    }
    // The restart answers these crashes; the next restart needs a fresh
    // threshold's worth.
    crashes_.clear();
    return true;
}

int EmergencyRestart::recent(Clock::time_point now) const
{
    return static_cast<int>(std::count_if(crashes_.begin(), crashes_.end(),
                                          [&](Clock::time_point at) { return now - at <= interval_; }));
}

}  // namespace pyfpm::manager
