#include "core/arrival_schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/random.hpp"

namespace trafficsim::core {
namespace {

constexpr uint64_t kSeed = 0x5eed;

std::vector<Arrival> collect(const RateProfile& profile, ArrivalProcess process, uint64_t first,
                             uint64_t stride, uint64_t seed = kSeed,
                             uint64_t stream = stream_key("checkout")) {
  ArrivalSchedule schedule(profile, process, seed, stream, first, stride);
  std::vector<Arrival> out;
  while (auto a = schedule.next()) out.push_back(*a);
  return out;
}

std::string process_name(ArrivalProcess p) {
  return p == ArrivalProcess::uniform ? "uniform" : "poisson";
}

// Checks that the partitions (first_i, stride) are disjoint and together are exactly `whole`,
// with bit-identical times.
void expect_partitions_cover(const std::vector<Arrival>& whole,
                             const std::vector<std::vector<Arrival>>& parts,
                             const std::vector<uint64_t>& firsts, uint64_t stride) {
  std::map<uint64_t, double> merged;
  for (size_t i = 0; i < parts.size(); ++i) {
    double previous = 0;
    for (const Arrival& a : parts[i]) {
      EXPECT_EQ(a.k % stride, firsts[i] % stride) << "k " << a.k << " in partition " << i;
      EXPECT_GE(a.intended_s, previous);
      previous = a.intended_s;
      EXPECT_TRUE(merged.emplace(a.k, a.intended_s).second) << "k " << a.k << " twice";
    }
  }
  ASSERT_EQ(merged.size(), whole.size());
  for (const Arrival& a : whole) {
    auto it = merged.find(a.k);
    ASSERT_NE(it, merged.end()) << "k " << a.k << " missing";
    EXPECT_EQ(it->second, a.intended_s) << "k " << a.k;  // identical, not just close
  }
}

std::vector<RateProfile> partition_profiles() {
  return {RateProfile::constant(50, 20), RateProfile::linear_ramp(0, 120, 25),
          RateProfile::steps({{3, 40}, {2, 0}, {4, 90}})};
}

TEST(ArrivalScheduleTest, PartitionsUnionToTheWholeStream) {
  for (ArrivalProcess process : {ArrivalProcess::uniform, ArrivalProcess::poisson}) {
    for (const RateProfile& profile : partition_profiles()) {
      SCOPED_TRACE(process_name(process));
      std::vector<Arrival> whole = collect(profile, process, 0, 1);
      ASSERT_GT(whole.size(), 100u);
      for (uint64_t n = 1; n <= 7; ++n) {
        SCOPED_TRACE("n = " + std::to_string(n));
        std::vector<std::vector<Arrival>> parts;
        std::vector<uint64_t> firsts;
        for (uint64_t i = 0; i < n; ++i) {
          parts.push_back(collect(profile, process, i, n));
          firsts.push_back(i);
        }
        expect_partitions_cover(whole, parts, firsts, n);
      }
    }
  }
}

TEST(ArrivalScheduleTest, NestedPartitionsUnionToTheWholeStream) {
  // Segment i of n, then worker w of W within it: k = i + n*w + n*W*j.
  for (ArrivalProcess process : {ArrivalProcess::uniform, ArrivalProcess::poisson}) {
    SCOPED_TRACE(process_name(process));
    auto profile = RateProfile::peak(200, 15);
    std::vector<Arrival> whole = collect(profile, process, 0, 1);
    const std::vector<std::pair<uint64_t, uint64_t>> splits = {{3, 4}, {5, 2}, {2, 7}, {1, 3}};
    for (auto [n, W] : splits) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", W = " + std::to_string(W));
      std::vector<std::vector<Arrival>> parts;
      std::vector<uint64_t> firsts;
      for (uint64_t i = 0; i < n; ++i) {
        for (uint64_t w = 0; w < W; ++w) {
          parts.push_back(collect(profile, process, i + n * w, n * W));
          firsts.push_back(i + n * w);
        }
      }
      expect_partitions_cover(whole, parts, firsts, n * W);
    }
  }
}

