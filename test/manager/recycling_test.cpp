// Recycling policy (manager/recycling.hpp): request limits spread by the
// jitter so a pool does not recycle in lockstep, and the bound on workers
// recycled at once.
#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "manager/recycling.hpp"

namespace pyfpm::manager {
namespace {

PoolConfig recycling(long maxRequests, long jitter, int maxChildren = 8)
{
    PoolConfig config;
    config.name = "web";
    config.max_children = maxChildren;
    config.max_requests = maxRequests;
    config.max_requests_jitter = jitter;
    return config;
}

std::vector<long> draw(const PoolConfig& config, std::mt19937_64& random, int count)
{
    std::vector<long> limits;
    for (int i = 0; i < count; ++i) {
        limits.push_back(requestLimitFor(config, random));
    }
    return limits;
}

TEST(RequestLimit, zero_max_requests_means_no_limit_whatever_the_jitter)
{
    std::mt19937_64 random(1);
    EXPECT_EQ(requestLimitFor(recycling(0, 0), random), 0);
    EXPECT_EQ(requestLimitFor(recycling(0, 50), random), 0);
}

TEST(RequestLimit, without_jitter_every_worker_gets_max_requests)
{
    std::mt19937_64 random(1);
    auto limits = draw(recycling(500, 0), random, 20);
    EXPECT_EQ(limits, std::vector<long>(20, 500));
}

TEST(RequestLimit, jitter_spreads_limits_over_max_requests_plus_minus_jitter)
{
    std::mt19937_64 random(42);
    auto limits = draw(recycling(1000, 100), random, 5000);
    auto [low, high] = std::minmax_element(limits.begin(), limits.end());
    EXPECT_GE(*low, 900);
    EXPECT_LE(*high, 1100);
    // Uniform over 201 values: 5000 draws reach near both ends and below and
    // above the middle.
    EXPECT_LT(*low, 910);
    EXPECT_GT(*high, 1090);
    EXPECT_GT(std::set<long>(limits.begin(), limits.end()).size(), 150u);
    auto below = std::count_if(limits.begin(), limits.end(), [](long n) { return n < 1000; });
    EXPECT_GT(below, 2000);
    EXPECT_LT(below, 3000);
}

TEST(RequestLimit, is_never_below_one)
{
    std::mt19937_64 random(7);
    auto limits = draw(recycling(3, 3), random, 2000);
    EXPECT_EQ(*std::min_element(limits.begin(), limits.end()), 1);
    EXPECT_EQ(*std::max_element(limits.begin(), limits.end()), 6);
}

TEST(RequestLimit, is_deterministic_for_a_seeded_generator)
{
    std::mt19937_64 first(2024);
    std::mt19937_64 second(2024);
    EXPECT_EQ(draw(recycling(1000, 250), first, 50), draw(recycling(1000, 250), second, 50));
}

TEST(RequestLimit, workers_of_one_pool_get_different_limits)
{
    std::mt19937_64 random(3);
    auto limits = draw(recycling(1000, 100), random, 8);
    EXPECT_GT(std::set<long>(limits.begin(), limits.end()).size(), 4u);
}

TEST(MaxConcurrentRecycles, is_a_quarter_of_max_children_and_at_least_one)
{
    EXPECT_EQ(maxConcurrentRecycles(recycling(100, 0, 1)), 1);
    EXPECT_EQ(maxConcurrentRecycles(recycling(100, 0, 3)), 1);
    EXPECT_EQ(maxConcurrentRecycles(recycling(100, 0, 4)), 1);
    EXPECT_EQ(maxConcurrentRecycles(recycling(100, 0, 8)), 2);
    EXPECT_EQ(maxConcurrentRecycles(recycling(100, 0, 11)), 2);
    EXPECT_EQ(maxConcurrentRecycles(recycling(100, 0, 100)), 25);
}

}  // namespace
}  // namespace pyfpm::manager
