#pragma once
// An incident scenario (seed 004, the Incident Simulator): a named failure of one service told as
// the metrics it bends (each a baseline, an anomalous value, the noise σ and the shape of the
// change), the context an analyst would look at (recent deployments, dependencies, notes) and
// the outcome an analysis should reach (a root-cause category and the kinds of action). Plain
// values, no I/O; metric_pattern.hpp turns a MetricSpec into numbers over time. The file format
// and the built-in catalogue are in docs/incidents.md.
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::incidents {

// A file that cannot be used. The message starts with "FILE:LINE: FIELD: " where known.
class IncidentError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Severity { critical, high, medium, low };
enum class Difficulty { beginner, intermediate, advanced };

// How a metric leaves its baseline once the anomaly starts (at `onset`):
//   spike    — rises quickly to value and holds there;
//   gradual  — climbs linearly from baseline to reach value at the end of the scenario;
//   step     — jumps to value at once;
//   drop     — falls quickly to value, which is below the baseline;
//   flapping — alternates between value and baseline every kFlapSteps steps;
//   baseline — stays at the baseline (a control metric: what did not change).
enum class MetricPattern { spike, gradual, step, drop, flapping, baseline };

std::string_view to_string(Severity s);
std::string_view to_string(Difficulty d);
std::string_view to_string(MetricPattern p);
std::optional<Severity> parse_severity(std::string_view text);
std::optional<Difficulty> parse_difficulty(std::string_view text);
std::optional<MetricPattern> parse_pattern(std::string_view text);

inline constexpr double kDefaultOnset = 0.2;  // the anomaly starts a fifth of the way in
inline constexpr double kMinDurationSeconds = 1;
inline constexpr double kMaxDurationSeconds = 24 * 3600;

struct MetricSpec {
  std::string name;  // Prometheus-style: [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. memory_usage_bytes
  std::string description;
  std::string unit;  // as a person reads it: "bytes", "%", "s", "req/s"
  double baseline = 0;
  double value = 0;  // the anomalous peak or level the pattern reaches
  double sigma = 1;  // noise standard deviation, in the metric's unit; > 0
  MetricPattern pattern = MetricPattern::spike;
  double onset = kDefaultOnset;  // fraction of the duration when the anomaly starts, [0, 1)
  // Generated values are clamped to [min, max]. A metric whose baseline and value are both
  // non-negative (bytes, counts, rates, latencies) has min 0 unless its file says otherwise.
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

struct Deployment {
  std::string service;
  std::string version;
  double minutes_ago = 0;
  std::string change;  // what the deployment changed, in words
};

// What an analyst would look at besides the metrics.
struct IncidentContext {
  std::vector<Deployment> recent_deployments;
  std::vector<std::string> dependencies;  // services this one calls
  std::vector<std::string> notes;         // free text (a campaign launched, a pager history)
};

struct IncidentScenario {
  std::string id;  // [a-z0-9_]+, e.g. memory_leak_gradual
  std::string name;
  std::string description;
  std::string service;  // the service that is failing, e.g. payment-service
  Severity severity = Severity::high;
  Difficulty difficulty = Difficulty::beginner;
  std::vector<std::string> tags;    // resource, availability, performance, ...
  double duration_seconds = 300;    // [1 s, 24 h]
  std::vector<MetricSpec> metrics;  // at least one; names unique
  IncidentContext context;
  std::string expected_root_cause;                 // memory_leak, capacity, database, ...
  std::vector<std::string> expected_action_types;  // restart, rollback, scale_out, ...
};

// Parses and checks one incident file. `file_name` is what messages call it. Throws
// IncidentError "FILE:LINE: FIELD: what" for a YAML error, an unknown key, a missing field or a
// value out of range (docs/incidents.md, "Custom scenarios").
IncidentScenario load_incident_scenario(std::string_view text, const std::string& file_name);

// Reads `path` and loads it; an unreadable file is an IncidentError naming the path.
IncidentScenario load_incident_scenario_file(const std::filesystem::path& path);

}  // namespace trafficsim::incidents
