// The request-duration histogram of the scoreboard: each finished request
// lands in one bucket of its worker's slot, and the sum grows by its
// duration.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "manager/scoreboard.hpp"

namespace pyfpm::manager {
namespace {

TEST(DurationHistogram, buckets_are_less_or_equal_to_their_bound) {
    EXPECT_EQ(durationBucket(0), 0u);
    EXPECT_EQ(durationBucket(5'000), 0u);
    EXPECT_EQ(durationBucket(5'001), 1u);
    EXPECT_EQ(durationBucket(1'000'000), 7u);
    EXPECT_EQ(durationBucket(10'000'000), 10u);
    EXPECT_EQ(durationBucket(10'000'001), kDurationBuckets - 1);
}

TEST(DurationHistogram, slot_writer_counts_each_finished_request) {
    Scoreboard board(2, "histogram-test");
    const auto index = board.claim();
    ASSERT_TRUE(index);
    SlotWriter writer(board.fd(), *index);
    writer.started(::getpid());
    writer.busy("GET", "/fast", 0);
    writer.finished(0);
    writer.busy("GET", "/slow", 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // a duration to measure, not a wait for an event
    writer.finished(0);
    const auto slot = board.read(*index);
    ASSERT_TRUE(slot);
    EXPECT_EQ(slot->durations.count(), 2u);
    EXPECT_EQ(slot->durations.buckets[0], 1u);  // /fast: well under 5 ms
    EXPECT_EQ(slot->durations.buckets[durationBucket(slot->lastRequestDurationUs)], 1u);
    EXPECT_GE(slot->durations.sumUs, 30'000u);
    EXPECT_GE(slot->durations.sumUs, slot->lastRequestDurationUs);

    board.release(*index);
    const auto again = board.claim();
    ASSERT_TRUE(again);
    EXPECT_EQ(board.read(*again)->durations.count(), 0u);  // a new worker starts from zero
}

TEST(DurationHistogram, sums_add_per_bucket) {
    DurationHistogram a;
    a.buckets[0] = 2;
    a.sumUs = 10;
    DurationHistogram b;
    b.buckets[0] = 1;
    b.buckets[3] = 4;
    b.sumUs = 5;
    a += b;
    EXPECT_EQ(a.buckets[0], 3u);
    EXPECT_EQ(a.buckets[3], 4u);
    EXPECT_EQ(a.sumUs, 15u);
    EXPECT_EQ(a.count(), 7u);
}

}  // namespace
}  // namespace pyfpm::manager
