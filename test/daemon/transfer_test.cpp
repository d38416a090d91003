// Streaming with bounded memory: a 1 GiB upload and a 1 GiB download through
// pyfpm's own listener to a real worker, byte-exact (CRC-32 on both sides),
// with the daemon's resident memory sampled from /proc during the transfer.
// The daemon holds at most a few hundred KiB per direction (watermarks), so
// its RSS stays far below the 64 MiB bound whatever the transfer's size.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <zlib.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "test/daemon/helpers.hpp"

namespace pyfpm::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kTransferMiB = 1024;  // 1 GiB
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps freed memory in quarantine (256 MiB) and adds
// shadow memory: only a whole transfer held in memory still shows.
constexpr std::uint64_t kRssBoundKiB = 1024 * 1024;
#else
constexpr std::uint64_t kRssBoundKiB = 64 * 1024;
#endif

const char* const kTransferConfig = R"(
http:
  listen: 127.0.0.1:{{port}}
  max_body_size: 2GiB
  status_path: /status
  routes:
    - {prefix: /, pool: big}
pools:
  big:
    app: transfer_app:application
    python_path: ["{{source}}/test/daemon/apps"]
    listen: big.sock
    pm: static
    max_children: 1
    request_timeout: 300s
)";

// The 1 MiB block transfer_app.py repeats.
const std::string& patternBlock() {
    static const std::string block = [] {
        std::string out(kMiB, '\0');
        for (std::uint64_t i = 0; i < kMiB; ++i) out[i] = static_cast<char>(((i * 131) + (i >> 8)) & 0xff);
        return out;
    }();
    return block;
}

std::uint64_t rssKiB(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return 0;
}

// Samples a process's VmRSS every 20 ms until stopped; keeps the peak.
class RssSampler {
public:
    explicit RssSampler(pid_t pid) : thread_([this, pid] {
        while (!stop_.load()) {
            peak_.store(std::max(peak_.load(), rssKiB(pid)));
            samples_.fetch_add(1);
            std::this_thread::sleep_for(20ms);  // a sampling period, not a synchronisation
        }
    }) {}
    ~RssSampler() { stop(); }
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
    }
    std::uint64_t peakKiB() const { return peak_.load(); }
    int samples() const { return samples_.load(); }

private:
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> peak_{0};
    std::atomic<int> samples_{0};
    std::thread thread_;
};

bool sendAll(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Reads a response head; returns it and leaves the body on the socket
// (`rest` gets body bytes read along with the head).
std::string readHead(int fd, std::string& rest) {
    std::string data;
    char buffer[65536];
    while (data.find("\r\n\r\n") == std::string::npos) {
        pollfd poll{fd, POLLIN, 0};
        if (::poll(&poll, 1, 120'000) != 1) return {};
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) return {};
        data.append(buffer, static_cast<std::size_t>(n));
    }
    const std::size_t end = data.find("\r\n\r\n") + 4;
    rest = data.substr(end);
    return data.substr(0, end);
}

class Transfer : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = new Daemon(kTransferConfig);
        daemon_->start();
        ASSERT_TRUE(daemon_->waitForLog("ready"));
    }
    static void TearDownTestSuite() {
        delete daemon_;
        daemon_ = nullptr;
    }
    static Daemon* daemon_;
};

Daemon* Transfer::daemon_ = nullptr;

TEST_F(Transfer, one_gibibyte_upload_streams_with_bounded_daemon_memory) {
    const std::uint64_t before = rssKiB(daemon_->pid());
    Fd fd = connectTcp("127.0.0.1", daemon_->port());
    ASSERT_TRUE(fd);
    RssSampler sampler(daemon_->pid());
    const auto started = std::chrono::steady_clock::now();
    const std::string head = "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                             "application/octet-stream\r\nConnection: close\r\nContent-Length: " +
                             std::to_string(kTransferMiB * kMiB) + "\r\n\r\n";
    ASSERT_TRUE(sendAll(fd.get(), head.data(), head.size()));
    uLong crc = crc32(0L, Z_NULL, 0);
    const std::string& block = patternBlock();
    for (std::uint64_t i = 0; i < kTransferMiB; ++i) {
        ASSERT_TRUE(sendAll(fd.get(), block.data(), block.size())) << "after " << i << " MiB";
        crc = crc32(crc, reinterpret_cast<const Bytef*>(block.data()), static_cast<uInt>(block.size()));
    }
    std::string body;
    const std::string response = readHead(fd.get(), body);
    char buffer[256];
    ssize_t n = 0;
    while ((n = ::recv(fd.get(), buffer, sizeof(buffer), 0)) > 0) body.append(buffer, static_cast<std::size_t>(n));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    sampler.stop();

    ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
    EXPECT_EQ(body, std::to_string(kTransferMiB * kMiB) + " " + std::to_string(crc) + "\n");
    EXPECT_GT(sampler.samples(), 5);
    EXPECT_LT(sampler.peakKiB(), kRssBoundKiB);
    std::printf("upload: %llu MiB in %.2f s (%.0f MiB/s); daemon VmRSS %llu kB before, peak %llu kB\n",
                static_cast<unsigned long long>(kTransferMiB), seconds, kTransferMiB / seconds,
                static_cast<unsigned long long>(before), static_cast<unsigned long long>(sampler.peakKiB()));
}

