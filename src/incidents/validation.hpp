#pragma once
// `trafficsim incident validate`: how often the analyzer is right. Every scenario is played and
// analyzed as written, then as N randomized variants (other magnitudes, noise, timing and
// service, plus distractor metrics that drift without being the cause), then as no-fault
// controls (its metrics at their baselines, distractors drifting below the anomaly bar) that
// must open no incident. docs/incidents.md, "Validation".
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "incidents/analyzer.hpp"
#include "incidents/incident_scenario.hpp"

namespace trafficsim::incidents {

// A variant of `base`, drawn from (seed, index) alone. Keeps the root cause and every metric's
// direction; its peak deviation stays at least 4.5 σ (the analyzer's bar is 4 σ).
IncidentScenario make_variant(const IncidentScenario& base, uint64_t seed, int index);
// A no-fault control of `base`: every metric at its baseline, with distractors drifting up to
// 2.5 σ; the expected outcome is "no incident".
IncidentScenario make_control(const IncidentScenario& base, uint64_t seed, int index);

struct ScenarioScore {
  std::string scenario_id;
  std::string expected_root_cause;
  bool builtin_top1 = false;          // the scenario as written
  std::string builtin_top;            // what came first
  int variants = 0;
  int variants_top1 = 0;
  int variants_top3 = 0;
  int variants_actions = 0;           // every expected action type proposed
  int controls = 0;
  int controls_false = 0;             // controls that would have opened an incident
  std::vector<std::string> misses;    // "variant 17: capacity first (expected database)"
  double top1_rate() const { return variants ? double(variants_top1) / variants : 1.0; }
  double top3_rate() const { return variants ? double(variants_top3) / variants : 1.0; }
  double actions_rate() const { return variants ? double(variants_actions) / variants : 1.0; }
};

struct ValidationReport {
  std::vector<ScenarioScore> scenarios;
  int variants_per_scenario = 0;
  uint64_t seed = 0;
  double seconds = 0;  // wall time of the whole validation
  // The bars: top-1 100 % on the scenarios as written, >= 90 % over each one's variants, no
  // false incident on any control.
  static constexpr double kVariantTop1Bar = 0.9;
  bool passed() const;
  boost::json::object to_json() const;
};

// Runs the validation over `scenarios` with `variants` variants and max(3, variants / 10)
// controls each.
ValidationReport validate_analyzer(const std::vector<IncidentScenario>& scenarios, int variants,
                                   uint64_t seed);

}  // namespace trafficsim::incidents
