#include "test/http/fcgi_responder.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <stdexcept>
#include <string_view>

#include "fcgi/name_value.hpp"
#include "fcgi/parser.hpp"
#include "fcgi/record.hpp"
#include "test/support/process.hpp"

namespace pyfpm::http::test {

namespace {

using fcgi::RecordType;

bool sendAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string queryValue(const std::string& query, const std::string& key) {
    std::size_t start = 0;
    while (start <= query.size()) {
        const std::size_t end = std::min(query.find('&', start), query.size());
        const std::string_view pair(query.data() + start, end - start);
        if (pair.substr(0, key.size() + 1) == key + "=") {
            return std::string(pair.substr(key.size() + 1));
        }
        start = end + 1;
    }
    return {};
}

}  // namespace

TestResponder::TestResponder(std::filesystem::path socketPath)
    : socket_path_(std::move(socketPath)) {
    listen_fd_ = pyfpm::test::listenUnix(socket_path_).release();
    int pipeFds[2];
    if (listen_fd_ < 0 || ::pipe2(pipeFds, O_CLOEXEC) != 0) {
        throw std::runtime_error("responder set-up failed");
    }
    stop_read_ = pipeFds[0];
    stop_write_ = pipeFds[1];
    acceptor_ = std::thread([this] { acceptLoop(); });
}

TestResponder::~TestResponder() {
    stopping_ = true;
    ::close(stop_write_);  // every poll() on stop_read_ wakes with POLLHUP
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // unblocks send()
    }
    held_.notify_all();
    acceptor_.join();
    for (std::thread& thread : threads_) thread.join();
    ::close(stop_read_);
    ::close(listen_fd_);
    std::error_code ec;
    std::filesystem::remove(socket_path_, ec);
}

void TestResponder::releaseHeld() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        released_ = true;
    }
    held_.notify_all();
}

bool TestResponder::waitReadable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_read_, POLLIN, 0}};
    while (::poll(fds, 2, -1) < 0) {
        if (errno != EINTR) return false;
    }
    return fds[1].revents == 0;
}

void TestResponder::acceptLoop() {
    while (waitReadable(listen_fd_)) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++accepted_;
        const std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) {
            ::close(fd);
            break;
        }
        open_fds_.insert(fd);
        threads_.emplace_back([this, fd] {
            serve(fd);
            const std::lock_guard<std::mutex> guard(mutex_);
            open_fds_.erase(fd);
            ::close(fd);
        });
    }
}

void TestResponder::waitForPeerClose(int fd) {
    char byte = 0;
    while (waitReadable(fd)) {
        const ssize_t n = ::recv(fd, &byte, 1, 0);
        if (n == 0 || (n < 0 && errno != EINTR)) {
            ++peer_closed_;
            return;
        }
    }
}

