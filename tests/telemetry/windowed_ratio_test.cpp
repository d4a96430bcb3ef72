#include "telemetry/windowed_ratio.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace trafficsim::telemetry {
namespace {

TEST(WindowedRatioTest, CountsEventsAndFailuresInTheWindow) {
  WindowedRatio ratio(60);
  ratio.record(false, 100.0);
  ratio.record(true, 100.5);
  ratio.record(false, 130.2);
  ratio.record(true, 159.9);
  const auto totals = ratio.totals(159.9);
  EXPECT_EQ(totals.events, 4u);
  EXPECT_EQ(totals.failures, 2u);
  EXPECT_DOUBLE_EQ(totals.ratio(), 0.5);
}

TEST(WindowedRatioTest, OldSecondsLeaveTheWindow) {
  WindowedRatio ratio(60);
  ratio.record(true, 100.0);   // second 100
  ratio.record(false, 101.0);  // second 101
  // At 159.x the window holds seconds 100..159; at 160.x it holds 101..160.
  EXPECT_EQ(ratio.totals(159.99).events, 2u);
  const auto later = ratio.totals(160.0);
  EXPECT_EQ(later.events, 1u);
  EXPECT_EQ(later.failures, 0u);
  EXPECT_EQ(ratio.totals(1000).events, 0u);
  EXPECT_EQ(ratio.totals(1000).ratio(), 0.0);
}

TEST(WindowedRatioTest, ReusedSlotsStartAfresh) {
  WindowedRatio ratio(10);
  ratio.record(true, 5);
  ratio.record(false, 15);  // same slot as second 5, a full window later
  const auto totals = ratio.totals(15);
  EXPECT_EQ(totals.events, 1u);
  EXPECT_EQ(totals.failures, 0u);
  // A straggler for second 5 arriving now is too old to count, and must not corrupt second 15.
  ratio.record(true, 5.5);
  EXPECT_EQ(ratio.totals(15).events, 1u);
  EXPECT_EQ(ratio.totals(15).failures, 0u);
}

TEST(WindowedRatioTest, FutureEventsAreNotCountedYet) {
  WindowedRatio ratio(60);
  ratio.record(true, 200);
  EXPECT_EQ(ratio.totals(199.5).events, 0u);
  EXPECT_EQ(ratio.totals(200).events, 1u);
}

TEST(WindowedRatioTest, RejectsEmptyWindow) {
  EXPECT_THROW(WindowedRatio(0), std::invalid_argument);
}

TEST(WindowedRatioTest, ConcurrentRecordsAreAllCounted) {
  WindowedRatio ratio(60);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ratio] {
      for (int i = 0; i < kPerThread; ++i) ratio.record(i % 4 == 0, 10.0 + (i % 30));
    });
  }
  for (auto& thread : threads) thread.join();
  const auto totals = ratio.totals(45);
  EXPECT_EQ(totals.events, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(totals.failures, uint64_t{kThreads * kPerThread / 4});
}

}  // namespace
}  // namespace trafficsim::telemetry
