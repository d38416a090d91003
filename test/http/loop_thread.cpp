#include "test/http/loop_thread.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

namespace pyfpm::http::test {

LoopThread::LoopThread() {
    base_ = event_base_new();
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (base_ == nullptr || wake_fd_ < 0) throw std::runtime_error("event loop set-up failed");
    wake_event_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &LoopThread::onWake, this);
    event_add(wake_event_, nullptr);
    thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
}

LoopThread::~LoopThread() {
    run([this] { event_base_loopbreak(base_); });
    thread_.join();
    event_free(wake_event_);
    event_base_free(base_);
    ::close(wake_fd_);
}

void LoopThread::run(std::function<void()> task) {
    std::packaged_task<void()> packaged(std::move(task));
    std::future<void> done = packaged.get_future();
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        tasks_.push_back(std::move(packaged));
    }
    const std::uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
        throw std::runtime_error("eventfd write failed");
    }
    done.get();  // rethrows what the task threw
}

void LoopThread::onWake(evutil_socket_t fd, short, void* self) {
    auto* loop = static_cast<LoopThread*>(self);
    std::uint64_t count = 0;
    if (::read(fd, &count, sizeof(count)) < 0) return;
    std::vector<std::packaged_task<void()>> tasks;
    {
        const std::lock_guard<std::mutex> lock(loop->mutex_);
        tasks.swap(loop->tasks_);
    }
    for (auto& task : tasks) task();
}

}  // namespace pyfpm::http::test
