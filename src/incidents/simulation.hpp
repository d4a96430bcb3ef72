#pragma once
// Incident simulations (seed 004's scenario runner): a scenario played as metrics over time —
// published as gauges on the target's /metrics (labels service, scenario) when a registry is
// given — then an incident opened in the store and analyzed from what was played. `demo` mode
// plays the scenario compressed into a few seconds and returns when the analysis is stored;
// `realtime` plays its duration_seconds on a thread of its own and returns at once, with the
// incident already committed. docs/incidents.md, "Simulations".
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "incidents/analyzer.hpp"
#include "incidents/incident_scenario.hpp"
#include "incidents/incident_store.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::incidents {

enum class ExecutionMode { demo, realtime };
enum class SimulationStatus { running, completed, stopped, failed };
std::string_view to_string(ExecutionMode m);
std::string_view to_string(SimulationStatus s);
std::optional<ExecutionMode> parse_execution_mode(std::string_view text);

struct SimulationRequest {
  bool auto_analyze = true;
  ExecutionMode mode = ExecutionMode::demo;
  uint64_t seed = 0;  // noise; 0: from the clock
};

// What GET /api/v1/simulator/simulations/{id} shows.
struct SimulationRecord {
  std::string simulation_id;  // "sim_" + 8 hex digits
  std::string scenario_id;
  std::string scenario_name;
  std::string service;
  std::string incident_id;
  SimulationStatus status = SimulationStatus::running;
  ExecutionMode mode = ExecutionMode::demo;
  bool auto_analyze = true;
  double started_at = 0;  // Unix seconds
  std::optional<double> ended_at;
  double progress = 0;  // share of the scenario played, [0, 1]
  std::string phase;    // injecting, analyzing, done, stopped, failed
  size_t hypotheses_count = 0;
  size_t actions_count = 0;
  bool metrics_injected = false;
  std::string error;  // why it failed
  double wall_seconds = 0;  // how long the play takes on the wall clock
  // The seed's start answer: {simulation_id, scenario_id, incident_id, status, started_at,
  // hypotheses_count, actions_count, metrics_injected}, plus the rest of the record.
  boost::json::object to_json() const;
};

// The gauges a simulation publishes, one family per metric name (created on first use, kept for
// the process's life: a registry cannot drop a family). Thread-safe.
class MetricInjector {
 public:
  explicit MetricInjector(telemetry::Registry* registry);  // nullptr: publishes nothing
  // False when there is no registry or the name clashes with a family of another kind.
  bool set(const std::string& metric, const std::string& help, const std::string& service,
           const std::string& scenario, double value);
  bool enabled() const { return registry_ != nullptr; }

 private:
  telemetry::Registry* registry_;
  std::mutex mutex_;
  std::map<std::string, telemetry::GaugeFamily*, std::less<>> families_;  // nullptr: clashed
};

struct SimulationOptions {
  IncidentStore* store = nullptr;            // required
  telemetry::Registry* registry = nullptr;   // the target's, for metric injection
  std::string dashboard_url;                 // the page's base URL
  double demo_wall_seconds = 6;              // demo mode's play, <= 10 s
  double realtime_tick_seconds = 1;          // how often realtime publishes
  size_t max_running = 32;
  // Analysis by something else first (the LLM); nullopt falls back to the rules.
  std::function<std::optional<Analysis>(const AnalysisInput&)> external_analyzer;
  // Told of every incident a simulation opened or analyzed (notifications).
  std::function<void(const Incident&)> on_incident;
  std::function<double()> now_unix_s;  // empty: the system clock
};

class SimulationError : public std::runtime_error {
 public:
  SimulationError(int status, std::string message)
      : std::runtime_error(std::move(message)), status(status) {}
  int status;  // the HTTP status it answers with (429: too many running)
};

class SimulationRunner {
 public:
  explicit SimulationRunner(SimulationOptions options);
  ~SimulationRunner();  // stops and joins every running simulation
  SimulationRunner(const SimulationRunner&) = delete;
  SimulationRunner& operator=(const SimulationRunner&) = delete;

  // Opens the incident (committed before this returns), then plays. demo: blocks until played
  // and analyzed (status completed); realtime: returns while running. Throws SimulationError
  // (429) when max_running are running. `progress` (optional) hears every phase change.
  SimulationRecord start(const IncidentScenario& scenario, const SimulationRequest& request,
                         std::function<void(const SimulationRecord&)> progress = {});
  // The same without blocking: `answer` is called once, from this thread (realtime, after the
  // incident is committed) or from the simulation's (demo, when analyzed). Throws like start.
  void start_async(const IncidentScenario& scenario, const SimulationRequest& request,
                   std::function<void(const SimulationRecord&)> progress,
                   std::function<void(const SimulationRecord&)> answer);
  std::optional<SimulationRecord> get(const std::string& simulation_id) const;
  // A running simulation stops where it is and is analyzed on what was played (status
  // stopped); others are returned unchanged. nullopt: unknown id.
  std::optional<SimulationRecord> stop(const std::string& simulation_id);
  std::vector<SimulationRecord> list() const;  // newest first
  size_t running() const;

  // The series a scenario plays (1 s steps, scenario time) up to `played` of it.
  static std::vector<Observation> observe(const IncidentScenario& scenario, uint64_t seed,
                                          double played = 1.0);

  bool metrics_enabled() const { return injector_.enabled(); }

 private:
  struct Sim;
  std::shared_ptr<Sim> find(const std::string& simulation_id) const;  // nullptr: unknown
  void play(const std::shared_ptr<Sim>& sim);
  void finish(const std::shared_ptr<Sim>& sim, SimulationStatus status);
  void notify(const std::shared_ptr<Sim>& sim);
  double now() const;

  SimulationOptions options_;
  MetricInjector injector_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Sim>> sims_;
  std::vector<std::string> order_;  // oldest first, bounded
};

// Analysis of a scenario as played: observations of its series, its service and context.
Analysis analyze_scenario(const IncidentScenario& scenario, uint64_t seed, double played = 1.0);

}  // namespace trafficsim::incidents
