// The bridge's channel, as the daemon uses it (manager/worker_contract.hpp,
// "The bridge's channel"): the worker names a private abstract socket in its
// ready line, serves its parent's one kept connection there request after
// request (FCGI_KEEP_CONN, FastCGI 1.0 §3.5) next to the pool socket,
// refuses everyone else, and on SIGTERM serves the channel until the parent
// closes it. The test process is the worker's parent, as the daemon is.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "fcgi/client.hpp"
#include "manager/worker_contract.hpp"
#include "test/support/fcgi_client.hpp"
#include "test/support/process.hpp"
#include "test/worker/raw_fcgi.hpp"
#include "test/worker/worker_process.hpp"

namespace pyfpm::test {
namespace {

namespace contract = manager::contract;
using Clock = std::chrono::steady_clock;

WorkerProcess probeWorker()
{
    return WorkerProcess("probe:app", {WorkerProcess::testApps().string()});
}

sockaddr_un abstractAddress(const std::string& name, socklen_t& length)
{
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, name.data(), name.size());  // sun_path[0] stays NUL
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return address;
}

// Connects to the worker's channel; an invalid Fd when that fails.
Fd connectChannel(const std::string& name)
{
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t length = 0;
    const sockaddr_un address = abstractAddress(name, length);
    if (!fd || name.empty() || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
        return Fd();
    }
    return fd;
}

// One request with FCGI_KEEP_CONN on the kept connection `fd`; the body of
// the response. Throws (see finishOn) when no complete response comes.
std::string ask(int fd, const std::string& method, const std::string& uri, const std::string& body = {},
                std::uint16_t requestId = 1)
{
    fcgi::ClientRequest request(requestId, fcgi::kKeepConn);
    sendAll(fd, encodeRequest(request, cgiParams(method, uri, body.size()), body));
    return finishOn(fd, request);
}

// True when the peer closed `fd` (read(2) returns 0, or a reset) within
// `timeout`; false when data came or it stayed open.
bool closedByPeer(int fd, std::chrono::milliseconds timeout = 5s)
{
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) {
        return false;
    }
    char byte = 0;
    return ::read(fd, &byte, 1) <= 0;
}

// The abstract unix sockets ("@name" in /proc/net/unix) among the
// descriptors of process `pid`.
std::set<std::string> abstractSocketsOf(pid_t pid)
{
    std::set<std::string> inodes;
    const std::filesystem::path fds = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
    for (const auto& entry : std::filesystem::directory_iterator(fds)) {
        std::error_code error;
        const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
        if (!error && target.rfind("socket:[", 0) == 0) {
            inodes.insert(target.substr(8, target.size() - 9));
        }
    }
    std::set<std::string> names;
    std::ifstream table("/proc/net/unix");
    std::string line;
    std::getline(table, line);  // the header
    while (std::getline(table, line)) {
        // Num RefCount Protocol Flags Type St Inode [Path]
        std::istringstream fields(line);
        std::string skip, inode, path;
        fields >> skip >> skip >> skip >> skip >> skip >> skip >> inode >> path;
        if (inodes.count(inode) != 0 && path.rfind('@', 0) == 0) {
            names.insert(path.substr(1));
        }
    }
    return names;
}

// How long `child` took to exit, or nullopt if it did not within `timeout`.
std::optional<std::chrono::milliseconds> timeToExit(Child& child, std::chrono::milliseconds timeout = 5s)
{
    const auto start = Clock::now();
    const auto status = child.wait(timeout);
    if (!status) {
        return std::nullopt;
    }
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// A probe worker, ready, for each test; connect() opens its channel.
class WorkerChannel : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(worker.waitReady()) << worker.readyLine() << worker.stderrLog(); }

    Fd connect()
    {
        Fd channel = connectChannel(worker.channel());
        EXPECT_TRUE(channel) << std::strerror(errno);
        return channel;
    }

    // After SIGTERM, once the channel is closed: a clean exit well within
    // the linger, having served `requests` requests.
    void expectPromptExit(int requests)
    {
        const auto exited = timeToExit(worker.process());
        ASSERT_TRUE(exited) << worker.stderrLog();
        EXPECT_LT(exited->count(), contract::kChannelLingerMs / 2) << worker.stderrLog();
        if (requests >= 0) {
            const std::string line = "exiting after " + std::to_string(requests) + " requests (stop signal)";
            EXPECT_NE(worker.stderrLog().find(line), std::string::npos)
                << worker.stderrLog();
        }
    }

    WorkerProcess worker = probeWorker();
};

TEST_F(WorkerChannel, ready_line_names_an_abstract_socket_that_the_worker_holds)
{
    EXPECT_TRUE(std::regex_match(worker.readyLine(), std::regex("ready @[0-9a-f]{5}\n"))) << worker.readyLine();
    EXPECT_EQ(abstractSocketsOf(worker.process().pid()), std::set<std::string>{worker.channel()});
}

