// The metric generator's contract: before the onset a metric stays at its baseline within its
// noise; after it each pattern has its shape (spike, step, gradual and drop end at the value,
// flapping alternates); values never leave [min, max]; and the numbers are a pure function of
// (seed, metric, time) — the same seed gives the same series, another seed other noise.
#include "incidents/metric_pattern.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace trafficsim::incidents {
namespace {

constexpr double kDuration = 200;  // seconds
constexpr uint64_t kSeed = 42;

MetricSpec spec(MetricPattern pattern, double baseline = 100, double value = 500,
                double sigma = 10) {
  MetricSpec m;
  m.name = "test_metric";
  m.baseline = baseline;
  m.value = value;
  m.sigma = sigma;
  m.pattern = pattern;
  m.onset = 0.2;  // 40 s of 200
  m.min = 0;
  return m;
}

std::vector<double> slice(const std::vector<double>& v, size_t from, size_t to) {
  return {v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to)};
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Before the onset (t < 40 s) every sample lies within 5σ of the baseline, and their mean within
// 1σ: the anomaly has not begun.
void expect_quiet_before_onset(const MetricSpec& m) {
  auto series = metric_series(m, kDuration, 1, kSeed);
  auto before = slice(series, 0, 40);
  for (double v : before) EXPECT_LE(std::abs(v - m.baseline), 5 * m.sigma) << to_string(m.pattern);
  EXPECT_NEAR(mean(before), m.baseline, m.sigma) << to_string(m.pattern);
}

TEST(IncidentMetricPatternTest, EveryPatternIsAtBaselineBeforeTheOnset) {
  for (auto p : {MetricPattern::spike, MetricPattern::gradual, MetricPattern::step,
                 MetricPattern::flapping, MetricPattern::baseline})
    expect_quiet_before_onset(spec(p));
  expect_quiet_before_onset(spec(MetricPattern::drop, 800, 50, 100));
}

TEST(IncidentMetricPatternTest, SpikeRisesQuicklyToTheValueAndHolds) {
  MetricSpec m = spec(MetricPattern::spike);
  // The rise takes 5% of the duration: 10 s after the 40 s onset it is at the value.
  EXPECT_DOUBLE_EQ(pattern_level(m, 39.9, kDuration), 100);
  EXPECT_GT(pattern_level(m, 45, kDuration), 100);
  EXPECT_LT(pattern_level(m, 45, kDuration), 500);
  for (double t : {50.0, 100.0, 199.0, 200.0})
    EXPECT_DOUBLE_EQ(pattern_level(m, t, kDuration), 500);
  auto series = metric_series(m, kDuration, 1, kSeed);
  EXPECT_NEAR(mean(slice(series, 60, series.size())), 500, m.sigma);
  EXPECT_NEAR(series.back(), 500, 5 * m.sigma);
}

TEST(IncidentMetricPatternTest, StepJumpsToTheValueAtTheOnset) {
  MetricSpec m = spec(MetricPattern::step);
  EXPECT_DOUBLE_EQ(pattern_level(m, 39.9, kDuration), 100);
  EXPECT_DOUBLE_EQ(pattern_level(m, 40, kDuration), 500);
  auto series = metric_series(m, kDuration, 1, kSeed);
  EXPECT_NEAR(mean(slice(series, 40, series.size())), 500, m.sigma);
  EXPECT_NEAR(series.back(), 500, 5 * m.sigma);
}

TEST(IncidentMetricPatternTest, GradualClimbsLinearlyToReachTheValueAtTheEnd) {
  MetricSpec m = spec(MetricPattern::gradual);
  EXPECT_DOUBLE_EQ(pattern_level(m, 40, kDuration), 100);
  EXPECT_DOUBLE_EQ(pattern_level(m, 120, kDuration), 300) << "half way from onset to end";
  EXPECT_DOUBLE_EQ(pattern_level(m, 200, kDuration), 500);
  double previous = 0;
  for (double t = 40; t <= 200; t += 10) {
    double level = pattern_level(m, t, kDuration);
    EXPECT_GT(level, previous) << "t=" << t;
    previous = level;
  }
  auto series = metric_series(m, kDuration, 1, kSeed);
  EXPECT_NEAR(series.back(), 500, 5 * m.sigma);
}

TEST(IncidentMetricPatternTest, DropFallsQuicklyToTheValueBelowTheBaseline) {
  MetricSpec m = spec(MetricPattern::drop, 800, 50, 100);
  EXPECT_DOUBLE_EQ(pattern_level(m, 39, kDuration), 800);
  EXPECT_DOUBLE_EQ(pattern_level(m, 60, kDuration), 50);
  auto series = metric_series(m, kDuration, 1, kSeed);
  EXPECT_NEAR(mean(slice(series, 60, series.size())), 50 + 40, 60)
      << "near 50, a little above: the floor at 0 cuts the noise below";
  EXPECT_LE(series.back(), 50 + 5 * m.sigma);
}

TEST(IncidentMetricPatternTest, FlappingAlternatesBetweenValueAndBaseline) {
  MetricSpec m = spec(MetricPattern::flapping);
  // From the onset (40 s): kFlapSteps steps at the value, as many at the baseline, again ...
  for (int k = 0; k < 8; ++k) {
    double t = 40 + k * kFlapSteps * kStepSeconds + 0.5;
    EXPECT_DOUBLE_EQ(pattern_level(m, t, kDuration), k % 2 == 0 ? 500 : 100) << "t=" << t;
  }
  auto series = metric_series(m, kDuration, 1, kSeed);
  int changes = 0;
  bool high = false;
  for (size_t i = 40; i < series.size(); ++i) {
    bool now = series[i] > 300;  // half way: noise is 10, the gap 400
    if (i > 40 && now != high) ++changes;
    high = now;
  }
  // Samples 40..199 are 32 halves of 5 s (31 changes between them); the sample at 200 s opens a
  // 33rd, at the value again.
  EXPECT_EQ(changes, 32);
}

TEST(IncidentMetricPatternTest, BaselinePatternNeverMoves) {
  MetricSpec m = spec(MetricPattern::baseline);
  for (double t = 0; t <= kDuration; t += 7) EXPECT_DOUBLE_EQ(pattern_level(m, t, kDuration), 100);
}

TEST(IncidentMetricPatternTest, ValuesStayWithinMinAndMax) {
  // Noise as large as the baseline: unclamped, a third of the samples would be negative.
  MetricSpec m = spec(MetricPattern::spike, 10, 95, 20);
  m.max = 100;
  auto series = metric_series(m, kDuration, 0.5, kSeed);
  auto [lo, hi] = std::minmax_element(series.begin(), series.end());
  EXPECT_GE(*lo, 0.0);
  EXPECT_LE(*hi, 100.0);
  EXPECT_EQ(*lo, 0.0) << "the noise does reach below 0 here: the floor is what holds it";
}

TEST(IncidentMetricPatternTest, SameSeedSameSeriesAndAnyOrderOfCalls) {
  MetricSpec m = spec(MetricPattern::gradual);
  auto a = metric_series(m, kDuration, 1, kSeed);
  auto b = metric_series(m, kDuration, 1, kSeed);
  EXPECT_EQ(a, b);
  // No hidden state: a single value asked for on its own is the series' sample.
  EXPECT_EQ(metric_value(m, 123, kDuration, kSeed), a[123]);
  EXPECT_EQ(metric_value(m, 7, kDuration, kSeed), a[7]);
}

TEST(IncidentMetricPatternTest, OtherSeedOrOtherMetricNameGivesOtherNoise) {
  MetricSpec m = spec(MetricPattern::step);
  auto a = metric_series(m, kDuration, 1, kSeed);
  auto b = metric_series(m, kDuration, 1, kSeed + 1);
  MetricSpec renamed = m;
  renamed.name = "other_metric";
  auto c = metric_series(renamed, kDuration, 1, kSeed);
  size_t differ_seed = 0, differ_name = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    differ_seed += a[i] != b[i];
    differ_name += a[i] != c[i];
  }
  EXPECT_EQ(differ_seed, a.size()) << "every sample's noise changes with the seed";
  EXPECT_EQ(differ_name, a.size()) << "metrics of one scenario do not move in lockstep";
  // ... while the shape underneath is the same: both still step from 100 to 500.
  EXPECT_NEAR(mean(slice(b, 0, 40)), 100, m.sigma);
  EXPECT_NEAR(mean(slice(b, 40, b.size())), 500, m.sigma);
}

