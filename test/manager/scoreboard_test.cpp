// The scoreboard (manager/scoreboard.hpp): the daemon's claim/assign/
// release/read against a worker's SlotWriter, in one process and across a
// fork, including a worker killed in the middle of a write.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "manager/scoreboard.hpp"
#include "manager/scoreboard_layout.hpp"

namespace pyfpm::manager {
namespace {

namespace layout = scoreboard_layout;

// Waits for a forked child by its own pid; the raw status.
int reap(pid_t pid)
{
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            ADD_FAILURE() << "waitpid: " << std::strerror(errno);
            return -1;
        }
    }
    return status;
}

TEST(Scoreboard, claimed_slot_is_starting_without_a_pid_until_assigned)
{
    Scoreboard board(4, "test");
    EXPECT_EQ(board.capacity(), 4U);
    EXPECT_TRUE(board.snapshot().empty());
    const auto before = monotonicMs();
    const auto index = board.claim();
    ASSERT_TRUE(index);
    EXPECT_EQ(*index, 0U);
    auto slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Starting);
    EXPECT_EQ(slot->pid, 0);
    EXPECT_GE(slot->startedAtMs, before);
    board.assign(*index, 4242);
    EXPECT_EQ(board.read(*index)->pid, 4242);
}

TEST(Scoreboard, worker_states_read_back_in_order)
{
    Scoreboard board(2, "test");
    const auto index = board.claim();
    ASSERT_TRUE(index);
    SlotWriter writer(board.fd(), *index);

    writer.started(1234);
    board.assign(*index, 9999);  // the worker was first: its pid stays
    auto slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Starting);
    EXPECT_EQ(slot->pid, 1234);

    writer.idle();
    slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Idle);
    EXPECT_GT(slot->idleSinceMs, 0);
    EXPECT_EQ(slot->requests, 0U);
    EXPECT_EQ(slot->rssBytes, 0U);

    const auto beforeRequest = monotonicMs();
    writer.busy("POST", "/upload?name=a", 42);
    slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Busy);
    EXPECT_EQ(slot->method, "POST");
    EXPECT_EQ(slot->uri, "/upload?name=a");
    EXPECT_EQ(slot->contentLength, 42U);
    EXPECT_GE(slot->requestStartedAtMs, beforeRequest);
    EXPECT_LE(slot->requestStartedAtMs, monotonicMs());

    writer.finished(5 << 20);
    slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Busy);  // until idle() or draining()
    EXPECT_EQ(slot->requests, 1U);
    EXPECT_EQ(slot->rssBytes, 5U << 20);

    writer.idle();
    writer.busy("GET", "/b", 0);
    writer.finished(6 << 20);
    writer.draining();
    slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Draining);
    EXPECT_EQ(slot->requests, 2U);
    EXPECT_EQ(slot->method, "GET");  // the last request stays visible
    EXPECT_EQ(slot->uri, "/b");
    EXPECT_EQ(slot->contentLength, 0U);
    EXPECT_EQ(slot->rssBytes, 6U << 20);
}

TEST(Scoreboard, full_table_claims_nothing_and_release_frees_and_clears_a_slot)
{
    Scoreboard board(2, "test");
    ASSERT_EQ(board.claim(), std::optional<std::size_t>(0));
    ASSERT_EQ(board.claim(), std::optional<std::size_t>(1));
    EXPECT_FALSE(board.claim());
    {
        SlotWriter writer(board.fd(), 1);
        writer.started(77);
        writer.busy("GET", "/x", 3);
        writer.finished(100);
    }
    board.release(1);
    EXPECT_FALSE(board.read(1));  // Free reads as nothing
    EXPECT_EQ(board.snapshot().size(), 1U);
    ASSERT_EQ(board.claim(), std::optional<std::size_t>(1));
    const auto slot = board.read(1);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->state, SlotState::Starting);
    EXPECT_EQ(slot->pid, 0);
    EXPECT_EQ(slot->requests, 0U);
    EXPECT_EQ(slot->uri, "");
    EXPECT_EQ(slot->rssBytes, 0U);
}

