#pragma once
// Scenario files: a YAML description of a plan — streams, rate profiles, request mixes with
// weights, headers, body templates, timeouts, caps, tags and thresholds — that `trafficsim run
// -f FILE` runs and that every built-in mode and scenario is written in (scenarios/*.yaml,
// compiled into the binary). The format is documented in docs/scenarios.md.
//
// Loading happens in two steps: load_scenario() reads and checks the file (variables
// interpolated, templates compiled, every error naming file, line and field); build_plan() binds
// the result to a target URL, a seed and — for scenarios on the Black Friday demo clock — the
// demo minute the run starts at.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/demo_clock.hpp"
#include "core/rate_profile.hpp"
#include "core/text_template.hpp"
#include "load/plan.hpp"
#include "scenarios/thresholds.hpp"

namespace trafficsim::scenarios {

// A file that cannot be used. The message starts with "FILE:LINE: FIELD: " where known.
class ScenarioError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where a scenario's text came from: a file on disk or a built-in (embedded) file.
struct Source {
  std::string path;  // as shown in messages: the user's path, or "scenarios/NAME.yaml"
  std::string text;
  bool builtin = false;
};

// Reads a file from disk; throws ScenarioError naming the path.
Source read_source(const std::string& path);

// Variables: ${name} or ${name:-default} in any value of the file. Looked up in `params` (set on
// the command line: --rate sets "rate", --set NAME=VALUE any) and then the environment.
struct LoadOptions {
  std::map<std::string, std::string> params;
  std::function<const char*(const char*)> getenv;  // empty: ::getenv
  // --samples FILE: replaces the sample set named "emails".
  std::string samples_override;
};

// The rate of a stream, before it is bound to a run start.
struct RateSpec {
  enum class Kind { constant, ramp, peak, steps, table, demo_minutes };
  Kind kind = Kind::constant;
  double rps = 0;                                 // constant, peak
  double from_rps = 0, to_rps = 0;                // ramp
  std::vector<std::pair<double, double>> points;  // steps: (length_s, rps); table: (t_s, rps);
                                                  // demo_minutes: (demo minute, rps)
};

// The most connections build_plan gives a stream whose file does not set `connections`: enough
// for 8 000 req/s against a 1 s target, and a bound on what a stream costs whatever its rate.
inline constexpr int kMaxSizedConnections = 10'000;

struct StreamSpec {
  std::string name;
  std::string url;  // empty: the run's URL
  RateSpec rate;
  bool poisson = false;
  std::optional<std::pair<double, double>> gap_jitter_s;
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);
  int connections = 0;  // 0: sized from rate x timeout (+25 %, +8), 16 to kMaxSizedConnections
  std::optional<load::HardCap> hard_cap;
  std::vector<load::RequestTemplate> requests;  // headers, X-Traffic-Type and templates applied
  std::vector<load::MixGroup> groups;
  // Counters summed from 2xx response bodies: {name, dotted JSON path}, e.g. {"input_tokens",
  // "tokens.input"}.
  std::vector<std::pair<std::string, std::string>> counters;
  std::vector<Threshold> thresholds;
};

struct Scenario {
  Source source;
  std::string name;
  std::string description;
  bool demo_clock = false;  // rates may follow the Black Friday demo clock (demo minutes)
  std::optional<std::chrono::nanoseconds> duration;
  std::vector<StreamSpec> streams;
  std::vector<Threshold> thresholds;  // on the whole run
  std::set<std::string> used_params;  // variables the file referenced
  std::string samples_digest;          // of every sample set's records (Plan::content_digest)
};

// Parses and checks a scenario. Throws ScenarioError.
Scenario load_scenario(const Source& source, const LoadOptions& options);

// The demo clock a run is bound to (seed 002): the one type the demo service uses too.
using core::DemoClockSpec;
using core::demo_minute;

struct BuildOptions {
  std::string url;  // streams without their own url go here
  std::optional<std::chrono::nanoseconds> duration;  // --duration: overrides the file
  uint64_t seed = 1;
  int threads = 1;
  std::optional<double> hard_cap;     // --hard-cap: replaces every stream's cap
  std::optional<DemoClockSpec> clock;  // required for demo-clock scenarios
  double now_unix = 0;                // when the run starts (for the demo clock)
};

// Binds a scenario to a run. Throws ScenarioError (bad URL, a demo-clock scenario without a
// clock, nothing to send).
load::Plan build_plan(const Scenario& scenario, const BuildOptions& options);


// A demo-minute table converted to a wall-clock profile starting at now_unix and lasting
// duration_s: knot (m, rps) lands at t = (m - m0) * 60 / scale.
core::RateProfile demo_minutes_profile(const std::vector<std::pair<double, double>>& points,
                                       const DemoClockSpec& clock, double now_unix,
                                       double duration_s);

// Seed 002's demo stream table in requests per minute: 0 at minute 0, base at 1, 2 100 at 5,
// 3 400 at 10, peak from 15. Other base/peak values move the minute-1 and minute-15 points and
// keep the middle points at the same fractions of the way from base to peak.
std::vector<std::pair<double, double>> blackfriday_rpm_table(double base_rpm, double peak_rpm);

}  // namespace trafficsim::scenarios