TEST_F(Transfer, one_gibibyte_download_streams_with_bounded_daemon_memory) {
    const std::uint64_t before = rssKiB(daemon_->pid());
    Fd fd = connectTcp("127.0.0.1", daemon_->port());
    ASSERT_TRUE(fd);
    RssSampler sampler(daemon_->pid());
    const auto started = std::chrono::steady_clock::now();
    const std::string request = "GET /download?mib=" + std::to_string(kTransferMiB) +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ASSERT_TRUE(sendAll(fd.get(), request.data(), request.size()));
    std::string first;
    const std::string head = readHead(fd.get(), first);
    ASSERT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
    EXPECT_NE(head.find("Content-Length: " + std::to_string(kTransferMiB * kMiB)), std::string::npos);

    uLong crc = crc32(0L, Z_NULL, 0);
    std::uint64_t received = first.size();
    crc = crc32(crc, reinterpret_cast<const Bytef*>(first.data()), static_cast<uInt>(first.size()));
    std::string buffer(1 << 18, '\0');
    while (true) {
        const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (n <= 0) break;
        crc = crc32(crc, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(n));
        received += static_cast<std::uint64_t>(n);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    sampler.stop();

    uLong expected = crc32(0L, Z_NULL, 0);
    for (std::uint64_t i = 0; i < kTransferMiB; ++i) {
        expected = crc32(expected, reinterpret_cast<const Bytef*>(patternBlock().data()), static_cast<uInt>(kMiB));
    }
    EXPECT_EQ(received, kTransferMiB * kMiB);
    EXPECT_EQ(crc, expected);
    EXPECT_LT(sampler.peakKiB(), kRssBoundKiB);
    std::printf("download: %llu MiB in %.2f s (%.0f MiB/s); daemon VmRSS %llu kB before, peak %llu kB\n",
                static_cast<unsigned long long>(kTransferMiB), seconds, kTransferMiB / seconds,
                static_cast<unsigned long long>(before), static_cast<unsigned long long>(sampler.peakKiB()));
}

TEST_F(Transfer, a_client_that_reads_slowly_holds_the_worker_not_memory) {
    // 64 MiB to a client that reads 256 KiB every 10 ms for a while: the
    // daemon stops reading from the worker instead of buffering.
    Fd fd = connectTcp("127.0.0.1", daemon_->port());
    ASSERT_TRUE(fd);
    const int small = 64 * 1024;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    const std::string request = "GET /slow?mib=64 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ASSERT_TRUE(sendAll(fd.get(), request.data(), request.size()));
    std::string first;
    ASSERT_EQ(readHead(fd.get(), first).rfind("HTTP/1.1 200", 0), 0u);
    std::uint64_t received = first.size();
    std::uint64_t peak = 0;
    std::string buffer(256 * 1024, '\0');
    for (int i = 0; i < 40; ++i) {
        std::this_thread::sleep_for(10ms);  // the slow reader, by design
        const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n > 0) received += static_cast<std::uint64_t>(n);
        peak = std::max(peak, rssKiB(daemon_->pid()));
    }
    EXPECT_LT(received, 48 * kMiB) << "the client really was slow";
    EXPECT_LT(peak, kRssBoundKiB);
    while (true) {
        const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (n <= 0) break;
        received += static_cast<std::uint64_t>(n);
    }
    EXPECT_EQ(received, 64 * kMiB);
}

TEST_F(Transfer, a_client_gone_mid_request_is_499_and_the_worker_goes_back_to_idle) {
    const auto pool = [] {
        const HttpResponse status = httpRequest("GET", daemon_->url("/status?json"));
        return nlohmann::json::parse(status.body)["pools"][0];
    };
    Fd fd = connectTcp("127.0.0.1", daemon_->port());
    ASSERT_TRUE(fd);
    const std::string request = "GET /sleep?ms=1500 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_TRUE(sendAll(fd.get(), request.data(), request.size()));
    ASSERT_TRUE(waitUntil([&] { return pool()["active processes"] == 1; }, 10s))
        << "the only worker took the request";
    fd.reset();  // the client gives up
    EXPECT_TRUE(daemon_->waitForLog("GET /sleep\\?ms=1500: 499: the client closed the connection", 10s))
        << daemon_->log();
    EXPECT_TRUE(waitUntil([&] { return pool()["idle processes"] == 1; }, 10s))
        << "the worker finished and went back to idle";
    const HttpResponse next = httpRequest("GET", daemon_->url("/sleep?ms=1"));
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.body, "slept\n");
}

}  // namespace
}  // namespace pyfpm::test
