// libevent takes timeouts as struct timeval.
#pragma once

#include <sys/time.h>

#include <chrono>

namespace pyfpm::manager {

inline timeval toTimeval(std::chrono::milliseconds delay)
{
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(delay.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((delay.count() % 1000) * 1000);
    return tv;
}

}  // namespace pyfpm::manager
