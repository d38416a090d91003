// The listen queue of real pool sockets (manager/listen_queue.hpp): clients
// connect and nobody accepts, as when every worker is busy.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "manager/listen_queue.hpp"
#include "manager/listen_socket.hpp"
#include "test/support/process.hpp"

namespace pyfpm::manager {
namespace {

ListenSocket openUnix(const test::TempDir& dir, int backlog)
{
    ListenAddress address;
    address.kind = ListenAddress::Kind::Unix;
    address.path = dir / "pool.sock";
    return ListenSocket::open(address, backlog, 0600);
}

ListenSocket openTcp(const std::string& host, int backlog)
{
    ListenAddress address;
    address.kind = ListenAddress::Kind::Tcp;
    address.host = host;
    address.port = 0;
    return ListenSocket::open(address, backlog, 0600);
}

// The queue length, or -1 when measureListenQueue says nothing.
int lengthOf(int fd)
{
    auto queue = measureListenQueue(fd);
    return queue ? queue->length : -1;
}

// A client's connect(2) returns once the kernel queued it; a TCP handshake on
// loopback may finish a moment later, so the count is polled, never slept for.
void expectLength(int fd, int expected)
{
    EXPECT_TRUE(test::waitUntil([&] { return lengthOf(fd) == expected; }, std::chrono::seconds(5)))
        << "queue length " << lengthOf(fd) << ", expected " << expected;
}

void acceptOne(int fd)
{
    test::Fd accepted(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(accepted) << "accept4: " << std::strerror(errno);
}

TEST(ListenQueue, unix_socket_counts_connections_nobody_accepted)
{
    test::TempDir dir;
    auto socket = openUnix(dir, 16);
    auto empty = measureListenQueue(socket.fd());
    ASSERT_TRUE(empty) << "sock_diag gave no answer for a listening unix socket";
    EXPECT_EQ(empty->length, 0);
    EXPECT_EQ(empty->backlog, 16);

    std::vector<test::Fd> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(test::connectUnix(dir / "pool.sock"));
        ASSERT_TRUE(clients.back()) << "connect: " << std::strerror(errno);
    }
    expectLength(socket.fd(), 3);

    acceptOne(socket.fd());
    expectLength(socket.fd(), 2);
    EXPECT_EQ(measureListenQueue(socket.fd())->backlog, 16);
}

TEST(ListenQueue, tcp_socket_counts_connections_nobody_accepted)
{
    auto socket = openTcp("127.0.0.1", 32);
    auto empty = measureListenQueue(socket.fd());
    ASSERT_TRUE(empty) << "TCP_INFO gave no answer for a listening socket";
    EXPECT_EQ(empty->length, 0);
    EXPECT_EQ(empty->backlog, 32);

    std::vector<test::Fd> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(test::connectTcp("127.0.0.1", socket.port()));
        ASSERT_TRUE(clients.back()) << "connect: " << std::strerror(errno);
    }
    expectLength(socket.fd(), 3);

    acceptOne(socket.fd());
    expectLength(socket.fd(), 2);
}

TEST(ListenQueue, ipv6_tcp_socket_is_measured_too)
{
    test::Fd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 loopback{};
    loopback.sin6_family = AF_INET6;
    loopback.sin6_addr = in6addr_loopback;
    if (!probe || ::bind(probe.get(), reinterpret_cast<const sockaddr*>(&loopback), sizeof(loopback)) != 0) {
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    auto socket = openTcp("::1", 8);
    auto queue = measureListenQueue(socket.fd());
    ASSERT_TRUE(queue);
    EXPECT_EQ(queue->length, 0);
    EXPECT_EQ(queue->backlog, 8);
}

TEST(ListenQueue, the_kernel_caps_the_backlog_at_somaxconn)
{
    test::TempDir dir;
    const int somaxconn = std::stoi(test::readFile("/proc/sys/net/core/somaxconn"));
    auto socket = openUnix(dir, 65535);
    auto queue = measureListenQueue(socket.fd());
    ASSERT_TRUE(queue);
    EXPECT_EQ(queue->backlog, std::min(65535, somaxconn));
}

TEST(ListenQueue, anything_but_a_listening_socket_has_no_queue)
{
    test::TempDir dir;
    auto listening = openUnix(dir, 4);
    test::Fd client = test::connectUnix(dir / "pool.sock");
    ASSERT_TRUE(client);
    EXPECT_EQ(measureListenQueue(client.get()), std::nullopt) << "a connected unix socket";

    test::Fd accepted(::accept4(listening.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(accepted);
    EXPECT_EQ(measureListenQueue(accepted.get()), std::nullopt) << "an accepted unix socket";

    auto tcp = openTcp("127.0.0.1", 4);
    test::Fd tcpClient = test::connectTcp("127.0.0.1", tcp.port());
    ASSERT_TRUE(tcpClient);
    EXPECT_EQ(measureListenQueue(tcpClient.get()), std::nullopt) << "a connected TCP socket";

    test::Fd unbound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(measureListenQueue(unbound.get()), std::nullopt) << "a TCP socket never listened on";

    int pipeFds[2];
    ASSERT_EQ(::pipe(pipeFds), 0);
    test::Fd readEnd(pipeFds[0]);
    test::Fd writeEnd(pipeFds[1]);
    EXPECT_EQ(measureListenQueue(readEnd.get()), std::nullopt) << "a pipe";
    EXPECT_EQ(measureListenQueue(-1), std::nullopt) << "no descriptor";
}

}  // namespace
}  // namespace pyfpm::manager
