// The pure parts of the worker's process-manager side: its new command-line
// options, when a recycle is due and how it is spelled, and RSS from
// /proc/PID/statm.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "src/worker/notify_pipe.hpp"
#include "src/worker/options.hpp"
#include "src/worker/rss.hpp"

namespace pyfpm::worker {
namespace {

std::variant<WorkerOptions, int> parse(std::vector<std::string> arguments)
{
    arguments.insert(arguments.begin(), {"pyfpm-worker", "--app", "app:app"});
    std::vector<char*> argv;
    for (auto& argument : arguments) {
        argv.push_back(argument.data());
    }
    return parseOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(WorkerOptions, manager_flags_are_parsed)
{
    const auto parsed = parse({"--scoreboard-fd", "4", "--slot", "7", "--max-requests", "500", "--max-rss",
                               "268435456", "--slowlog", "/var/log/pyfpm/www.slow.log"});
    ASSERT_TRUE(std::holds_alternative<WorkerOptions>(parsed));
    const auto& options = std::get<WorkerOptions>(parsed);
    EXPECT_EQ(options.scoreboardFd, std::optional<int>(4));
    EXPECT_EQ(options.slot, std::optional<std::size_t>(7));
    EXPECT_EQ(options.maxRequests, 500U);
    EXPECT_EQ(options.maxRssBytes, 268435456U);
    EXPECT_EQ(options.slowlog, "/var/log/pyfpm/www.slow.log");
}

TEST(WorkerOptions, without_manager_flags_nothing_is_kept_or_limited)
{
    const auto parsed = parse({});
    ASSERT_TRUE(std::holds_alternative<WorkerOptions>(parsed));
    const auto& options = std::get<WorkerOptions>(parsed);
    EXPECT_FALSE(options.scoreboardFd);
    EXPECT_FALSE(options.slot);
    EXPECT_EQ(options.maxRequests, 0U);
    EXPECT_EQ(options.maxRssBytes, 0U);
    EXPECT_EQ(options.slowlog, "");
}

TEST(WorkerOptions, scoreboard_and_slot_come_together_and_limits_are_not_negative)
{
    for (const auto& arguments : std::vector<std::vector<std::string>>{
             {"--slot", "1"},
             {"--scoreboard-fd", "4"},
             {"--scoreboard-fd", "-1", "--slot", "0"},
             {"--max-requests", "-5"},
             {"--scoreboard-fd", "4", "--slot", "-1"},
             {"--max-rss", "lots"}}) {
        const auto parsed = parse(arguments);
        ASSERT_TRUE(std::holds_alternative<int>(parsed)) << arguments.front();
        EXPECT_EQ(std::get<int>(parsed), 2) << arguments.front();
    }
}

TEST(Recycle, max_requests_is_due_at_the_limit)
{
    EXPECT_FALSE(recycleDue(3, 0, 2, 1 << 30));
    const auto due = recycleDue(3, 0, 3, 0);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->reason, "max_requests");
    EXPECT_EQ(recycleMessage(*due), "recycle max_requests 3\n");
}

TEST(Recycle, max_rss_is_due_strictly_above_the_limit)
{
    EXPECT_FALSE(recycleDue(0, 1000, 99, 1000));
    const auto due = recycleDue(0, 1000, 99, 1001);
    ASSERT_TRUE(due);
    EXPECT_EQ(recycleMessage(*due), "recycle max_rss 1001\n");
}

TEST(Recycle, no_limits_never_recycle_and_requests_win_over_rss)
{
    EXPECT_FALSE(recycleDue(0, 0, 1'000'000, 1ULL << 40));
    EXPECT_EQ(recycleDue(10, 1000, 10, 5000)->reason, "max_requests");
}

TEST(Rss, statm_resident_pages_times_page_size)
{
    EXPECT_EQ(parseStatmRss("5963 2411 1667 363 0 613 0\n", 4096), std::optional<std::uint64_t>(2411ULL * 4096));
    EXPECT_EQ(parseStatmRss("1 2", 4096), std::optional<std::uint64_t>(8192));
    for (const char* bad : {"", "5963", "5963 ", "5963 x 1", "5963 -2 1", "5963 12abc 1"}) {
        EXPECT_FALSE(parseStatmRss(bad, 4096)) << bad;
    }
}

TEST(Rss, reader_sees_this_process)
{
    RssReader reader;
    const std::uint64_t before = reader.read();
    EXPECT_GT(before, 0U);
    std::vector<char> block(64 << 20, 1);  // filled: resident
    EXPECT_GE(reader.read(), before + (32U << 20)) << "touched " << block.size() << " bytes";
}

}  // namespace
}  // namespace pyfpm::worker