TEST(ArrivalScheduleTest, PoissonCountMatchesTheRate) {
  auto profile = RateProfile::constant(1000, 60);
  std::vector<Arrival> all = collect(profile, ArrivalProcess::poisson, 0, 1);
  const double expected = 60000, sigma = std::sqrt(expected);
  EXPECT_NEAR(static_cast<double>(all.size()), expected, 4 * sigma);
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].k, i);
    ASSERT_LT(all[i].intended_s, 60);
    if (i > 0) {
      ASSERT_GE(all[i].intended_s, all[i - 1].intended_s);
    }
  }
  EXPECT_EQ(all.front().intended_s, 0);
  // Gaps are Exp(1000): mean 1 ms, and about e^-1 of them longer than the mean.
  double longer = 0;
  for (size_t i = 1; i < all.size(); ++i)
    longer += all[i].intended_s - all[i - 1].intended_s > 1e-3;
  EXPECT_NEAR(longer / static_cast<double>(all.size() - 1), std::exp(-1.0), 0.01);
}

TEST(ArrivalScheduleTest, PoissonFollowsARamp) {
  auto profile = RateProfile::linear_ramp(100, 2000, 30);
  std::vector<Arrival> all = collect(profile, ArrivalProcess::poisson, 0, 1, 77);
  const int windows = 10;
  const double width = 30.0 / windows;
  for (int w = 0; w < windows; ++w) {
    double a = w * width, b = (w + 1) * width;
    double expected = profile.integral(a, b);
    double count = 0;
    for (const Arrival& arrival : all) count += arrival.intended_s >= a && arrival.intended_s < b;
    EXPECT_NEAR(count, expected, 5 * std::sqrt(expected)) << "window " << w;
  }
}

TEST(ArrivalScheduleTest, UniformCountIsTheTotal) {
  for (const RateProfile& profile :
       {RateProfile::constant(1000, 60), RateProfile::constant(7.3, 13.7),
        RateProfile::linear_ramp(0, 77, 9.5), RateProfile::peak(333, 17),
        RateProfile::steps({{2, 10}, {1, 0}, {2.5, 3.3}, {1, 0}})}) {
    auto all = collect(profile, ArrivalProcess::uniform, 0, 1);
    double expected = std::ceil(profile.total_arrivals());
    EXPECT_NEAR(static_cast<double>(all.size()), expected, 1) << profile.total_arrivals();
    EXPECT_EQ(all.front().intended_s, 0);
  }
  EXPECT_EQ(collect(RateProfile::constant(1000, 60), ArrivalProcess::uniform, 0, 1).size(), 60000u);
}

TEST(ArrivalScheduleTest, UniformArrivalsAreAtTheInverseCumulative) {
  auto profile = RateProfile::linear_ramp(10, 50, 10);
  auto all = collect(profile, ArrivalProcess::uniform, 3, 5);
  ASSERT_FALSE(all.empty());
  for (const Arrival& a : all) {
    EXPECT_EQ(a.intended_s, profile.inverse_cumulative(static_cast<double>(a.k)));
  }
}

TEST(ArrivalScheduleTest, PoissonDependsOnSeedAndStreamOnly) {
  auto profile = RateProfile::constant(100, 10);
  auto a = collect(profile, ArrivalProcess::poisson, 0, 1, 1, 10);
  auto b = collect(profile, ArrivalProcess::poisson, 0, 1, 1, 10);
  auto other_seed = collect(profile, ArrivalProcess::poisson, 0, 1, 2, 10);
  auto other_stream = collect(profile, ArrivalProcess::poisson, 0, 1, 1, 11);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].intended_s, b[i].intended_s);
  EXPECT_NE(a[1].intended_s, other_seed[1].intended_s);
  EXPECT_NE(a[1].intended_s, other_stream[1].intended_s);
  // Arrival k sits at inverse_cumulative(E_0 + ... + E_{k-1}).
  double sum = 0;
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(a[k].intended_s, profile.inverse_cumulative(sum));
    sum += ArrivalRandom(1, 10, k, Lane::gap).exponential();
  }
}

