#pragma once
// The deterministic analyzer (docs/incidents.md, "Analysis"): from what deviated — each metric
// against its own baseline, in σ, with the shape of its change — and from the context (recent
// deployments, dependencies), ranked hypotheses with their evidence and the actions that follow
// from them. It never sees a scenario's expected outcome: `incident validate` scores it against
// that. Live incidents (a monitor on real traffic) are explained by live_analysis.hpp, which
// shares the action catalogue below. Pure functions, no I/O.
#include <string>
#include <string_view>
#include <vector>

#include "incidents/incident_scenario.hpp"
#include "incidents/incident_store.hpp"

namespace trafficsim::incidents {

// A change is anomalous from this many σ of its baseline's noise on (sustained over
// kLevelWindow samples, so that one noisy sample never is).
inline constexpr double kAnomalySigma = 4.0;
// The share of a series, from its start, read as the baseline (before any onset).
inline constexpr double kBaselineFraction = 0.1;
// Samples averaged for a level: long enough to quiet the noise, short enough to see a flap.
inline constexpr size_t kLevelWindow = 5;

enum class Shape { steady, spike, gradual, step, drop, flapping };
std::string_view to_string(Shape s);

// One metric as the analyzer reads it.
struct Observation {
  std::string name;
  std::string unit;
  double baseline = 0;  // mean of the baseline part
  double sigma = 0;     // its standard deviation (noise); 0 when unknown
  double value = 0;     // the most deviating sustained level
  Shape shape = Shape::steady;
  // (value - baseline) / sigma; with no sigma, a relative change of 100 % counts as 10 σ.
  double deviation() const;
};

// Reads a series sampled at equal steps: the baseline is the first kBaselineFraction of it (at
// least 3 samples), the value the kLevelWindow-sample mean farthest from it, the shape from how
// the series gets there. `floor_sigma` bounds the noise estimate from below (a flat baseline
// would make any change infinitely many σ): pass the metric's declared σ when known, else 0.
Observation observe_series(std::string name, std::string unit, const std::vector<double>& series,
                           double floor_sigma = 0);

// What a metric measures, from its name (memory_usage_bytes -> memory, ...).
enum class Signal {
  memory, gc, oom, cpu, traffic, latency, errors, db_latency, db_connections, restarts,
  readiness, dependency_latency, dependency_errors, circuit_open, other
};
Signal classify_metric(std::string_view name);
std::string_view to_string(Signal s);

struct AnalysisInput {
  std::string service;
  std::string title;
  std::vector<Observation> metrics;
  IncidentContext context;
};

struct Analysis {
  bool anomalous = false;  // at least one metric at kAnomalySigma or more
  std::vector<Hypothesis> hypotheses;  // best first; confidences sum to at most 1
  std::vector<Action> actions;         // for the leading hypotheses, lowest risk first per cause
  Evidence evidence;                   // the deviating metrics, largest first
  std::string summary;                 // one sentence: the top hypothesis, or "no anomaly"
};

// Root-cause categories the rules know (the seed's five, then the live ones).
inline constexpr std::string_view kCategories[] = {
    "memory_leak",       "capacity",    "database",       "bad_deployment", "dependency",
    "latency_injection", "token_bloat", "error_injection", "missing_index"};

Analysis analyze(const AnalysisInput& input);

// The actions that answer a root cause, with risk, blast radius, steps and a runbook. Unknown
// categories get an "investigate" action.
std::vector<Action> actions_for(std::string_view category, const std::string& service,
                                const IncidentContext& context);

// Confidence from rule scores: the share of the total, leaving room for "something else".
void rank_and_normalise(std::vector<Hypothesis>& hypotheses, const std::vector<double>& scores);

}  // namespace trafficsim::incidents
