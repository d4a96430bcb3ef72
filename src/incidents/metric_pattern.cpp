// The incident metric generator: a level per pattern, noise per step, both pure functions of
// their arguments (see metric_pattern.hpp for the contract).
#include "incidents/metric_pattern.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include <fmt/format.h>

#include "core/random.hpp"

namespace trafficsim::incidents {

double pattern_level(const MetricSpec& metric, double t_seconds, double duration_s) {
  // A scenario with no length has no anomaly (and no division by a zero span below).
  if (!(duration_s > 0)) return metric.baseline;
  const double t = std::clamp(t_seconds, 0.0, duration_s);
  const double onset_s = metric.onset * duration_s;
  if (metric.pattern == MetricPattern::baseline || t < onset_s) return metric.baseline;
  const double span = metric.value - metric.baseline;
  const double after = t - onset_s;          // seconds since the onset
  const double left = duration_s - onset_s;  // seconds from the onset to the end (> 0)
  switch (metric.pattern) {
    case MetricPattern::spike:
    case MetricPattern::drop: {
      // Quick, but not instantaneous: a scrape or two sees the way up (or down).
      const double rise = std::min(kRiseFraction * duration_s, left / 2);
      return metric.baseline + span * std::min(1.0, rise > 0 ? after / rise : 1.0);
    }
    case MetricPattern::gradual:
      return metric.baseline + span * std::min(1.0, after / left);
    case MetricPattern::step:
      return metric.value;
    case MetricPattern::flapping: {
      const auto steps = static_cast<int64_t>(std::floor(after / kStepSeconds));
      return (steps / kFlapSteps) % 2 == 0 ? metric.value : metric.baseline;
    }
    case MetricPattern::baseline:
      break;
  }
  return metric.baseline;
}

double standard_noise(uint64_t seed, std::string_view metric_name, int64_t k) {
  // Chained through the bijective mixer so that seed, name and step each change the key; the
  // two uniforms are consecutive SplitMix64 outputs of that key.
  const uint64_t key = core::mix64(core::mix64(core::mix64(seed) ^ core::stream_key(metric_name)) ^
                                   static_cast<uint64_t>(k));
  const double u1 = core::unit_from_bits(core::mix64(key));
  const double u2 = core::unit_from_bits(core::mix64(key + 0x9e3779b97f4a7c15ULL));
  // 1 - u1 is in (0, 1]: the logarithm is finite (|z| < 8.6 for 53-bit uniforms).
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double metric_value(const MetricSpec& metric, double t_seconds, double duration_s, uint64_t seed) {
  const double t = std::clamp(t_seconds, 0.0, std::max(0.0, duration_s));
  const auto k = static_cast<int64_t>(std::floor(t / kStepSeconds));
  const double v =
      pattern_level(metric, t, duration_s) + metric.sigma * standard_noise(seed, metric.name, k);
  return std::clamp(v, metric.min, metric.max);
}

std::vector<double> metric_series(const MetricSpec& metric, double duration_s, double step_s,
                                  uint64_t seed) {
  if (!(step_s > 0) || !std::isfinite(step_s))
    throw std::invalid_argument(fmt::format("series step must be positive, got {}", step_s));
  const double whole = std::floor(duration_s / step_s);
  if (!(whole < static_cast<double>(kMaxSeriesSamples)))
    throw std::invalid_argument(fmt::format("a {} s series at {} s steps has more than {} samples",
                                            duration_s, step_s, kMaxSeriesSamples));
  const auto n = static_cast<size_t>(whole);
  std::vector<double> out;
  out.reserve(n + 2);
  for (size_t i = 0; i <= n; ++i)
    out.push_back(metric_value(metric, static_cast<double>(i) * step_s, duration_s, seed));
  // The end is always sampled: it is where gradual reaches its value.
  if (static_cast<double>(n) * step_s < duration_s - 1e-9 * duration_s)
    out.push_back(metric_value(metric, duration_s, duration_s, seed));
  return out;
}

}  // namespace trafficsim::incidents
