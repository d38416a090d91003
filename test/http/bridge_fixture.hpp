// The fixture of the in-process bridge tests: a real event loop on a
// thread, a static root in a temp dir, a FastCGI responder thread as the
// pool, libcurl (or a raw socket) as the client. Every server binds
// 127.0.0.1 on an ephemeral port.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "src/pyfpm/http/server.hpp"
#include "src/pyfpm/http/static_files.hpp"
#include "test/http/fcgi_responder.hpp"
#include "test/http/loop_thread.hpp"
#include "test/support/http_client.hpp"
#include "test/support/process.hpp"

namespace pyfpm::http::bridge {


namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pyfpm::test::waitUntil;
using pyfpm::test::HttpClient;
using pyfpm::test::HttpHeaders;
using pyfpm::test::HttpRequest;
using pyfpm::test::HttpResponse;

// Keeps every log line so tests can assert on what operators would read.
class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    bool contains(const std::string& needle) {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (const std::string& line : lines_) {
            if (line.find(needle) != std::string::npos) return true;
        }
        return false;
    }
    void clear() {
        const std::lock_guard<std::mutex> lock(mutex_);
        lines_.clear();
    }

protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(message, formatted);
        lines_.push_back(fmt::to_string(formatted));
    }
    void flush_() override {}

private:
    std::vector<std::string> lines_;
};

inline CaptureSink& logCapture() {
    static const std::shared_ptr<CaptureSink> sink = [] {
        auto capture = std::make_shared<CaptureSink>();
        auto logger = std::make_shared<spdlog::logger>(
            "test", spdlog::sinks_init_list{std::make_shared<spdlog::sinks::stderr_sink_mt>(),
                                            capture});
        spdlog::set_default_logger(logger);
        return capture;
    }();
    return *sink;
}

inline bool logged(const std::string& needle) {
    return waitUntil([&needle] { return logCapture().contains(needle); }, 5s);
}

class FakePools final : public PoolDirectory {
public:
    PoolAvailability availability(const std::string& pool) const override {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (down_.count(pool) == 0) return {};
        return {false, "in backoff after 3 failed starts; next try in 4s"};
    }
    void setDown(const std::string& pool) {
        const std::lock_guard<std::mutex> lock(mutex_);
        down_.insert(pool);
    }

private:
    mutable std::mutex mutex_;
    std::set<std::string> down_;
};

inline std::map<std::string, std::string> parseParams(const std::string& body) {
    std::map<std::string, std::string> params;
    std::size_t start = 0;
    while (start < body.size()) {
        const std::size_t end = std::min(body.find('\n', start), body.size());
        const std::string line = body.substr(start, end - start);
        const std::size_t eq = line.find('=');
        if (eq != std::string::npos) params[line.substr(0, eq)] = line.substr(eq + 1);
        start = end + 1;
    }
    return params;
}

inline std::string bigBody(std::uint64_t size) {
    std::string body(size, '\0');
    for (std::uint64_t i = 0; i < size; ++i) body[i] = test::bigByte(i);
    return body;
}

class Bridge : public ::testing::Test {
protected:
    void SetUp() override {
        ::signal(SIGPIPE, SIG_IGN);  // as the daemon does
        logCapture().clear();

        root_ = dir_ / "static";
        fs::create_directories(root_ / "sub");
        pyfpm::test::writeFile(root_ / "hello.txt", "hello, static\n");
        pyfpm::test::writeFile(root_ / "style.css", "body { color: red }\n");
        pyfpm::test::writeFile(dir_ / "secret.txt", "TOP-SECRET\n");
        fs::create_symlink("../secret.txt", root_ / "escape");
        responder_ = std::make_unique<test::TestResponder>(dir_ / "web.sock");
        {
            // A socket file nobody listens on: connect(2) is refused.
            pyfpm::test::Fd refused = pyfpm::test::listenUnix(dir_ / "refused.sock");
        }

        config_.http.emplace();
        config_.http->listen.push_back({"127.0.0.1", 0});
        addStatic("/static/");
        addPool("/", "web");
        addPool("/app/", "web");
        addPool("/quick/", "quick");
        addPool("/refused/", "refused");
        addPool("/tcp-refused/", "tcp-refused");
        addPool("/down/", "down");
        config_.pools.push_back(unixPool("web", dir_ / "web.sock", 30s));
        config_.pools.push_back(unixPool("quick", dir_ / "web.sock", 300ms));
        config_.pools.push_back(unixPool("refused", dir_ / "refused.sock", 30s));
        config_.pools.push_back(unixPool("down", dir_ / "web.sock", 30s));
        manager::PoolConfig tcp = unixPool("tcp-refused", {}, 30s);
        tcp.listen.kind = manager::ListenAddress::Kind::Tcp;
        tcp.listen.host = "127.0.0.1";
        tcp.listen.port = static_cast<std::uint16_t>(pyfpm::test::ephemeralPort());
        config_.pools.push_back(tcp);
        pools_.setDown("down");

        config_.http->max_body_size = 8 * 1024 * 1024;
        configure(config_);
        loop_ = std::make_unique<test::LoopThread>();
        std::string error;
        bool listening = false;
        loop_->run([&] {
            server_ = std::make_unique<Server>(loop_->base(), config_, pools_, options());
            listening = server_->listen(error);
            if (listening) port_ = server_->listening().at(0).port;
        });
        ASSERT_TRUE(listening) << error;
        ASSERT_NE(port_, 0);
    }

    void TearDown() override {
        if (loop_) loop_->run([this] { server_.reset(); });
        loop_.reset();
        responder_.reset();
    }

    static ServerOptions options() { return ServerOptions{}; }

    // A suite's changes to the configuration, before the server starts.
    virtual void configure(config::Config&) {}

    void addStatic(const std::string& prefix) {
        config::Route route;
        route.prefix = prefix;
        route.kind = config::Route::Kind::Static;
        route.root = root_;
        config_.http->routes.push_back(route);
    }

    void addPool(const std::string& prefix, const std::string& pool) {
        config::Route route;
        route.prefix = prefix;
        route.kind = config::Route::Kind::Pool;
        route.pool = pool;
        config_.http->routes.push_back(route);
    }

    manager::PoolConfig unixPool(const std::string& name, const fs::path& socket,
                                 std::chrono::milliseconds timeout) {
        manager::PoolConfig pool;
        pool.name = name;
        pool.listen.kind = manager::ListenAddress::Kind::Unix;
        pool.listen.path = socket;
        pool.request_timeout = timeout;
        pool.working_dir = dir_.path();
        return pool;
    }

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    HttpResponse request(const std::string& method, const std::string& path,
                         HttpHeaders headers = {}, std::string body = {}) {
        HttpRequest request;
        request.method = method;
        request.url = url(path);
        request.headers = std::move(headers);
        request.body = std::move(body);
        return HttpClient().fetch(request);
    }

    std::size_t inFlight() {
        std::size_t count = 0;
        loop_->run([&] { count = server_->inFlight(); });
        return count;
    }

    pyfpm::test::TempDir dir_;
    fs::path root_;
    config::Config config_;
    FakePools pools_;
    std::unique_ptr<test::TestResponder> responder_;
    std::unique_ptr<test::LoopThread> loop_;
    std::unique_ptr<Server> server_;
    std::uint16_t port_ = 0;
};

}  // namespace pyfpm::http::bridge