TEST(ArrivalScheduleTest, PeekDoesNotConsume) {
  auto profile = RateProfile::constant(10, 1);
  ArrivalSchedule s(profile, ArrivalProcess::uniform, kSeed, 1, 2, 3);
  auto p1 = s.peek();
  auto p2 = s.peek();
  ASSERT_TRUE(p1 && p2);
  EXPECT_EQ(p1->k, 2u);
  EXPECT_EQ(p2->k, 2u);
  auto n1 = s.next();
  ASSERT_TRUE(n1);
  EXPECT_EQ(n1->k, 2u);
  EXPECT_DOUBLE_EQ(n1->intended_s, 0.2);
  EXPECT_EQ(s.next()->k, 5u);
  EXPECT_EQ(s.peek()->k, 8u);
  EXPECT_EQ(s.next()->k, 8u);
  EXPECT_EQ(s.peek(), std::nullopt);  // k = 11 is past the end
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_EQ(s.next(), std::nullopt);
}

TEST(ArrivalScheduleTest, EmptyAndDegenerateProfiles) {
  auto zero_rate = RateProfile::constant(0, 10);
  // Arrival 0 is at t = 0 by definition; the cumulative never reaches 1.
  EXPECT_EQ(collect(zero_rate, ArrivalProcess::uniform, 0, 1).size(), 1u);
  EXPECT_EQ(collect(zero_rate, ArrivalProcess::poisson, 0, 1).size(), 1u);
  auto zero_length = RateProfile::constant(100, 0);
  EXPECT_TRUE(collect(zero_length, ArrivalProcess::uniform, 0, 1).empty());
  EXPECT_TRUE(collect(zero_length, ArrivalProcess::poisson, 0, 1).empty());
  // A partition starting beyond the total is empty.
  EXPECT_TRUE(collect(RateProfile::constant(10, 1), ArrivalProcess::uniform, 10, 1).empty());
  // A huge stride does not overflow k.
  auto big = collect(RateProfile::constant(10, 1), ArrivalProcess::uniform, 1, UINT64_MAX);
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].k, 1u);
  EXPECT_THROW(ArrivalSchedule(zero_rate, ArrivalProcess::uniform, 0, 0, 0, 0),
               std::invalid_argument);
}


std::vector<Arrival> collect_jittered(const RateProfile& profile, ArrivalProcess process,
                                      GapJitter jitter, uint64_t first, uint64_t stride) {
  ArrivalSchedule schedule(profile, process, kSeed, stream_key("checkout"), first, stride, jitter);
  std::vector<Arrival> out;
  while (auto a = schedule.next()) out.push_back(*a);
  return out;
}

TEST(ArrivalScheduleTest, GapJitterLengthensEveryUniformGapWithinItsBounds) {
  const double rate = 100, a = 0.002, b = 0.010;
  auto profile = RateProfile::constant(rate, 60);
  auto all = collect_jittered(profile, ArrivalProcess::uniform, {a, b}, 0, 1);
  ASSERT_GT(all.size(), 1000u);
  EXPECT_EQ(all.front().intended_s, 0);
  double sum = 0;
  for (size_t i = 1; i < all.size(); ++i) {
    ASSERT_EQ(all[i].k, i);
    double gap = all[i].intended_s - all[i - 1].intended_s;
    ASSERT_GE(gap, 1 / rate + a - 1e-9) << "gap " << i;
    ASSERT_LE(gap, 1 / rate + b + 1e-9) << "gap " << i;
    sum += gap;
  }
  const double mean = sum / static_cast<double>(all.size() - 1);
  // d ~ U(a, b): standard deviation (b - a) / sqrt(12) per gap, / sqrt(n) for the mean of n.
  EXPECT_NEAR(mean, 1 / rate + (a + b) / 2,
              4 * (b - a) / std::sqrt(12.0 * static_cast<double>(all.size() - 1)));
  // The schedule ends at the profile's end: the count follows the longer mean gap.
  EXPECT_LT(all.back().intended_s, 60);
  // (The sum of n jitters has standard deviation (b - a) sqrt(n / 12): about 9 gaps here.)
  const double mean_gap = 1 / rate + (a + b) / 2, n = 60 / mean_gap;
  EXPECT_NEAR(static_cast<double>(all.size()), n,
              4 * (b - a) * std::sqrt(n / 12) / mean_gap + 1);
  // Arrival k is exactly tau_k + d_1 + ... + d_k.
  double shift = 0;
  for (uint64_t k = 1; k < 20; ++k) {
    shift += a + (b - a) * ArrivalRandom(kSeed, stream_key("checkout") ^ kGapJitterKeySalt, k,
                                         Lane::gap)
                               .next_unit();
    EXPECT_EQ(all[k].intended_s, profile.inverse_cumulative(static_cast<double>(k)) + shift);
  }
}

