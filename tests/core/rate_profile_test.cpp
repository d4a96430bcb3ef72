#include "core/rate_profile.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace trafficsim::core {
namespace {

using ::testing::HasSubstr;

struct NamedProfile {
  std::string name;
  RateProfile profile;
};

std::vector<NamedProfile> sample_profiles() {
  return {
      {"constant", RateProfile::constant(1000, 10)},
      {"constant_fractional", RateProfile::constant(7.3, 13.7)},
      {"ramp_up", RateProfile::linear_ramp(0, 500, 20)},
      {"ramp_down", RateProfile::linear_ramp(300, 10, 20)},
      {"ramp_to_zero", RateProfile::linear_ramp(250, 0, 8)},
      {"peak", RateProfile::peak(800, 30)},
      {"steps", RateProfile::steps({{2, 100}, {3, 0}, {1, 1000}, {4, 37.5}, {0.5, 0}})},
      {"table", RateProfile::table({{0, 0}, {5, 200}, {5, 50}, {10, 50}, {12, 400}, {20, 0}}, 18)},
  };
}

// Arrival k of a uniform schedule sits at inverse_cumulative(k); these are all that fall before
// the end.
std::vector<double> uniform_arrivals(const RateProfile& p) {
  std::vector<double> times;
  for (uint64_t k = 0;; ++k) {
    double t = p.inverse_cumulative(static_cast<double>(k));
    if (!(t < p.duration_s())) break;
    times.push_back(t);
  }
  return times;
}

TEST(RateProfileTest, UniformArrivalsMatchTheIntegralInEveryWindow) {
  std::mt19937_64 rng(20240601);
  for (const auto& [name, p] : sample_profiles()) {
    SCOPED_TRACE(name);
    std::vector<double> times = uniform_arrivals(p);
    ASSERT_FALSE(times.empty());
    ASSERT_TRUE(std::is_sorted(times.begin(), times.end()));
    std::uniform_real_distribution<double> at(0, p.duration_s());
    auto count_in = [&](double a, double b) {  // arrivals in [a, b)
      return std::lower_bound(times.begin(), times.end(), b) -
             std::lower_bound(times.begin(), times.end(), a);
    };
    auto check = [&](double a, double b) {
      double expected = p.integral(a, b);
      auto got = static_cast<double>(count_in(a, b));
      EXPECT_LE(std::abs(got - expected), 1 + 1e-9)
          << "window [" << a << ", " << b << "): " << got << " arrivals, integral " << expected;
    };
    for (int i = 0; i < 2000; ++i) {
      double a = at(rng), b = at(rng);
      if (a > b) std::swap(a, b);
      check(a, b);
    }
    // Short windows, windows starting at knots (steps), and the whole run.
    std::uniform_real_distribution<double> short_len(0, p.duration_s() / 100);
    for (int i = 0; i < 500; ++i) {
      double a = at(rng);
      check(a, std::min(p.duration_s(), a + short_len(rng)));
    }
    for (const auto& knot : p.knots()) {
      check(0, knot.t_s);
      check(knot.t_s, p.duration_s());
    }
    check(0, p.duration_s());
  }
}

TEST(RateProfileTest, InverseCumulativeInvertsCumulative) {
  std::mt19937_64 rng(99);
  for (const auto& [name, p] : sample_profiles()) {
    SCOPED_TRACE(name);
    double total = p.total_arrivals();
    std::uniform_real_distribution<double> frac(0, 1);
    for (int i = 0; i < 2000; ++i) {
      double x = frac(rng) * total;
      double t = p.inverse_cumulative(x);
      ASSERT_GE(t, 0);
      ASSERT_LE(t, p.duration_s());
      EXPECT_NEAR(p.cumulative(t), x, 1e-9 * std::max(1.0, total));
      // Smallest such t: a little earlier, cumulative is clearly short of x.
      if (t > 1e-3 && p.rate_at(t - 1e-3) > 1) {
        EXPECT_LT(p.cumulative(t - 1e-3), x);
      }
    }
    EXPECT_EQ(p.inverse_cumulative(0), 0);
    EXPECT_EQ(p.inverse_cumulative(-5), 0);
    EXPECT_EQ(p.inverse_cumulative(total * (1 + 1e-6) + 1e-6), RateProfile::kInfinity);
    EXPECT_EQ(p.inverse_cumulative(std::nan("")), RateProfile::kInfinity);
    EXPECT_LE(p.inverse_cumulative(total), p.duration_s());
  }
}

TEST(RateProfileTest, InverseAtTotalReturnsDurationDespiteRounding) {
  auto p = RateProfile::constant(1000, 60);
  EXPECT_EQ(p.inverse_cumulative(p.total_arrivals()), 60);
  EXPECT_EQ(p.inverse_cumulative(60000), 60);
  // A few ulps above the total is still "the total", not infinity.
  EXPECT_EQ(p.inverse_cumulative(std::nextafter(60000.0, 1e9)), 60);
  auto ramp = RateProfile::linear_ramp(3.3, 7.7, 11.1);
  EXPECT_DOUBLE_EQ(ramp.inverse_cumulative(ramp.total_arrivals()), 11.1);
}

TEST(RateProfileTest, InverseSkipsZeroRateStretches) {
  auto p = RateProfile::steps({{1, 10}, {2, 0}, {1, 10}});
  EXPECT_DOUBLE_EQ(p.total_arrivals(), 20);
  EXPECT_DOUBLE_EQ(p.cumulative(2), 10);
  // cumulative is 10 all over [1, 3]: the first such t is 1.
  EXPECT_DOUBLE_EQ(p.inverse_cumulative(10), 1);
  EXPECT_DOUBLE_EQ(p.inverse_cumulative(10.5), 3.05);
  EXPECT_DOUBLE_EQ(p.inverse_cumulative(9.5), 0.95);
  // Starting with a zero stretch: the first arrival beyond 0 waits for the rate to rise.
  auto late = RateProfile::steps({{5, 0}, {1, 100}});
  EXPECT_DOUBLE_EQ(late.inverse_cumulative(1), 5.01);
  EXPECT_EQ(late.inverse_cumulative(0), 0);
}

TEST(RateProfileTest, ConstantAndRamp) {
  auto c = RateProfile::constant(100, 10);
  EXPECT_DOUBLE_EQ(c.total_arrivals(), 1000);
  EXPECT_DOUBLE_EQ(c.rate_at(0), 100);
  EXPECT_DOUBLE_EQ(c.rate_at(9.99), 100);
  EXPECT_EQ(c.rate_at(10), 0);  // right-continuous: nothing is sent after the end
  EXPECT_EQ(c.rate_at(-1), 0);
  EXPECT_DOUBLE_EQ(c.inverse_cumulative(1), 0.01);
  EXPECT_DOUBLE_EQ(c.integral(2, 3), 100);

  auto r = RateProfile::linear_ramp(0, 100, 10);
  EXPECT_DOUBLE_EQ(r.total_arrivals(), 500);
  EXPECT_DOUBLE_EQ(r.rate_at(5), 50);
  EXPECT_DOUBLE_EQ(r.cumulative(5), 125);
  EXPECT_DOUBLE_EQ(r.inverse_cumulative(125), 5);
  EXPECT_DOUBLE_EQ(r.peak_rate(), 100);
  // Starting from rate 0 the root is sqrt(2x/a): x = 0.5 at a = 10 -> t = sqrt(0.1).
  EXPECT_DOUBLE_EQ(r.inverse_cumulative(0.5), std::sqrt(0.1));
}

TEST(RateProfileTest, PeakShape) {
  const double peak = 400, duration = 60;
  auto p = RateProfile::peak(peak, duration);
  EXPECT_EQ(p.rate_at(0), 0);
  EXPECT_DOUBLE_EQ(p.rate_at(0.125 * duration), peak / 2);
  for (double f : {0.25, 0.3, 0.5, 0.7, 0.7499}) EXPECT_DOUBLE_EQ(p.rate_at(f * duration), peak);
  EXPECT_DOUBLE_EQ(p.rate_at(0.875 * duration), peak / 2);
  EXPECT_NEAR(p.rate_at(duration - 1e-9), 0, 1e-5);
  EXPECT_EQ(p.rate_at(duration), 0);
  EXPECT_DOUBLE_EQ(p.total_arrivals(), 0.75 * peak * duration);
  EXPECT_DOUBLE_EQ(p.peak_rate(), peak);
  EXPECT_DOUBLE_EQ(p.cumulative(0.25 * duration), 0.125 * peak * duration);
  double previous = -1;
  for (double t = 0; t < 0.25 * duration; t += 0.1) {
    EXPECT_GT(p.rate_at(t), previous);
    previous = p.rate_at(t);
  }
}

TEST(RateProfileTest, StepsAreRightContinuous) {
  auto p = RateProfile::steps({{2, 100}, {3, 0}, {1, 50}});
  EXPECT_DOUBLE_EQ(p.duration_s(), 6);
  EXPECT_DOUBLE_EQ(p.rate_at(1.999), 100);
  EXPECT_EQ(p.rate_at(2), 0);
  EXPECT_EQ(p.rate_at(4.999), 0);
  EXPECT_DOUBLE_EQ(p.rate_at(5), 50);
  EXPECT_DOUBLE_EQ(p.total_arrivals(), 250);
  EXPECT_DOUBLE_EQ(p.peak_rate(), 100);
  // Zero-length steps contribute nothing.
  auto q = RateProfile::steps({{1, 10}, {0, 999}, {1, 20}});
  EXPECT_DOUBLE_EQ(q.total_arrivals(), 30);
  EXPECT_DOUBLE_EQ(q.peak_rate(), 20);
}

TEST(RateProfileTest, TableHoldsLastRateAndCutsAtDuration) {
  auto hold = RateProfile::table({{0, 10}, {2, 20}}, 5);
  EXPECT_DOUBLE_EQ(hold.rate_at(4), 20);
  EXPECT_DOUBLE_EQ(hold.total_arrivals(), 30 + 60);
  EXPECT_DOUBLE_EQ(hold.knots().back().t_s, 5);

  auto cut = RateProfile::table({{0, 0}, {10, 100}, {20, 0}}, 5);
  EXPECT_DOUBLE_EQ(cut.duration_s(), 5);
  EXPECT_DOUBLE_EQ(cut.rate_at(4.5), 45);
  EXPECT_DOUBLE_EQ(cut.total_arrivals(), 125);
  EXPECT_DOUBLE_EQ(cut.knots().back().rate_rps, 50);
  for (const auto& k : cut.knots()) EXPECT_LE(k.t_s, 5);

  // A step exactly at the end is never in effect: the end takes the rate arriving from the left.
  auto step_at_end = RateProfile::table({{0, 10}, {5, 10}, {5, 1000}}, 5);
  EXPECT_DOUBLE_EQ(step_at_end.total_arrivals(), 50);
  EXPECT_DOUBLE_EQ(step_at_end.peak_rate(), 10);

  auto steps_inside = RateProfile::table({{0, 10}, {1, 10}, {1, 30}, {3, 30}}, 3);
  EXPECT_DOUBLE_EQ(steps_inside.rate_at(0.5), 10);
  EXPECT_DOUBLE_EQ(steps_inside.rate_at(1), 30);
  EXPECT_DOUBLE_EQ(steps_inside.total_arrivals(), 70);
}

TEST(RateProfileTest, ZeroDurationProfile) {
  auto p = RateProfile::constant(100, 0);
  EXPECT_EQ(p.total_arrivals(), 0);
  EXPECT_EQ(p.rate_at(0), 0);
  EXPECT_EQ(p.inverse_cumulative(0), 0);
  EXPECT_EQ(p.inverse_cumulative(1), RateProfile::kInfinity);
  EXPECT_TRUE(uniform_arrivals(p).empty());
}

TEST(RateProfileTest, ClampedMatchesPointwiseMinimum) {
  std::mt19937_64 rng(5);
  for (const auto& [name, p] : sample_profiles()) {
    for (double max_rps : {0.0, 5.0, 40.0, 120.0, 333.3, 750.0, 2000.0}) {
      SCOPED_TRACE(name + " max " + std::to_string(max_rps));
      auto c = p.clamped(max_rps);
      EXPECT_LE(c.peak_rate(), max_rps);
      EXPECT_DOUBLE_EQ(c.duration_s(), p.duration_s());
      std::uniform_real_distribution<double> at(0, p.duration_s());
      for (int i = 0; i < 300; ++i) {
        double t = at(rng);
        EXPECT_NEAR(c.rate_at(t), std::min(p.rate_at(t), max_rps), 1e-9 * (1 + max_rps));
      }
      // Reference integral of min(rate, max), independent of clamped(): a fine trapezoid rule
      // inside each original segment (linear there, so the only error is at the one kink).
      double reference = 0;
      const auto& k = p.knots();
      for (size_t i = 0; i + 1 < k.size(); ++i) {
        const int m = 20000;
        double h = (k[i + 1].t_s - k[i].t_s) / m;
        for (int j = 0; j < m; ++j) {
          double ra = k[i].rate_rps + (k[i + 1].rate_rps - k[i].rate_rps) * j / m;
          double rb = k[i].rate_rps + (k[i + 1].rate_rps - k[i].rate_rps) * (j + 1) / m;
          reference += 0.5 * h * (std::min(ra, max_rps) + std::min(rb, max_rps));
        }
      }
      EXPECT_NEAR(c.total_arrivals(), reference, 1e-6 * std::max(1.0, reference));
    }
  }
}

TEST(RateProfileTest, ClampedSplitsCrossingSegmentsExactly) {
  auto r = RateProfile::linear_ramp(0, 100, 10).clamped(50);
  EXPECT_DOUBLE_EQ(r.total_arrivals(), 125 + 250);
  EXPECT_DOUBLE_EQ(r.rate_at(5), 50);
  EXPECT_DOUBLE_EQ(r.rate_at(2.5), 25);
  EXPECT_DOUBLE_EQ(r.integral(4, 6), 45 + 50);

  auto peak = RateProfile::peak(100, 8).clamped(40);  // crosses 40 at t = 0.8 and t = 7.2
  EXPECT_DOUBLE_EQ(peak.total_arrivals(), 16 + 40 * 6.4 + 16);
  EXPECT_DOUBLE_EQ(peak.integral(0, 0.8), 16);

  auto unchanged = RateProfile::peak(100, 8).clamped(1000);
  EXPECT_DOUBLE_EQ(unchanged.total_arrivals(), RateProfile::peak(100, 8).total_arrivals());
  EXPECT_EQ(RateProfile::peak(100, 8).clamped(0).total_arrivals(), 0);
}

TEST(RateProfileTest, Scaled) {
  auto p = RateProfile::peak(100, 8);
  EXPECT_DOUBLE_EQ(p.scaled(2.5).total_arrivals(), 2.5 * p.total_arrivals());
  EXPECT_DOUBLE_EQ(p.scaled(2.5).peak_rate(), 250);
  EXPECT_EQ(p.scaled(0).total_arrivals(), 0);
}

std::string thrown_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no exception>";
}

