#pragma once
// A metric's value at time t of an incident: its pattern's level (incident_scenario.hpp,
// MetricPattern) plus Gaussian noise of the metric's σ, clamped to [min, max]. No hidden state:
// the noise of step k is drawn from (seed, metric name, k) alone, so the same call gives the same
// number in any order, in any process, and a series can be computed from its middle.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "incidents/incident_scenario.hpp"

namespace trafficsim::incidents {

// The generator's time resolution: one noise draw per step; t in [k, k+1) steps shares draw k.
inline constexpr double kStepSeconds = 1.0;
// flapping: value for this many steps, then baseline for as many, from the onset on.
inline constexpr int kFlapSteps = 5;
// spike and drop reach their value over this fraction of the duration after the onset (or half
// of what remains after the onset, when that is shorter).
inline constexpr double kRiseFraction = 0.05;

// The noiseless level at t_seconds of a scenario lasting duration_s: the baseline before
// the onset, then the pattern's shape. t is clamped to [0, duration_s]; a duration_s that is not
// positive gives the baseline.
double pattern_level(const MetricSpec& metric, double t_seconds, double duration_s);

// A standard normal draw (Box-Muller on two counter-based uniforms) for step `k` of `metric_name`.
double standard_noise(uint64_t seed, std::string_view metric_name, int64_t k);

// pattern_level + sigma * standard_noise(seed, name, floor(t / kStepSeconds)), in [min, max].
double metric_value(const MetricSpec& metric, double t_seconds, double duration_s, uint64_t seed);

// metric_value at t = 0, step_s, 2 step_s, ... up to and including duration_s (the last sample
// is at the end even when step_s does not divide it). Throws std::invalid_argument unless
// step_s > 0 and the series has at most kMaxSeriesSamples samples.
inline constexpr size_t kMaxSeriesSamples = 10'000'000;
std::vector<double> metric_series(const MetricSpec& metric, double duration_s, double step_s,
                                  uint64_t seed);

// How many σ `value` lies from `baseline` (signed: a drop is negative). sigma > 0.
constexpr double deviation_sigma(double value, double baseline, double sigma) {
  return (value - baseline) / sigma;
}

}  // namespace trafficsim::incidents
