// The quantile `validate dual-mode` reads from the target's /metrics: Prometheus' own
// histogram_quantile rule (linear within the bucket, series summed, +Inf answers the largest
// finite bound), so the figure matches what a Grafana panel on the same metrics would show.
#include "cli/validate_command.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using trafficsim::cli::histogram_quantile;

const std::string kExposition =
    "# TYPE d histogram\n"
    "d_bucket{endpoint=\"/a\",traffic_type=\"baseline\",le=\"0.05\"} 30\n"
    "d_bucket{endpoint=\"/a\",traffic_type=\"baseline\",le=\"0.1\"} 40\n"
    "d_bucket{endpoint=\"/a\",traffic_type=\"baseline\",le=\"+Inf\"} 50\n"
    "d_sum{endpoint=\"/a\",traffic_type=\"baseline\"} 4.2\n"
    "d_count{endpoint=\"/a\",traffic_type=\"baseline\"} 50\n"
    "d_bucket{endpoint=\"/b\",traffic_type=\"baseline\",le=\"0.05\"} 20\n"
    "d_bucket{endpoint=\"/b\",traffic_type=\"baseline\",le=\"0.1\"} 50\n"
    "d_bucket{endpoint=\"/b\",traffic_type=\"baseline\",le=\"+Inf\"} 50\n"
    "d_bucket{endpoint=\"/c\",traffic_type=\"demo\",le=\"0.05\"} 0\n"
    "d_bucket{endpoint=\"/c\",traffic_type=\"demo\",le=\"0.1\"} 0\n"
    "d_bucket{endpoint=\"/c\",traffic_type=\"demo\",le=\"+Inf\"} 7\n"
    "other_bucket{traffic_type=\"baseline\",le=\"0.05\"} 1000\n";

TEST(HistogramQuantile, InterpolatesWithinTheBucketOverTheSumOfMatchingSeries) {
  // Baseline: 50 under 50 ms, 90 under 100 ms, 100 in all. p50 = 50 ms * 50/50; p70 lies in
  // (0.05, 0.1]: 0.05 + 0.05 * (70 - 50) / (90 - 50).
  EXPECT_DOUBLE_EQ(*histogram_quantile(kExposition, "d", "traffic_type=\"baseline\"", 0.5), 0.05);
  EXPECT_DOUBLE_EQ(*histogram_quantile(kExposition, "d", "traffic_type=\"baseline\"", 0.7), 0.075);
  EXPECT_DOUBLE_EQ(*histogram_quantile(kExposition, "d", "traffic_type=\"baseline\"", 0.25), 0.025);
}

TEST(HistogramQuantile, AQuantileInTheInfBucketIsTheLargestFiniteBound) {
  EXPECT_DOUBLE_EQ(*histogram_quantile(kExposition, "d", "traffic_type=\"baseline\"", 0.95), 0.1);
  EXPECT_DOUBLE_EQ(*histogram_quantile(kExposition, "d", "traffic_type=\"demo\"", 0.5), 0.1);
}

TEST(HistogramQuantile, NoMatchingSeriesOrNoObservationsIsNothing) {
  EXPECT_FALSE(histogram_quantile(kExposition, "d", "traffic_type=\"none\"", 0.95));
  EXPECT_FALSE(histogram_quantile(kExposition, "missing", "traffic_type=\"baseline\"", 0.95));
  EXPECT_FALSE(histogram_quantile("d_bucket{traffic_type=\"demo\",le=\"+Inf\"} 0\n", "d",
                                  "traffic_type=\"demo\"", 0.95));
}

}  // namespace