TEST(IncidentMetricPatternTest, NoiseIsRoughlyStandardNormal) {
  std::vector<double> z;
  for (int64_t k = 0; k < 20000; ++k) z.push_back(standard_noise(7, "noise_check", k));
  double mu = mean(z);
  double var = 0;
  for (double x : z) var += (x - mu) * (x - mu);
  var /= static_cast<double>(z.size());
  EXPECT_NEAR(mu, 0, 0.03);
  EXPECT_NEAR(var, 1, 0.05);
  size_t within_two = std::count_if(z.begin(), z.end(), [](double x) { return std::abs(x) < 2; });
  EXPECT_NEAR(static_cast<double>(within_two) / static_cast<double>(z.size()), 0.9545, 0.01);
}

TEST(IncidentMetricPatternTest, NoiseIsOneDrawPerStep) {
  MetricSpec m = spec(MetricPattern::baseline);
  EXPECT_EQ(metric_value(m, 10.0, kDuration, kSeed), metric_value(m, 10.9, kDuration, kSeed));
  EXPECT_NE(metric_value(m, 10.9, kDuration, kSeed), metric_value(m, 11.0, kDuration, kSeed));
}

TEST(IncidentMetricPatternTest, SeriesSamplesTheEndAndRefusesABadStep) {
  MetricSpec m = spec(MetricPattern::gradual);
  auto series = metric_series(m, 10, 3, kSeed);  // 0, 3, 6, 9 and the end, 10
  ASSERT_EQ(series.size(), 5u);
  EXPECT_EQ(series.back(), metric_value(m, 10, 10, kSeed));
  EXPECT_EQ(metric_series(m, 10, 1, kSeed).size(), 11u);
  EXPECT_THROW(metric_series(m, 10, 0, kSeed), std::invalid_argument);
  EXPECT_THROW(metric_series(m, 86400, 1e-6, kSeed), std::invalid_argument);
  EXPECT_EQ(pattern_level(m, 5, 0), m.baseline) << "no length, no anomaly (and no NaN)";
}

TEST(IncidentMetricPatternTest, DeviationSigmaIsSignedDistanceInSigmas) {
  EXPECT_DOUBLE_EQ(deviation_sigma(8, 2, 6.0 / 5.2), 5.2);
  EXPECT_DOUBLE_EQ(deviation_sigma(50, 800, 100), -7.5);
  EXPECT_DOUBLE_EQ(deviation_sigma(3, 3, 1), 0);
}

}  // namespace
}  // namespace trafficsim::incidents