TEST(ArrivalScheduleTest, GapJitterAddsToPoissonGapsOnAverage) {
  const double rate = 200, a = 0.001, b = 0.004;
  auto profile = RateProfile::constant(rate, 120);
  auto plain = collect_jittered(profile, ArrivalProcess::poisson, {}, 0, 1);
  auto all = collect_jittered(profile, ArrivalProcess::poisson, {a, b}, 0, 1);
  ASSERT_GT(all.size(), 1000u);
  const double mean =
      (all.back().intended_s - all.front().intended_s) / static_cast<double>(all.size() - 1);
  EXPECT_NEAR(mean, 1 / rate + (a + b) / 2, 0.05 * (1 / rate));
  // Each gap is the Poisson gap of the same k (the jitter draws are a stream of their own,
  // so the exponential draws are unchanged) plus a value in [a, b].
  for (size_t i = 1; i < all.size(); ++i) {
    double poisson_gap = plain[i].intended_s - plain[i - 1].intended_s;
    double gap = all[i].intended_s - all[i - 1].intended_s;
    ASSERT_GE(gap - poisson_gap, a - 1e-9) << i;
    ASSERT_LE(gap - poisson_gap, b + 1e-9) << i;
  }
}

TEST(ArrivalScheduleTest, GapJitterPartitionsUnionToTheWholeStream) {
  for (ArrivalProcess process : {ArrivalProcess::uniform, ArrivalProcess::poisson}) {
    for (const RateProfile& profile : partition_profiles()) {
      SCOPED_TRACE(process_name(process));
      const GapJitter jitter{0.001, 0.02};
      std::vector<Arrival> whole = collect_jittered(profile, process, jitter, 0, 1);
      ASSERT_GT(whole.size(), 50u);
      for (uint64_t n : {2u, 3u, 5u}) {
        SCOPED_TRACE("n = " + std::to_string(n));
        std::vector<std::vector<Arrival>> parts;
        std::vector<uint64_t> firsts;
        for (uint64_t i = 0; i < n; ++i) {
          parts.push_back(collect_jittered(profile, process, jitter, i, n));
          firsts.push_back(i);
        }
        expect_partitions_cover(whole, parts, firsts, n);
      }
    }
  }
}

TEST(ArrivalScheduleTest, GapJitterIsValidated) {
  auto profile = RateProfile::constant(10, 1);
  EXPECT_THROW(ArrivalSchedule(profile, ArrivalProcess::uniform, 0, 0, 0, 1, {-0.1, 0.2}),
               std::invalid_argument);
  EXPECT_THROW(ArrivalSchedule(profile, ArrivalProcess::uniform, 0, 0, 0, 1, {0.3, 0.2}),
               std::invalid_argument);
  EXPECT_THROW(ArrivalSchedule(profile, ArrivalProcess::uniform, 0, 0, 0, 1,
                               {0, std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
  // A fixed extra gap (min == max) is allowed: 10 rps + 0.1 s = one arrival per 0.2 s.
  auto fixed = collect_jittered(profile, ArrivalProcess::uniform, {0.1, 0.1}, 0, 1);
  ASSERT_EQ(fixed.size(), 5u);
  EXPECT_NEAR(fixed[4].intended_s, 0.8, 1e-9);
}

}  // namespace
}  // namespace trafficsim::core
