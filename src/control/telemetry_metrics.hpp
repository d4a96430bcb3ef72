#pragma once
// The Metrics page's series (GET /api/v1/telemetry/metrics; TelemetryApi's second file): every
// attached registry's exposition, read back with telemetry::parse_exposition and reduced to what
// the charts draw — request rates, request durations, query times, connection-pool waits, job
// durations (p50 / p95 from the histogram buckets of each interval) and the cache hit ratio.
//
// Sampling happens on the request: an answer takes a new sample when the newest is at least
// kMinInterval old (the page polls every second), so nothing runs while nobody looks. The
// history is bounded (kHistory samples); a counter that went down (a restarted source) counts
// from zero again. Which families feed which chart is the table in telemetry_metrics.cpp.
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace trafficsim::control {

struct TelemetrySource;

class TelemetryMetrics {
 public:
  static constexpr size_t kHistory = 300;      // samples kept: 5 minutes at one a second
  static constexpr double kMinInterval = 0.9;  // seconds between two samples

  explicit TelemetryMetrics(std::function<double()> now_unix_s);

  // Samples when due, then renders {"t": [unix s], "charts": [{id, title, unit, series:
  // [{label, source, values}]}], "samples": n}: values[i] belongs to t[i], the end of the i-th
  // interval between two samples (null where a series had nothing to say).
  boost::json::object sample_and_render(const std::vector<TelemetrySource>& sources);

  // One sample, reduced: per chart and series, a counter total or cumulative bucket counts.
  struct Reduced {
    std::map<std::string, double> counters;                          // "chart\x1fseries" -> total
    std::map<std::string, std::map<double, double>> buckets;         // -> le -> cumulative count
  };

 private:
  struct Sample {
    double t = 0;
    Reduced values;
  };
  std::function<double()> now_;
  std::mutex mutex_;
  std::deque<Sample> history_;
};

// Exposed for the tests: the histogram_quantile of bucket counts (cumulative, by upper bound;
// +Inf included), interpolated linearly inside the bucket; nullopt when the count is 0.
std::optional<double> bucket_quantile(const std::map<double, double>& cumulative, double q);

}  // namespace trafficsim::control