TEST(Scoreboard, method_and_uri_are_cut_at_their_limits_keeping_the_start)
{
    Scoreboard board(1, "test");
    ASSERT_TRUE(board.claim());
    SlotWriter writer(board.fd(), 0);

    std::string uri = "/";
    for (int i = 0; uri.size() < kSlotUriBytes + 100; ++i) {
        uri += std::to_string(i % 10);
    }
    const std::string method(kSlotMethodBytes + 5, 'M');
    writer.busy(method, uri, 0);
    auto slot = board.read(0);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->method, method.substr(0, kSlotMethodBytes));
    EXPECT_EQ(slot->uri, uri.substr(0, kSlotUriBytes));

    const std::string exact = uri.substr(0, kSlotUriBytes);
    writer.busy("GET", exact, 0);
    EXPECT_EQ(board.read(0)->uri, exact);

    // A short URI after a long one: no tail of the old one shows through.
    writer.busy("GET", "/a", 0);
    slot = board.read(0);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->uri, "/a");
    EXPECT_EQ(slot->method, "GET");

    // An odd length that ends inside a word.
    writer.busy("OPTIONS", "/abcdefghi", 0);
    EXPECT_EQ(board.read(0)->uri, "/abcdefghi");
    EXPECT_EQ(board.read(0)->method, "OPTIONS");
}

TEST(Scoreboard, worker_killed_mid_write_leaves_only_its_slot_unreadable_until_release)
{
    Scoreboard board(3, "test");
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(board.claim());
    }
    SlotWriter neighbour(board.fd(), 0);
    neighbour.started(100);
    neighbour.idle();

    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The worker of slot 1: a complete update, then one that the kill
        // interrupts after the first increment and half the URI.
        SlotWriter writer(board.fd(), 1);
        writer.started(::getpid());
        writer.busy("GET", "/before", 1);
        void* map = ::mmap(nullptr, layout::tableBytes(3), PROT_READ | PROT_WRITE, MAP_SHARED, board.fd(), 0);
        if (map == MAP_FAILED) {
            ::_exit(1);
        }
        layout::Slot& slot = *layout::slotAt(map, 1);
        layout::beginWrite(slot);
        slot.uri[0].store(0x4141414141414141, std::memory_order_relaxed);
        ::raise(SIGKILL);
        ::_exit(2);
    }
    const int status = reap(child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

    EXPECT_FALSE(board.read(1)) << "a torn slot must not read as consistent";
    const auto first = board.read(0);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->pid, 100);
    EXPECT_EQ(first->state, SlotState::Idle);
    ASSERT_TRUE(board.read(2));
    EXPECT_EQ(board.read(2)->state, SlotState::Starting);
    EXPECT_EQ(board.snapshot().size(), 2U);

    board.release(1);  // after the reap
    EXPECT_FALSE(board.read(1));
    ASSERT_EQ(board.claim(), std::optional<std::size_t>(1));
    const auto reclaimed = board.read(1);
    ASSERT_TRUE(reclaimed);
    EXPECT_EQ(reclaimed->state, SlotState::Starting);
    EXPECT_EQ(reclaimed->uri, "");
    SlotWriter next(board.fd(), 1);
    next.busy("GET", "/after", 0);
    EXPECT_EQ(board.read(1)->uri, "/after");
    EXPECT_EQ(board.snapshot().size(), 3U);
}

TEST(Scoreboard, forked_worker_writes_and_the_parent_reads)
{
    Scoreboard board(2, "test");
    const auto index = board.claim();
    ASSERT_TRUE(index);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        SlotWriter writer(board.fd(), *index);
        writer.started(::getpid());
        writer.idle();
        writer.busy("PUT", "/from-child", 7);
        writer.finished(123456);
        writer.idle();
        ::_exit(0);
    }
    board.assign(*index, child);
    const int status = reap(child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    const auto slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->pid, child);
    EXPECT_EQ(slot->state, SlotState::Idle);
    EXPECT_EQ(slot->requests, 1U);
    EXPECT_EQ(slot->method, "PUT");
    EXPECT_EQ(slot->uri, "/from-child");
    EXPECT_EQ(slot->contentLength, 7U);
    EXPECT_EQ(slot->rssBytes, 123456U);
}

