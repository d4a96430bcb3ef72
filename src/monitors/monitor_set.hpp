#pragma once
// Evaluating monitors on live metrics: each scrape (cumulative samples, as a Prometheus text
// exposition reads) is reduced to the few numbers each monitor's signal needs, kept as a bounded
// history, and judged over the monitor's windows. States OK -> PENDING (`for`) -> ALERT -> OK
// with a recovery threshold; every transition is an event carrying the values that caused it.
// Thread-safe: observe() from one evaluation thread, statuses() and to_json() from any.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "monitors/monitor_spec.hpp"
#include "telemetry/exposition_parser.hpp"

namespace trafficsim::monitors {

enum class MonitorState { ok, pending, alert };
std::string_view state_name(MonitorState s);  // "OK", "PENDING", "ALERT"

struct MonitorEvent {
  std::string monitor_id, monitor_name, severity, service;
  MonitorState from = MonitorState::ok, to = MonitorState::ok;
  double t_unix = 0;
  std::optional<double> value;     // the signal (a burn rate for SLO monitors)
  double threshold = 0;            // what it was compared with (absolute)
  std::optional<double> baseline;  // anomaly monitors: the baseline value
  std::string reason;              // one sentence for people
  std::string unit;                // the signal's unit ("ms", "tokens"; "" for ratios)
  boost::json::object to_json() const;
};

struct MonitorStatus {
  const MonitorSpec* spec = nullptr;  // scaled
  MonitorState state = MonitorState::ok;
  bool has_data = false;
  std::optional<double> value;
  double threshold = 0;
  std::optional<double> baseline;
  double since_unix = 0;  // when the current state began
  bool ever_alerted = false;
};

class MonitorSet {
 public:
  // The monitors as written; every window, `for` and baseline is divided by time_scale (> 0).
  explicit MonitorSet(std::vector<MonitorSpec> specs, double time_scale = 1);

  // One scrape taken at t_unix (seconds, increasing); returns the transitions it caused.
  std::vector<MonitorEvent> observe(const telemetry::Exposition& scrape, double t_unix);

  std::vector<MonitorStatus> statuses() const;
  // Did any monitor reach ALERT since the start (`--fail-on-alert`)?
  bool any_alerted() const;
  // GET /api/v1/monitors: [{id, name, state, value, threshold, ...}].
  boost::json::array to_json() const;
  double time_scale() const { return time_scale_; }

  // History points kept per monitor at most (older ones are thinned: memory stays bounded for
  // any run length and window).
  static constexpr size_t kMaxPoints = 2048;

 private:
  struct Point {
    double t = 0;
    std::map<double, double> values;  // reset-adjusted cumulative values, by component key
  };
  struct Monitor {
    MonitorSpec spec;
    MonitorStatus status;
    std::vector<Point> points;  // oldest first
    std::map<double, double> last_raw, offset;  // counter-reset adjustment
    std::optional<double> pending_since;
  };
  struct Reading {
    std::optional<double> value, threshold, baseline;
    bool condition = false, recovered = false;
    std::string reason;
  };

  static std::map<double, double> reduce(const MonitorSpec& spec, const telemetry::Exposition& s);
  void record(Monitor& m, double t, std::map<double, double> raw);
  Reading read(const Monitor& m, double now) const;

  double time_scale_;
  mutable std::mutex mu_;
  std::vector<Monitor> monitors_;
};

}  // namespace trafficsim::monitors
