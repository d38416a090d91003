// A libevent loop on a background thread, for in-process bridge tests. All
// libevent calls (creating the Server, stopping it) go through run(), so the
// loop's objects are only ever touched by the loop's own thread, as the
// daemon does.
#pragma once

#include <event2/event.h>

#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace pyfpm::http::test {

class LoopThread {
public:
    LoopThread();   // creates the base and starts the thread
    ~LoopThread();  // stops the loop, joins, frees the base
    LoopThread(const LoopThread&) = delete;
    LoopThread& operator=(const LoopThread&) = delete;

    event_base* base() const { return base_; }

    // Runs `task` on the loop thread and waits for it to return.
    void run(std::function<void()> task);

private:
    static void onWake(evutil_socket_t fd, short, void* self);

    event_base* base_ = nullptr;
    event* wake_event_ = nullptr;
    int wake_fd_ = -1;  // eventfd
    std::mutex mutex_;
    std::vector<std::packaged_task<void()>> tasks_;
    std::thread thread_;
};

}  // namespace pyfpm::http::test
