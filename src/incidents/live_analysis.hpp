#pragma once
// Live incidents explain themselves (docs/incidents.md, "Live analysis"): what the demo service
// knew when a monitor alerted — its recent spans (fault hints, model time, tokens, db.index_used,
// db.full_table_scan, db.rows_scanned, checkout's failure reasons), its query pools, its active
// faults and the demo clock — reduced to findings, and the rules that turn findings into ranked
// hypotheses and actions. jobs/live_evidence.hpp gathers the findings from a running target.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "incidents/analyzer.hpp"

namespace trafficsim::incidents {

struct RouteFindings {
  int64_t spans = 0;
  int64_t errors = 0;  // status >= 500 (>= 400 for classify)
  double mean_ms = 0;
  double p95_ms = 0;
  std::map<std::string, int64_t> statuses;     // "400" -> n
  std::map<std::string, int64_t> error_types;  // the API's error codes
  double error_rate() const { return spans ? double(errors) / double(spans) : 0.0; }
};

struct FaultFinding {
  std::string name, route, kind;  // kind: delay, abort
  double probability = 1;
  double delay_ms = 0;
  int abort_status = 0;
  int64_t hits = 0;
};

struct LiveFindings {
  // What fired.
  std::string monitor_id, monitor_name, service, unit;
  std::optional<double> value, baseline;
  double threshold = 0;

  // /hackathon/classify
  RouteFindings classify;
  int64_t classify_with_hint = 0;  // spans carrying fault.delay_ms (X-Fault-Delay-Ms)
  double mean_hint_ms = 0;
  double mean_model_ms = 0;  // the model's own time (llm.model_latency_ms)
  double mean_input_tokens = 0, mean_output_tokens = 0;
  double baseline_input_tokens = 0;  // classify spans before the window (0: none seen)

  // The catalog and checkout (seed 002).
  RouteFindings recommendations, products, checkout;
  int64_t rec_full_scans = 0;
  double rec_rows_scanned = 0;   // mean over the scans
  std::string rec_index_used;    // NONE when it scans
  std::string products_index;
  int64_t demo_spans = 0;        // recommendations spans with traffic.type demo
  std::map<std::string, int64_t> checkout_reasons;
  double scan_pool_queued = 0, scan_pool_busy = 0;
  double scan_rejections = 0, scan_timeouts = 0;  // cumulative counters

  // The demo clock.
  bool demo_active = false;
  double demo_minute = 0;
  std::string demo_phase;

  std::vector<FaultFinding> faults;      // active in /admin/faults
  std::vector<std::string> trace_ids;    // examples: slowest or failing
  std::vector<SlowQueryEvidence> slow_queries;
  std::vector<std::string> gaps;         // what could not be read ("/admin/faults: 401")
};

// Ranked hypotheses and actions for a live incident (never empty: without a known pattern one
// "unknown" hypothesis says what was looked at). `runbook`: the monitor's runbook text, added
// to every action.
Analysis analyze_live(const LiveFindings& findings, const std::string& runbook = {});

}  // namespace trafficsim::incidents
