#pragma once
// What `trafficsim run` and `trafficsim play` share: the built-in target (started in-process on a
// free loopback port when no --url is given), the demo clock (own, or adopted from a trafficsim
// target's /health), running one scenario with the live line, and the scenario summary.
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cli/terminal.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/thresholds.hpp"

namespace trafficsim::demo_service {
class TargetService;
}

namespace trafficsim::cli {

// Exit code of a run whose thresholds failed (documented in the README and docs/scenarios.md).
inline constexpr int kExitThresholds = 3;

struct TargetChoice {
  std::string url;       // --url; empty: the built-in target
  std::string data_dir;  // built-in target: catalog directory (empty: default)
  int64_t catalog_rows = 500'000;
  uint64_t seed = 0;
};

// The target of a session: a URL, or the built-in target running in this process.
class SessionTarget {
 public:
  SessionTarget();
  ~SessionTarget();
  // Starts the built-in target when no URL was given (with the demo clock when `clock` is set),
  // saying so on stdout: the first start generates the catalog.
  // Throws std::runtime_error with a message on failure.
  void open(const TargetChoice& choice, const scenarios::DemoClockSpec* clock);
  const std::string& url() const { return url_; }
  bool builtin() const { return service_ != nullptr; }
  void close();

 private:
  std::unique_ptr<demo_service::TargetService> service_;
  std::string url_;
};

// The demo clock of a run: DEMO_START_TIMESTAMP (default now), DEMO_TIME_SCALE or --time-scale,
// DEMO_DURATION_MINUTES; against a URL, the target's own clock when its /health reports one.
// Throws UsageError for bad DEMO_* values. Notes about the choice go to *notes.
scenarios::DemoClockSpec resolve_demo_clock(const std::string& url,
                                            std::optional<double> time_scale, double now_unix,
                                            std::vector<std::string>* notes);

double unix_now();

struct RunSettings {
  std::string url;
  std::optional<std::chrono::nanoseconds> duration;
  uint64_t seed = 1;
  int threads = 0;
  std::optional<double> hard_cap;
  std::optional<scenarios::DemoClockSpec> clock;
  bool verbose = false;
  bool quiet = false;
  int stop_fd = -1;
  std::string progress_prefix;  // e.g. "[2/5] " for play
};

struct RunOutcome {
  boost::json::object report;
  std::vector<scenarios::ThresholdResult> thresholds;
  bool stopped = false;  // by a signal
  bool thresholds_passed() const;
};

// Builds the plan (throws scenarios::ScenarioError), prints its header lines to `out`, runs it
// with the live line on stderr, and returns the annotated report.
RunOutcome run_scenario(const scenarios::Scenario& scenario,
                        const std::map<std::string, std::string>& params, const RunSettings& s,
                        std::FILE* out, const Style& style);

// The per-stream summary of a scenario run, then the thresholds.
void print_scenario_summary(std::FILE* out, const boost::json::object& report,
                            const std::vector<scenarios::ThresholdResult>& thresholds,
                            const Style& style);

// Prints text wrapped at `width` columns with `indent`.
void print_wrapped(std::FILE* out, const std::string& text, size_t width, const std::string& indent);

}  // namespace trafficsim::cli
