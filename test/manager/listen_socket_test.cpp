// The pool socket: what start-up does with paths that already exist, modes,
// tcp, and what stop leaves behind.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "manager/listen_socket.hpp"
#include "test/support/process.hpp"

namespace pyfpm::manager {
namespace {

namespace fs = std::filesystem;

ListenAddress unixAt(const fs::path& path)
{
    ListenAddress address;
    address.kind = ListenAddress::Kind::Unix;
    address.path = path;
    return address;
}

ListenAddress tcpAt(const std::string& host, std::uint16_t port)
{
    ListenAddress address;
    address.kind = ListenAddress::Kind::Tcp;
    address.host = host;
    address.port = port;
    return address;
}

mode_t modeOf(const fs::path& path)
{
    struct stat st{};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

bool isSocket(const fs::path& path)
{
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// A socket file nobody listens on, as a SIGKILLed daemon leaves it.
void leaveStaleSocket(const fs::path& path)
{
    test::Fd fd = test::listenUnix(path);
    ASSERT_TRUE(fd);
    fd.reset();
    ASSERT_TRUE(isSocket(path));
}

std::string errorOf(const ListenAddress& address)
{
    try {
        ListenSocket::open(address, 16, 0660);
    } catch (const ListenError& e) {
        return e.what();
    }
    return "no error";
}

TEST(ListenSocket, unix_socket_accepts_connections_with_mode_0660)
{
    test::TempDir dir;
    const ListenSocket socket = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0660);
    EXPECT_GE(socket.fd(), 0);
    EXPECT_TRUE(isSocket(dir / "web.sock"));
    EXPECT_EQ(modeOf(dir / "web.sock"), 0660u);
    EXPECT_TRUE(test::connectUnix(dir / "web.sock"));
}

TEST(ListenSocket, listen_mode_is_applied)
{
    test::TempDir dir;
    const ListenSocket socket = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0600);
    EXPECT_EQ(modeOf(dir / "web.sock"), 0600u);
}

TEST(ListenSocket, descriptor_is_blocking_and_close_on_exec)
{
    test::TempDir dir;
    const ListenSocket socket = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0660);
    // Workers share the open file description: O_NONBLOCK here would make
    // their accept() fail with EAGAIN.
    EXPECT_EQ(::fcntl(socket.fd(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(socket.fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(ListenSocket, stale_socket_file_is_replaced)
{
    test::TempDir dir;
    leaveStaleSocket(dir / "web.sock");
    const ListenSocket socket = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0660);
    EXPECT_TRUE(test::connectUnix(dir / "web.sock"));
}

TEST(ListenSocket, live_owner_is_refused_and_keeps_its_socket)
{
    test::TempDir dir;
    test::Fd owner = test::listenUnix(dir / "web.sock");
    ASSERT_TRUE(owner);
    EXPECT_EQ(errorOf(unixAt(dir / "web.sock")),
              "listen unix:" + (dir / "web.sock").string() + ": another process is listening there");
    EXPECT_TRUE(test::connectUnix(dir / "web.sock"));
}

TEST(ListenSocket, path_that_is_not_a_socket_is_refused_and_left_alone)
{
    test::TempDir dir;
    test::writeFile(dir / "web.sock", "precious");
    EXPECT_EQ(errorOf(unixAt(dir / "web.sock")),
              "listen unix:" + (dir / "web.sock").string() + ": the path exists and is not a socket");
    EXPECT_EQ(test::readFile(dir / "web.sock"), "precious");
}

TEST(ListenSocket, bind_errors_name_the_call_the_address_and_strerror)
{
    test::TempDir dir;
    EXPECT_EQ(errorOf(unixAt(dir / "missing/web.sock")),
              "bind(2) unix:" + (dir / "missing/web.sock").string() + ": No such file or directory");
}

TEST(ListenSocket, too_long_path_is_refused)
{
    test::TempDir dir;
    const std::string error = errorOf(unixAt(dir / std::string(120, 'x')));
    EXPECT_NE(error.find("path must be 1 to 107 bytes long"), std::string::npos) << error;
}

TEST(ListenSocket, close_removes_the_socket_file)
{
    test::TempDir dir;
    ListenSocket socket = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0660);
    socket.close();
    EXPECT_FALSE(fs::exists(dir / "web.sock"));
    socket.close();
}

TEST(ListenSocket, destructor_removes_the_socket_file)
{
    test::TempDir dir;
    {
        const ListenSocket socket = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0660);
    }
    EXPECT_FALSE(fs::exists(dir / "web.sock"));
}

TEST(ListenSocket, close_leaves_a_file_that_replaced_ours)
{
    test::TempDir dir;
    ListenSocket socket = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0660);
    // Another daemon took the path over meanwhile.
    test::writeFile(dir / "other", "theirs");
    fs::rename(dir / "other", dir / "web.sock");
    socket.close();
    EXPECT_EQ(test::readFile(dir / "web.sock"), "theirs");
}

TEST(ListenSocket, moved_socket_removes_the_file_once)
{
    test::TempDir dir;
    ListenSocket first = ListenSocket::open(unixAt(dir / "web.sock"), 511, 0660);
    ListenSocket second = std::move(first);
    first.close();
    EXPECT_TRUE(isSocket(dir / "web.sock"));
    second.close();
    EXPECT_FALSE(fs::exists(dir / "web.sock"));
}

TEST(ListenSocket, tcp_on_an_ephemeral_port_accepts_connections)
{
    const ListenSocket socket = ListenSocket::open(tcpAt("127.0.0.1", 0), 511, 0660);
    ASSERT_NE(socket.port(), 0);
    EXPECT_TRUE(test::connectTcp("127.0.0.1", socket.port()));
}

TEST(ListenSocket, tcp_port_in_use_is_refused_with_strerror)
{
    const ListenSocket first = ListenSocket::open(tcpAt("127.0.0.1", 0), 511, 0660);
    EXPECT_EQ(errorOf(tcpAt("127.0.0.1", first.port())),
              "bind(2) 127.0.0.1:" + std::to_string(first.port()) + ": Address already in use");
}

}  // namespace
}  // namespace pyfpm::manager
