#pragma once
// A demo script as a sequence of traffic jobs: every phase is loaded and checked before the
// first starts (a typo in phase 4 must not wait two minutes), then the phases run back to back
// against one target on one demo clock. UI-free: an observer hears each phase start, every
// snapshot and each phase's result; `trafficsim play` prints them, the control plane will
// stream them.
//
// Threads: run() on the calling thread (start() on the job's own); observer calls come from that
// thread. stop() is thread-safe.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "jobs/traffic_job.hpp"
#include "scenarios/demo_script.hpp"

namespace trafficsim::jobs {

// Loads every phase's scenario with its parameters; throws scenarios::ScenarioError naming the
// script, the phase's line and what is wrong (including a parameter the phase's scenario never
// reads).
std::vector<scenarios::Scenario> load_phases(const scenarios::DemoScript& script);

struct DemoScriptSettings {
  std::string url;        // the target; empty: the built-in target, started by the job
  TargetChoice builtin;   // the built-in target's catalog and seed
  double time_scale = 1;  // every phase lasts duration / time_scale
  uint64_t seed = 1;     // phase i runs with seed + i
  int threads = 0;
  // --start-at: the first phase starts at this instant (load::Plan::start_at); the others follow
  // it as they always do, each right after the previous one ended.
  std::optional<std::chrono::system_clock::time_point> start_at;
  // For phases on the demo clock: this clock when given; otherwise resolved once for the whole
  // script (a trafficsim target's, or DEMO_*) and sped up by time_scale.
  std::optional<scenarios::DemoClockSpec> clock;
  // Fed with every phase's statistics when set (the client-side monitor source).
  std::shared_ptr<ClientSource> client_source;
  // Tracing and export for every phase, as TrafficJobSettings says.
  double trace_ratio = 0;
  std::shared_ptr<telemetry::OtlpExporter> exporter;
  std::shared_ptr<telemetry::SpanBuffer> client_spans;
};

// One row of the phase table: what a phase was and what it did.
struct PhaseSummary {
  size_t index = 0;  // 0-based
  std::string title;
  std::string traffic;  // "normal_traffic @ 10/s"
  double duration_s = 0;  // planned, after the time scale
  bool ran = false;
  uint64_t requests = 0, expected_failures = 0, unexpected_failures = 0;
  double p95_us = 0;  // corrected
  bool has_tokens = false;
  int64_t tokens = 0;  // body counters summed (token totals)
  bool thresholds_passed = true;
  uint64_t successes() const;
};

struct DemoScriptResult {
  std::vector<PhaseSummary> phases;          // one per phase of the script, run or not
  std::vector<boost::json::object> reports;  // one per phase that ran, with a "phase" block
  bool stopped = false;                      // stop() before the last phase ended
  bool thresholds_passed = true;
  // A phase that could not run (its message), after which the script ended.
  std::optional<size_t> failed_phase;
  std::string failure;
};

class DemoScriptObserver {
 public:
  virtual ~DemoScriptObserver() = default;
  // The phase's job is built (its plan can be described) and about to run.
  virtual void phase_started(const PhaseSummary&, const scenarios::Phase&, const TrafficJob&) {}
  virtual void snapshot(const PhaseSummary&, const TrafficSnapshot&) {}
  virtual void phase_ended(const PhaseSummary&, const TrafficResult&) {}
};

class DemoScriptJob {
 public:
  // `phases` as returned by load_phases(script). Resolves the demo clock and starts the built-in
  // target when no URL is given, at once (throws ClockConfigError, TargetStartError).
  DemoScriptJob(scenarios::DemoScript script, std::vector<scenarios::Scenario> phases,
                DemoScriptSettings settings);
  ~DemoScriptJob();
  DemoScriptJob(const DemoScriptJob&) = delete;
  DemoScriptJob& operator=(const DemoScriptJob&) = delete;

  const scenarios::DemoScript& script() const;
  // The whole script's length after the time scale, in seconds.
  double total_s() const;
  const std::string& url() const;
  bool builtin_target() const;
  const std::vector<std::string>& notes() const;  // how the demo clock was chosen

  // Observer calls happen on the running thread; the observer must outlive the run.
  void set_observer(DemoScriptObserver* observer);

  DemoScriptResult run();
  void start();
  DemoScriptResult wait();
  int done_fd() const;
  void stop();  // ends the current phase (its result is kept) and skips the rest

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::jobs