TEST_F(WorkerChannel, kept_connection_serves_request_after_request_next_to_the_pool_socket)
{
    Fd channel = connect();
    ASSERT_TRUE(channel);

    EXPECT_EQ(ask(channel.get(), "GET", "/scheme"), "http");
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/scheme")).body, "http");
    // The second and third requests prove the connection was kept.
    EXPECT_EQ(ask(channel.get(), "GET", "/head", {}, 2), "body for GET");
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/scheme")).body, "http");
    EXPECT_EQ(ask(channel.get(), "GET", "/scheme", {}, 3), "http");

    // The bridge closing its connection is no reason to stop: the pool
    // socket and a new channel connection are still served.
    channel.reset();
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/scheme")).body, "http");
    Fd again = connectChannel(worker.channel());
    ASSERT_TRUE(again);
    EXPECT_EQ(ask(again.get(), "GET", "/scheme"), "http");
    EXPECT_TRUE(worker.process().running());
}

TEST_F(WorkerChannel, request_bodies_on_the_channel_including_one_the_app_does_not_read)
{
    Fd channel = connect();
    ASSERT_TRUE(channel);

    std::string body(200 * 1024, 'x');
    for (std::size_t i = 0; i < body.size(); i += 997) {
        body[i] = static_cast<char>('a' + i % 26);
    }
    EXPECT_EQ(ask(channel.get(), "POST", "/echo", body), body);
    EXPECT_EQ(ask(channel.get(), "POST", "/echo", "small", 2), "small");
    // Unread FCGI_STDIN would be parsed as the next request's records.
    EXPECT_EQ(ask(channel.get(), "POST", "/ignore-body", body, 3), "ignored");
    EXPECT_EQ(ask(channel.get(), "GET", "/scheme", {}, 4), "http");
}

TEST_F(WorkerChannel, connection_from_a_process_that_is_not_the_parent_is_closed_unanswered)
{
    Fd kept = connectChannel(worker.channel());
    ASSERT_TRUE(kept);
    EXPECT_EQ(ask(kept.get(), "GET", "/scheme"), "http");

    // Everything the stranger needs is prepared before fork(2).
    fcgi::ClientRequest request(1, fcgi::kKeepConn);
    const std::string bytes = encodeRequest(request, cgiParams("GET", "/scheme"), {});
    socklen_t length = 0;
    const sockaddr_un address = abstractAddress(worker.channel(), length);
    enum : int { Closed = 0, Answered = 1, NoConnect = 2, Silent = 3 };
    const pid_t stranger = ::fork();
    ASSERT_GE(stranger, 0) << std::strerror(errno);
    if (stranger == 0) {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
            ::_exit(NoConnect);
        }
        // The worker may close before the request is out: that is fine.
        [[maybe_unused]] const auto sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 5000) <= 0) {
            ::_exit(Silent);
        }
        char buffer[256];
        ::_exit(::read(fd, buffer, sizeof buffer) > 0 ? Answered : Closed);
    }
    int status = -1;
    const bool reaped = waitUntil([&] { return ::waitpid(stranger, &status, WNOHANG) == stranger; });
    if (!reaped) {
        ::kill(stranger, SIGKILL);
        ::waitpid(stranger, &status, 0);
    }
    ASSERT_TRUE(reaped);
    ASSERT_TRUE(WIFEXITED(status)) << describeStatus(status);
    EXPECT_EQ(WEXITSTATUS(status), Closed) << "0 closed, 1 answered, 2 no connect, 3 silent";
    EXPECT_TRUE(waitUntil([&] {
        return worker.stderrLog().find("refused a channel connection from pid " + std::to_string(stranger)) !=
               std::string::npos;
    })) << worker.stderrLog();

    // The parent's kept connection was not touched.
    EXPECT_EQ(ask(kept.get(), "GET", "/scheme", {}, 2), "http");
}

TEST_F(WorkerChannel, new_connection_replaces_the_kept_one)
{
    Fd first = connectChannel(worker.channel());
    ASSERT_TRUE(first);
    EXPECT_EQ(ask(first.get(), "GET", "/scheme"), "http");

    Fd second = connectChannel(worker.channel());
    ASSERT_TRUE(second);
    EXPECT_EQ(ask(second.get(), "GET", "/scheme"), "http");
    EXPECT_TRUE(closedByPeer(first.get())) << "the replaced connection is still open";
    EXPECT_EQ(ask(second.get(), "GET", "/head", {}, 2), "body for GET");
}