void TestResponder::serve(int fd) {
    fcgi::RecordParser parser;
    std::string paramsStream;
    std::string body;
    std::uint16_t id = 1;
    bool paramsDone = false;
    bool stdinDone = false;
    std::string buffer(64 * 1024, '\0');
    while (!(paramsDone && stdinDone)) {
        if (!waitReadable(fd)) return;
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0) return;
        parser.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        while (true) {
            const fcgi::RecordParser::Result result = parser.next();
            if (result.status == fcgi::RecordParser::Status::NeedMore) break;
            if (result.status == fcgi::RecordParser::Status::Error) return;
            const fcgi::Record& record = result.record;
            switch (record.header.type) {
            case RecordType::BeginRequest: id = record.header.requestId; break;
            case RecordType::Params:
                if (record.content.empty()) paramsDone = true;
                paramsStream.append(record.content);
                break;
            case RecordType::Stdin:
                if (record.content.empty()) stdinDone = true;
                body.append(record.content);
                break;
            default: break;
            }
        }
    }

    fcgi::NameValuePairs params;
    fcgi::decodeNameValues(paramsStream, params);
    std::map<std::string, std::string> env(params.begin(), params.end());
    const std::string path = env["PATH_INFO"];
    const std::string query = env["QUERY_STRING"];

    std::string out;
    const auto stdoutData = [&](std::string_view data) {
        fcgi::appendStream(out, RecordType::Stdout, id, data);
    };
    const auto finish = [&]() {
        fcgi::appendStreamEnd(out, RecordType::Stdout, id);
        fcgi::appendEndRequest(out, id, 0, fcgi::ProtocolStatus::RequestComplete);
        if (sendAll(fd, out)) ++completed_;
    };

    if (path == "/close-before-head") return;
    if (path == "/garbage") {
        sendAll(fd, "this is not FastCGI at all\r\n\r\n");
        return;
    }
    if (path == "/silent") {
        waitForPeerClose(fd);
        return;
    }
    if (path == "/close-early") {
        stdoutData("Content-Type: text/plain\r\n\r\n");
        stdoutData(std::string(1000, 'x'));
        sendAll(fd, out);
        return;
    }
    if (path == "/hold") {
        ++holding_;
        std::unique_lock<std::mutex> lock(mutex_);
        held_.wait(lock, [this] { return released_ || stopping_.load(); });
        lock.unlock();
        --holding_;
        stdoutData("Content-Type: text/plain\r\n\r\nheld\n");
        finish();
        return;
    }
    if (path == "/big") {
        const std::string bytesText = queryValue(query, "bytes");
        const std::uint64_t total = bytesText.empty() ? 10u << 20 : std::stoull(bytesText);
        std::string head = "Content-Type: application/octet-stream\r\n";
        if (queryValue(query, "length") == "1") {
            head += "Content-Length: " + std::to_string(total) + "\r\n";
        }
        stdoutData(head + "\r\n");
        if (!sendAll(fd, out)) return;
        std::string chunk;
        for (std::uint64_t offset = 0; offset < total;) {
            const std::uint64_t size = std::min<std::uint64_t>(32 * 1024, total - offset);
            chunk.resize(size);
            for (std::uint64_t i = 0; i < size; ++i) chunk[i] = bigByte(offset + i);
            out.clear();
            stdoutData(chunk);
            if (!sendAll(fd, out)) return;
            offset += size;
            big_bytes_sent_ += size;
        }
        out.clear();
        finish();
        return;
    }
    if (path == "/stderr") {
        fcgi::appendStream(out, RecordType::Stderr, id, "first line\nsecond ");
        fcgi::appendStream(out, RecordType::Stderr, id, "line\n");
        fcgi::appendStreamEnd(out, RecordType::Stderr, id);
        stdoutData("Content-Type: text/plain\r\n\r\nok\n");
        finish();
        return;
    }
    if (path == "/body") {
        stdoutData("Content-Type: application/octet-stream\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n");
        stdoutData(body);
        finish();
        return;
    }
    if (path == "/hello") {
        stdoutData("Content-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n");
        finish();
        return;
    }
    if (path == "/inject") {
        // A header value with a bare CR: header injection if passed on.
        stdoutData("Content-Type: text/plain\r\nX-Note: a\rSet-Cookie: stolen=1\r\n\r\nbody\n");
        finish();
        return;
    }
    if (path == "/status/404") {
        stdoutData("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such thing\n");
        finish();
        return;
    }
    if (path == "/error") {
        stdoutData("Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nboom\n");
        finish();
        return;
    }
    if (path == "/redirect") {
        stdoutData("Location: /elsewhere\r\n\r\n");
        finish();
        return;
    }
    if (path == "/cookies") {
        stdoutData(
            "Content-Type: text/plain\r\nSet-Cookie: a=1; Path=/\r\n"
            "Set-Cookie: b=2; Path=/\r\n\r\ncookies\n");
        finish();
        return;
    }
    if (path == "/hop") {
        stdoutData(
            "Content-Type: text/plain\r\nConnection: close\r\nKeep-Alive: timeout=5\r\n"
            "Transfer-Encoding: chunked\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\nhop\n");
        finish();
        return;
    }

    std::string text;
    for (const auto& [name, value] : params) text += name + "=" + value + "\n";
    stdoutData("Content-Type: text/plain\r\n\r\n");
    stdoutData(text);
    finish();
}

}  // namespace pyfpm::http::test
