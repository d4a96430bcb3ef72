#pragma once
// A traffic job: one scenario run against one target, with no printing. It starts the built-in
// demo target when no URL is given, adopts the demo clock (a trafficsim target's, or DEMO_*),
// builds the plan, runs the load engine, publishes a snapshot every 500 ms to its subscribers,
// stops on request, and hands back the final report with thresholds evaluated (and, on the demo
// clock, the seed's traffic_stats). `trafficsim run` and `play` print what it publishes; the control plane drives
// the very same object.
//
// Threads: run() executes on the calling thread, start() on a thread of the job's own.
// Subscribers are called on that thread, one at a time, in subscription order; subscribe and
// unsubscribe from any thread. stop(), state() and latest() are thread-safe.
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "load/engine.hpp"
#include "load/plan.hpp"
#include "scenarios/scenario.hpp"
#include "jobs/client_source.hpp"
#include "jobs/job_runner.hpp"
#include "jobs/target_session.hpp"
#include "scenarios/thresholds.hpp"

namespace trafficsim::telemetry {
class OtlpExporter;
class SpanBuffer;
}  // namespace trafficsim::telemetry

namespace trafficsim::jobs {

struct TrafficJobSettings {
  std::string url;       // the target's base URL; empty: the built-in target, started by the job
  TargetChoice builtin;  // the built-in target's catalog and seed (its url field is ignored)
  std::optional<std::chrono::nanoseconds> duration;  // default: the scenario's
  uint64_t seed = 1;
  // --segment i/n: only arrivals k with k mod n = i (load::Plan::segment). With seed_from_plan
  // the seed is derived from the plan itself (its hash with seed 0), so every segment of the
  // same command draws the same arrivals.
  std::optional<load::Segment> segment;
  bool seed_from_plan = false;
  int threads = 0;  // 0: one per core
  std::optional<double> hard_cap;
  // --start-at: the plan's t = 0 as a wall-clock instant (load::Plan::start_at); unset: now.
  std::optional<std::chrono::system_clock::time_point> start_at;
  // Scenarios on the Black Friday demo clock: this clock when given (a script shares one across
  // phases); otherwise the job resolves it (resolve_demo_clock) with time_scale.
  std::optional<scenarios::DemoClockSpec> clock;
  std::optional<double> time_scale;
  // Called on a worker thread for every finished request (--verbose); costs throughput.
  std::function<void(const load::RequestEvent&)> on_request;
  // Fed with the run's statistics every 500 ms when set (the client-side monitor source).
  std::shared_ptr<ClientSource> client_source;
  // Tracing (--trace-ratio): every request carries a traceparent, this share of them sampled;
  // sampled requests become client spans queued on `exporter` (when set) and kept in
  // `client_spans` (when set: the dashboard's Traces page). The report gets "tracing" and, with
  // an exporter, "export" (its statistics when the job ended).
  double trace_ratio = 0;
  std::shared_ptr<telemetry::OtlpExporter> exporter;
  std::shared_ptr<telemetry::SpanBuffer> client_spans;
};

// What a job publishes every 500 ms.
struct TrafficSnapshot {
  load::Snapshot engine;
  std::optional<double> demo_minute;  // on the demo clock
};

struct TrafficResult {
  boost::json::object report;  // load::build_report, annotated with the scenario and thresholds
  std::vector<scenarios::ThresholdResult> thresholds;
  bool stopped = false;  // stop() before the plan ended
  bool thresholds_passed() const;
};

class TrafficJob {
 public:
  // Resolves the demo clock (throws ClockConfigError for bad DEMO_* values), starts the built-in
  // target when no URL is given (throws TargetStartError) and builds the plan (throws
  // scenarios::ScenarioError when the scenario cannot be bound to these settings) — all at once,
  // so every problem is known before anything runs.
  TrafficJob(scenarios::Scenario scenario, std::map<std::string, std::string> params,
             TrafficJobSettings settings);
  ~TrafficJob();  // stops a started job, joins its thread, stops a built-in target
  TrafficJob(const TrafficJob&) = delete;
  TrafficJob& operator=(const TrafficJob&) = delete;

  const scenarios::Scenario& scenario() const;
  const load::Plan& plan() const;  // as built (hard caps applied, notes)
  const TrafficJobSettings& settings() const;
  const std::string& url() const;  // the target's URL (the built-in one's when it started it)
  bool builtin_target() const;
  const std::optional<scenarios::DemoClockSpec>& clock() const;
  // How the demo clock was chosen (adopted from the target, or why not), for the user to read.
  const std::vector<std::string>& notes() const;

  using Subscriber = std::function<void(const TrafficSnapshot&)>;
  uint64_t subscribe(Subscriber fn);
  void unsubscribe(uint64_t id);

  // Runs to the end on the calling thread. Throws load::StartError (the target cannot be
  // reached, file limits) and std::invalid_argument (an invalid mix); once only.
  TrafficResult run();
  // Runs on the job's own thread; wait() for the result.
  void start();
  // Blocks until a started job ends; returns its result or rethrows what its run threw.
  TrafficResult wait();
  // Readable (POLLIN) once the job has ended: for callers that also wait on other fds.
  int done_fd() const;

  // Issuing ends at once; in-flight requests finish or time out; the result is complete.
  // Idempotent; before run() it makes run() return at once with an empty result.
  void stop();

  JobState state() const;
  std::optional<TrafficSnapshot> latest() const;  // the last published snapshot

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::jobs