TEST_F(WorkerChannel, sigterm_with_an_idle_kept_channel_serves_on_until_the_parent_closes_it)
{
    Fd channel = connect();
    ASSERT_TRUE(channel);
    EXPECT_EQ(ask(channel.get(), "GET", "/scheme"), "http");

    worker.process().signal(SIGTERM);
    // Still there while the channel is open, well inside kChannelLingerMs,
    // and still answering on it; the pool socket takes nobody any more.
    EXPECT_FALSE(worker.process().wait(std::chrono::milliseconds(contract::kChannelLingerMs / 4)));
    EXPECT_FALSE(connectChannel(worker.channel())) << "a stopping worker took a new channel connection";
    EXPECT_EQ(ask(channel.get(), "GET", "/scheme", {}, 2), "http");
    EXPECT_FALSE(worker.process().wait(std::chrono::milliseconds(contract::kChannelLingerMs / 4)));

    channel.reset();
    expectPromptExit(2);
}

TEST_F(WorkerChannel, sigterm_with_a_channel_left_open_exits_after_the_linger)
{
    Fd channel = connect();
    ASSERT_TRUE(channel);
    EXPECT_EQ(ask(channel.get(), "GET", "/scheme"), "http");

    worker.process().signal(SIGTERM);
    const auto exited = timeToExit(worker.process());
    ASSERT_TRUE(exited) << worker.stderrLog();
    EXPECT_GE(exited->count(), contract::kChannelLingerMs * 3 / 4);
    EXPECT_TRUE(closedByPeer(channel.get(), 0ms));
    EXPECT_NE(worker.stderrLog().find("no request on the channel for 1000ms after the stop signal"),
              std::string::npos)
        << worker.stderrLog();
}

TEST_F(WorkerChannel, sigterm_during_a_channel_request_answers_it_then_the_next_then_exits)
{
    Fd channel = connect();
    ASSERT_TRUE(channel);

    fcgi::ClientRequest slow(1, fcgi::kKeepConn);
    sendAll(channel.get(), encodeRequest(slow, cgiParams("GET", "/slow"), {}));
    ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(worker.dir() / "slow-started"); }))
        << worker.stderrLog();
    worker.process().signal(SIGTERM);
    EXPECT_TRUE(worker.process().running());
    writeFile(worker.dir() / "slow-release", "go");
    EXPECT_EQ(finishOn(channel.get(), slow), "slow done");
    // A request the bridge sends while the stop is under way is served too.
    EXPECT_EQ(ask(channel.get(), "GET", "/scheme", {}, 2), "http");

    channel.reset();
    expectPromptExit(2);
}

TEST_F(WorkerChannel, sigterm_with_a_request_just_sent_on_the_channel_answers_it)
{
    Fd channel = connect();
    ASSERT_TRUE(channel);
    // Answered, so the worker has accepted the connection: one still in
    // the backlog when the stop comes is reset with the listener.
    EXPECT_EQ(ask(channel.get(), "GET", "/head"), "body for GET");

    fcgi::ClientRequest request(2, fcgi::kKeepConn);
    sendAll(channel.get(), encodeRequest(request, cgiParams("GET", "/scheme"), {}));
    worker.process().signal(SIGTERM);
    EXPECT_EQ(finishOn(channel.get(), request), "http");
    channel.reset();
    expectPromptExit(-1);
}

TEST_F(WorkerChannel, sigterm_without_a_channel_connection_exits_at_once)
{
    EXPECT_EQ(fcgiRequest(worker.socket(), cgiParams("GET", "/scheme")).body, "http");
    worker.process().signal(SIGTERM);
    expectPromptExit(-1);
}

TEST(WorkerWithoutNotifyFd, has_no_channel)
{
    TempDir dir;
    const auto socket = dir / "worker.sock";
    Fd listener = listenUnix(socket);
    Child::Options options;
    options.argv = {workerBinary().string(), "--pool", "test", "--app", "probe:app", "--python-path",
                    WorkerProcess::testApps().string()};
    options.env["PYTHONDONTWRITEBYTECODE"] = "1";
    options.fds = {{contract::kListenFd, listener.get()}};
    options.stderrFile = dir / "stderr.log";
    Child worker(options);
    // The request waits in the socket's queue until the worker accepts.
    EXPECT_EQ(fcgiRequest(socket, cgiParams("GET", "/scheme"), {}, 20s).body, "http");
    EXPECT_TRUE(abstractSocketsOf(worker.pid()).empty());
    EXPECT_EQ(readFile(dir / "stderr.log").find("channel"), std::string::npos) << readFile(dir / "stderr.log");
    worker.signal(SIGTERM);
    const auto exited = timeToExit(worker);
    ASSERT_TRUE(exited);
    EXPECT_LT(exited->count(), contract::kChannelLingerMs / 2);
}

}  // namespace
}  // namespace pyfpm::test