// A writer in another process rewrites its slot as fast as it can; every
// copy the reader gets must be one the writer wrote as a whole (URI,
// method and content length always match).
TEST(Scoreboard, reads_during_concurrent_writes_are_never_mixed)
{
    Scoreboard board(1, "test");
    ASSERT_TRUE(board.claim());
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(go[1]);
        SlotWriter writer(board.fd(), 0);
        writer.started(::getpid());
        char byte = 0;
        if (::read(go[0], &byte, 1) != 1) {
            ::_exit(1);
        }
        for (std::uint64_t i = 1; i <= 200'000; ++i) {
            // A long URI so a write takes long enough to be interrupted.
            const std::string n = std::to_string(i);
            const std::string uri = "/" + std::string(200, static_cast<char>('a' + i % 26)) + "/" + n;
            writer.busy(i % 2 ? "GET" : "DELETE", uri, i);
            writer.finished(i);
        }
        ::_exit(0);
    }
    ::close(go[0]);
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    ::close(go[1]);

    int consistent = 0;
    int status = 0;
    for (int i = 0; i < 10'000'000; ++i) {
        if (const auto slot = board.read(0); slot && slot->contentLength > 0) {
            const std::uint64_t n = slot->contentLength;
            const std::string expected =
                "/" + std::string(200, static_cast<char>('a' + n % 26)) + "/" + std::to_string(n);
            ASSERT_EQ(slot->uri, expected);
            ASSERT_EQ(slot->method, n % 2 ? "GET" : "DELETE");
            ++consistent;
        }
        if (::waitpid(child, &status, WNOHANG) == child) {
            break;
        }
    }
    if (::waitpid(child, &status, WNOHANG) == 0) {
        ::kill(child, SIGKILL);
        reap(child);
        FAIL() << "the writer did not finish";
    }
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_GT(consistent, 0);
    const auto last = board.read(0);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->requests, 200'000U);
    EXPECT_EQ(last->contentLength, 200'000U);
}

TEST(SlotWriter, refuses_an_index_outside_the_table_and_a_descriptor_that_is_no_scoreboard)
{
    Scoreboard board(2, "test");
    EXPECT_THROW(SlotWriter(board.fd(), 2), std::invalid_argument);
    const int other = ::memfd_create("not-a-scoreboard", MFD_CLOEXEC);
    ASSERT_GE(other, 0);
    ASSERT_EQ(::ftruncate(other, 65536), 0);
    EXPECT_THROW(SlotWriter(other, 0), std::invalid_argument);
    ::close(other);
}

TEST(Scoreboard, descriptor_is_a_sealed_close_on_exec_memfd)
{
    Scoreboard board(1, "sealed");
    EXPECT_NE(::fcntl(board.fd(), F_GETFD) & FD_CLOEXEC, 0);
    // A worker cannot shrink the table under the daemon (SIGBUS on read).
    EXPECT_NE(::ftruncate(board.fd(), 0), 0);
    char link[64];
    const std::string path = "/proc/self/fd/" + std::to_string(board.fd());
    const ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(link, static_cast<std::size_t>(n)).rfind("/memfd:pyfpm-scoreboard-sealed", 0), 0U)
        << std::string(link, static_cast<std::size_t>(n));
}

TEST(SlotState, every_state_has_a_name)
{
    EXPECT_EQ(toString(SlotState::Free), "free");
    EXPECT_EQ(toString(SlotState::Starting), "starting");
    EXPECT_EQ(toString(SlotState::Idle), "idle");
    EXPECT_EQ(toString(SlotState::Busy), "busy");
    EXPECT_EQ(toString(SlotState::Draining), "draining");
}

}  // namespace
}  // namespace pyfpm::manager
