#include "core/token_bucket.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace trafficsim::core {
namespace {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

struct Cap {
  double burst;
  double rate_per_s;
};

// The product's default hard cap, and one segment's share of it when split three ways.
const Cap kCaps[] = {{20, 20}, {20.0 / 3, 20.0 / 3}};

std::string describe(const Cap& cap) {
  return "B = " + std::to_string(cap.burst) + ", R = " + std::to_string(cap.rate_per_s);
}

// Fails the test if some closed window [t, t + T] of the (sorted) take times holds more than
// B + R*T takes. Windows that start at a take are the worst case, so only those are checked.
void expect_window_bound(const std::vector<nanoseconds>& takes, const Cap& cap) {
  ASSERT_TRUE(std::is_sorted(takes.begin(), takes.end()));
  std::vector<nanoseconds> lengths = {0ns,  1us,   100us, 1ms,   10ms,  49ms,  50ms, 51ms,
                                      99ms, 100ms, 149ms, 250ms, 333ms, 500ms, 1s,   1500ms,
                                      2s,   3s,    5s,    7s,    10s,   20s};
  for (int i = 1; i <= 100; ++i) lengths.push_back(nanoseconds(i * 37'000'000LL));
  for (nanoseconds length : lengths) {
    double bound = cap.burst + cap.rate_per_s * std::chrono::duration<double>(length).count();
    auto allowed = static_cast<size_t>(std::floor(bound + 1e-9));
    size_t end = 0;
    size_t worst = 0;
    for (size_t start = 0; start < takes.size(); ++start) {
      end = std::max(end, start);
      while (end < takes.size() && takes[end] <= takes[start] + length) ++end;
      worst = std::max(worst, end - start);
    }
    EXPECT_LE(worst, allowed) << "window " << length.count() << " ns";
  }
}

TEST(TokenBucketTest, GreedyTakerNeverExceedsTheCap) {
  for (const Cap& cap : kCaps) {
    SCOPED_TRACE(describe(cap));
    TokenBucket bucket(cap.burst, cap.rate_per_s);
    std::vector<nanoseconds> takes;
    const nanoseconds step = 100us, run = 10s;
    for (nanoseconds now = 0ns; now <= run; now += step) {
      while (bucket.try_take(now)) takes.push_back(now);
    }
    expect_window_bound(takes, cap);
    double total_bound = cap.burst + cap.rate_per_s * 10;
    EXPECT_LE(static_cast<double>(takes.size()), total_bound);
    // And the cap is not met by starving: a greedy taker gets within a token of it.
    EXPECT_GE(static_cast<double>(takes.size()), total_bound - 1.01);
    // The initial burst is the capacity, whole tokens only.
    auto burst = std::count(takes.begin(), takes.end(), 0ns);
    EXPECT_EQ(burst, static_cast<long>(std::floor(cap.burst)));
  }
}

TEST(TokenBucketTest, BurstAfterIdleIsOnlyTheCapacity) {
  for (const Cap& cap : kCaps) {
    SCOPED_TRACE(describe(cap));
    TokenBucket bucket(cap.burst, cap.rate_per_s);
    std::vector<nanoseconds> takes;
    nanoseconds now = 0ns;
    for (; now < 1s; now += 100us) {
      while (bucket.try_take(now)) takes.push_back(now);
    }
    now = 61s;  // a long stall: the bucket refills, but only to its capacity
    long at_once = 0;
    while (bucket.try_take(now)) {
      takes.push_back(now);
      ++at_once;
    }
    EXPECT_EQ(at_once, static_cast<long>(std::floor(cap.burst)));
    long next_second = 0;
    for (now += 100us; now <= 62s; now += 100us) {
      while (bucket.try_take(now)) {
        takes.push_back(now);
        ++next_second;
      }
    }
    // What is left of the burst plus one second of refill, and no less than R - 1.
    EXPECT_LE(next_second, std::floor(cap.burst - std::floor(cap.burst) + cap.rate_per_s));
    EXPECT_GE(next_second, std::floor(cap.rate_per_s) - 1);
    expect_window_bound(takes, cap);
  }
}

TEST(TokenBucketTest, WaitingWithNextAvailableIsTightAndBounded) {
  for (const Cap& cap : kCaps) {
    SCOPED_TRACE(describe(cap));
    TokenBucket bucket(cap.burst, cap.rate_per_s);
    std::mt19937_64 rng(3);
    std::exponential_distribution<double> think_s(50);  // arrivals wanting ~50/s
    std::vector<nanoseconds> takes;
    nanoseconds now = 0ns;
    const nanoseconds run = 10s;
    while (now <= run) {
      nanoseconds at = bucket.next_available(now);
      ASSERT_GE(at, now);
      if (at > now) {
        // Tight: a nanosecond earlier would have been refused.
        TokenBucket probe = bucket;
        EXPECT_FALSE(probe.try_take(at - 1ns));
      }
      now = at;
      if (now > run) break;
      ASSERT_TRUE(bucket.try_take(now)) << "next_available promised " << now.count();
      takes.push_back(now);
      now += nanoseconds(static_cast<int64_t>(think_s(rng) * 1e9));
    }
    expect_window_bound(takes, cap);
    EXPECT_LE(static_cast<double>(takes.size()), cap.burst + cap.rate_per_s * 10);
    // Demand exceeds the cap, so the cap is what limits: close to R per second overall.
    EXPECT_GE(static_cast<double>(takes.size()), cap.rate_per_s * 10);
  }
}

TEST(TokenBucketTest, NextAvailableIsTheFirstMomentATakeSucceeds) {
  TokenBucket bucket(2, 10);
  EXPECT_EQ(bucket.next_available(5s), 5s);
  EXPECT_TRUE(bucket.try_take(5s));
  EXPECT_TRUE(bucket.try_take(5s));
  EXPECT_FALSE(bucket.try_take(5s));
  EXPECT_EQ(bucket.next_available(5s), 5100ms);
  EXPECT_EQ(bucket.next_available(5050ms), 5100ms);
  EXPECT_EQ(bucket.next_available(7s), 7s);
  EXPECT_FALSE(bucket.try_take(5100ms - 1ns));
  EXPECT_TRUE(bucket.try_take(5100ms));
  EXPECT_EQ(bucket.next_available(5100ms), 5200ms);
}

TEST(TokenBucketTest, CapacityBelowOneActsAsOne) {
  TokenBucket bucket(0.25, 2);
  EXPECT_EQ(bucket.capacity(), 1);
  EXPECT_TRUE(bucket.try_take(0ns));
  EXPECT_FALSE(bucket.try_take(0ns));
  EXPECT_EQ(bucket.next_available(0ns), 500ms);
  EXPECT_TRUE(bucket.try_take(500ms));
  // Never more than one banked.
  EXPECT_TRUE(bucket.try_take(100s));
  EXPECT_FALSE(bucket.try_take(100s));
}

TEST(TokenBucketTest, ZeroRefillNeverRefills) {
  TokenBucket bucket(3, 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(nanoseconds(i)));
  EXPECT_FALSE(bucket.try_take(1000s));
  EXPECT_EQ(bucket.next_available(1000s), nanoseconds::max());
}

TEST(TokenBucketTest, RejectsInvalidParameters) {
  EXPECT_THROW(TokenBucket(-1, 1), std::invalid_argument);
  EXPECT_THROW(TokenBucket(1, -1), std::invalid_argument);
  EXPECT_THROW(TokenBucket(std::nan(""), 1), std::invalid_argument);
  EXPECT_THROW(TokenBucket(1, INFINITY), std::invalid_argument);
}

}  // namespace
}  // namespace trafficsim::core
