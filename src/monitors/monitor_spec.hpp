#pragma once
// What a monitor watches and when it fires (docs/monitors.md): a signal computed from cumulative
// metric samples over a window (a quantile of a histogram, a ratio of two counters, a mean, or a
// gauge), a threshold with a recovery threshold (hysteresis), a `for` duration, a baseline for
// anomaly monitors, burn-rate window pairs for SLO monitors, and what no data means. Defined in
// YAML; the built-ins (monitors/default.yaml) are embedded in the binary.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::monitors {

using Duration = std::chrono::nanoseconds;

// `label: pattern`, where `*` in the pattern matches any run of characters ("5*" matches 500,
// 503); `!pattern` matches what the pattern does not.
struct LabelMatcher {
  std::string label;
  std::string pattern;
  bool negate = false;
  bool matches(const std::string* value) const;
};

// A metric family and the series of it that count (their values are summed).
struct Selector {
  std::string metric;
  std::vector<LabelMatcher> match;
};

enum class SignalKind {
  quantile,  // histogram_quantile(q, increase(metric_bucket[window])) × scale
  ratio,     // increase(numerator[window]) / increase(denominator[window])
  mean,      // increase(metric_sum[window]) / increase(metric_count[window]) × scale
  gauge,     // the latest value (summed over the matching series) × scale
};

struct Signal {
  SignalKind kind = SignalKind::ratio;
  Selector metric;       // quantile, mean, gauge
  Selector numerator;    // ratio
  Selector denominator;  // ratio
  double q = 0.95;       // quantile
  double scale = 1;      // e.g. 1000: seconds to milliseconds
  std::string unit;      // for people: "ms", "", "tokens"
};

enum class Comparison { above, below };
enum class NoData { keep, ok, alert };

// A burn-rate pair (Google SRE workbook, multiwindow): the error budget burns faster than
// `factor` over both the long and the short window.
struct BurnWindow {
  Duration long_window{};
  Duration short_window{};
  double factor = 1;
};

struct MonitorSpec {
  std::string name;         // "LLM latency spike"
  std::string id;           // "llm_latency_spike" (derived from the name when not given)
  std::string description;
  std::string severity = "warning";  // page | ticket | warning | info
  std::string service;               // for incidents
  Signal signal;
  Comparison comparison = Comparison::above;
  double threshold = 0;
  // Back to OK only once the value is below (for `above`) this; the threshold when not given.
  std::optional<double> recover;
  Duration window{std::chrono::minutes(1)};
  Duration for_duration{};
  // Anomaly monitors: the threshold is `baseline_factor` × the signal over the `baseline`
  // window that precedes the evaluation window; at least `min_baseline` of history is needed.
  std::optional<double> baseline_factor;
  Duration baseline{};
  Duration min_baseline{std::chrono::seconds(30)};
  // SLO burn-rate monitors: the signal is the error ratio; threshold and window are unused.
  std::optional<double> objective;  // 0.999
  std::vector<BurnWindow> burn;
  NoData no_data = NoData::keep;
  std::string runbook;

  // The longest span of history the monitor reads (window, baseline, burn windows).
  Duration history() const;
  // The same monitor with every window, `for` and baseline divided by `time_scale` (> 0).
  MonitorSpec scaled(double time_scale) const;
};

class MonitorFileError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses a monitors file: `monitors: [ {name, signal, above|below, window, for, ...}, ... ]`.
// Throws MonitorFileError "FILE:LINE: FIELD: what" naming the first fault.
std::vector<MonitorSpec> load_monitors(const std::string& text, const std::string& file_name);

// Reads and parses a monitors file; MonitorFileError names the path when it cannot be read.
std::vector<MonitorSpec> load_monitors_file(const std::string& path);

// The built-in monitors (monitors/default.yaml, embedded).
const std::vector<MonitorSpec>& builtin_monitors();
// The built-in file's text (for `--show` and the docs).
std::string_view builtin_monitors_text();

// "LLM latency spike" -> "llm_latency_spike".
std::string monitor_id(const std::string& name);

}  // namespace trafficsim::monitors