TEST(RateProfileTest, RejectsInvalidInput) {
  EXPECT_THAT(thrown_message([] { RateProfile::constant(-1, 10); }), HasSubstr("rate"));
  EXPECT_THAT(thrown_message([] { RateProfile::constant(1, -10); }), HasSubstr("duration"));
  EXPECT_THAT(thrown_message([] { RateProfile::constant(std::nan(""), 10); }), HasSubstr("rate"));
  EXPECT_THAT(thrown_message([] { RateProfile::constant(1, RateProfile::kInfinity); }),
              HasSubstr("duration"));
  EXPECT_THAT(thrown_message([] { RateProfile::linear_ramp(1, -2, 10); }), HasSubstr("rate"));
  EXPECT_THAT(thrown_message([] { RateProfile::peak(-5, 10); }), HasSubstr("rate"));
  EXPECT_THAT(thrown_message([] { RateProfile::steps({{1, 10}, {-1, 10}}); }), HasSubstr("length"));
  EXPECT_THAT(thrown_message([] { RateProfile::steps({{1, 10}, {1, -10}}); }), HasSubstr("rate"));
  EXPECT_THAT(thrown_message([] { RateProfile::steps({}); }), HasSubstr("step"));
  EXPECT_THAT(thrown_message([] {
                RateProfile::table({{0, 1}, {5, 2}, {3, 4}}, 10);
              }),
              HasSubstr("non-decreasing"));
  EXPECT_THAT(thrown_message([] {
                RateProfile::table({{1, 1}, {5, 2}}, 10);
              }),
              HasSubstr("first point"));
  EXPECT_THAT(thrown_message([] { RateProfile::table({{0, 1}, {5, -2}}, 10); }), HasSubstr("rate"));
  EXPECT_THAT(thrown_message([] { RateProfile::table({}, 10); }), HasSubstr("table"));
  EXPECT_THAT(thrown_message([] { RateProfile::table({{0, 1}}, -1); }), HasSubstr("duration"));
  auto p = RateProfile::constant(10, 10);
  EXPECT_THAT(thrown_message([&] { p.clamped(-1); }), HasSubstr("clamp"));
  EXPECT_THAT(thrown_message([&] { p.scaled(-1); }), HasSubstr("scale"));
}

}  // namespace
}  // namespace trafficsim::core
