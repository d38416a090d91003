// A small blocking FastCGI responder for the bridge tests, built on fcgi/:
// one thread per connection, behaviour chosen by PATH_INFO. It plays the
// well-behaved application and the broken ones (closing early, sending
// garbage, never answering) that the bridge must map to 502/504.
//
//   /params (and anything else)  200, text/plain, one "NAME=VALUE" line per param
//   /body                        200, the request body echoed with Content-Length
//   /hello                       200, "hello\n" with Content-Length
//   /inject                      a header value with a bare CR (the bridge must 502)
//   /status/404  /error          404, 500 from a Status: header
//   /redirect                    Location: without Status: (the bridge sends 302)
//   /cookies                     two Set-Cookie headers
//   /hop                         hop-by-hop headers the bridge must strip
//   /big?bytes=N[&length=1]      N pattern bytes (default 10 MiB) in 32 KiB records
//   /stderr                      two FCGI_STDERR lines split across records, then 200
//   /close-before-head           closes without answering
//   /close-early                 head and part of a body, then closes
//   /garbage                     bytes that are not FastCGI, then closes
//   /silent                      never answers; waits for the bridge to close
//   /hold                        answers once releaseHeld() is called
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace pyfpm::http::test {

// The byte at `offset` of a /big body.
inline char bigByte(std::uint64_t offset) {
    return static_cast<char>('a' + (offset * 7 + offset / 4096) % 26);
}

class TestResponder {
public:
    explicit TestResponder(std::filesystem::path socketPath);
    ~TestResponder();
    TestResponder(const TestResponder&) = delete;
    TestResponder& operator=(const TestResponder&) = delete;

    const std::filesystem::path& socketPath() const { return socket_path_; }

    int accepted() const { return accepted_.load(); }
    // Connections that the bridge closed while the responder still waited
    // (/silent, /hold): how the tests see "closed the FastCGI connection".
    int peerClosed() const { return peer_closed_.load(); }
    // Responses written completely, FCGI_END_REQUEST included.
    int completed() const { return completed_.load(); }
    // FCGI_STDOUT body bytes of /big written so far.
    std::uint64_t bigBytesSent() const { return big_bytes_sent_.load(); }
    int holding() const { return holding_.load(); }
    void releaseHeld();

private:
    void acceptLoop();
    void serve(int fd);
    bool waitReadable(int fd);
    void waitForPeerClose(int fd);

    std::filesystem::path socket_path_;
    int listen_fd_ = -1;
    int stop_read_ = -1;
    int stop_write_ = -1;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::atomic<int> peer_closed_{0};
    std::atomic<int> completed_{0};
    std::atomic<int> holding_{0};
    std::atomic<std::uint64_t> big_bytes_sent_{0};
    std::mutex mutex_;
    std::condition_variable held_;
    bool released_ = false;
    std::set<int> open_fds_;
    std::vector<std::thread> threads_;
    std::thread acceptor_;
};

}  // namespace pyfpm::http::test
