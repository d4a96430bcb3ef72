#pragma once
// The control plane's jobs (seed 001's trafficJobManager): start a built-in scenario or mode
// from an API request (defaults, the hard cap with clamping said out loud, endpoint choice), run
// a demo script as one job, stop, list, report; at most max_jobs at once (409 names the running
// ones); finished jobs are kept for `retention`, then removed; SSE heartbeats every 10 s.
// Every job aims at the one target the manager was made with: a request cannot change it.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "control/control_job.hpp"
#include "http/api_error.hpp"
#include "jobs/demo_script_job.hpp"
#include "scenarios/demo_script.hpp"

namespace trafficsim::telemetry {
class LogBuffer;
class Registry;
}  // namespace trafficsim::telemetry

namespace trafficsim::activity {
class ActivityMetrics;
}

namespace trafficsim::control {

// The scenario name of the demo-activity job kind (seed 003).
inline constexpr std::string_view kActivityScenario = "activity";

// An answer other than success, for the API layer to send.
class ApiFailure : public std::runtime_error {
 public:
  explicit ApiFailure(http::ApiError e, boost::json::object extra = {})
      : std::runtime_error(e.message), error(std::move(e)), extra(std::move(extra)) {}
  http::ApiError error;
  boost::json::object extra;  // more fields for the body (e.g. the running jobs)
};

struct StartRequest {
  std::string scenario;
  std::optional<double> duration_s;
  std::optional<double> max_rps;
  std::optional<std::vector<std::string>> endpoints;  // empty optional: all
  std::optional<double> time_scale;  // timeScale: the demo clock's speed (dual-mode jobs only)
};

// Parses POST /traffic/start's body; throws ApiFailure (400 naming the field).
StartRequest parse_start_request(std::string_view body);

struct ManagerOptions {
  std::string target_url;  // every job's target
  double hard_cap = 20;
  std::chrono::milliseconds retention{5 * 60 * 1000};
  size_t max_jobs = 4;
  std::optional<double> time_scale;                // the demo clock's speed for dual-mode jobs
  std::optional<scenarios::DemoClockSpec> clock;   // the demo clock shared with the target
  int threads = 0;
  uint64_t seed = 0;  // 0: a fresh seed per job
  // Every open stream of a running job gets a ": heartbeat" comment this often (proxies and
  // browsers keep the connection; a client that went is noticed even between events).
  std::chrono::milliseconds heartbeat{10'000};
  // When set (`trafficsim demo` without a pinned DEMO_* clock): a job on the demo clock started
  // while none runs starts the target's Black Friday story over — minute 0 now, at the job's
  // time scale — so a Black Friday started from the dashboard degrades the target from its
  // first minute. Jobs on the demo clock that overlap share the running clock. Returns false
  // when the target could not be told (not a trafficsim target): the job then resolves the
  // clock from the target as `run` does.
  std::function<bool(const scenarios::DemoClockSpec&)> start_demo_clock;
  // Tracing and export of every job (--trace-ratio, --otlp): the generator's client spans.
  double trace_ratio = 0;
  std::shared_ptr<telemetry::OtlpExporter> exporter;
  std::shared_ptr<telemetry::SpanBuffer> client_spans;
  // Where activity jobs ({"scenario": "activity"}, docs/activity.md) keep their spans and log
  // records for the dashboard; the manager makes them when not given. Activity jobs also queue
  // on `exporter` when there is one.
  std::shared_ptr<telemetry::SpanBuffer> activity_spans;
  // When set, each activity job exports through an exporter of its own made by this (its spans,
  // logs and metrics under the activity's service name), shut down when the job ends; otherwise
  // through `exporter` (spans and logs only).
  std::function<std::shared_ptr<telemetry::OtlpExporter>()> make_activity_exporter;
  std::shared_ptr<telemetry::LogBuffer> activity_logs;
  // The activity jobs' metrics together (activity_metrics.hpp), for the dashboard's Metrics page:
  // the registry and the ActivityMetrics registered on it; the manager makes them when not given.
  std::shared_ptr<telemetry::Registry> activity_registry;
  std::shared_ptr<activity::ActivityMetrics> activity_metrics;
};

class JobManager {
 public:
  static constexpr double kDefaultDurationS = 120;

  explicit JobManager(ManagerOptions options);
  ~JobManager();  // stops every job and joins
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // POST /traffic/start: {jobId, status: "starting", ...} or ApiFailure (400, 409).
  boost::json::object start(const StartRequest& request);
  // A demo script as one job (`trafficsim demo --script`); the observer (the terminal's
  // narration) hears the phases too. Returns the job.
  std::shared_ptr<ControlJob> start_script(scenarios::DemoScript script,
                                           std::vector<scenarios::Scenario> phases,
                                           double time_scale,
                                           jobs::DemoScriptObserver* observer,
                                           std::function<void(const jobs::DemoScriptResult&)>
                                               on_result = {});

  std::shared_ptr<ControlJob> find(const std::string& id) const;
  std::vector<std::shared_ptr<ControlJob>> list() const;  // newest first
  // The running dual-mode job's /admin/traffic-stats, when one runs.
  std::optional<boost::json::object> traffic_stats() const;
  // GET /traffic/scenarios.
  boost::json::object scenarios_json() const;
  void stop_all();
  void wait_all();  // joins every job's thread
  // Waits until every ended job's streams are flushed (ControlJob::streams_flushed), at most
  // `within`; false when some were not. Call between wait_all() and stopping the server.
  bool flush_streams(std::chrono::milliseconds within);
  void sweep();     // removes finished jobs older than the retention
  const ManagerOptions& options() const { return options_; }

 private:
  std::shared_ptr<ControlJob> add(JobSpec spec);
  boost::json::object start_activity(const StartRequest& request);
  void housekeeping();
  // The clock for a new job on the demo clock at this scale (see start_demo_clock); nullopt:
  // the job resolves it from the target.
  std::optional<scenarios::DemoClockSpec> demo_clock_for(double time_scale);
  double default_time_scale() const;

  ManagerOptions options_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<ControlJob>> jobs_;  // in start order
  std::condition_variable cv_;
  bool closing_ = false;
  std::optional<scenarios::DemoClockSpec> started_clock_;  // the last clock start_demo_clock set
  std::thread housekeeper_;
};

// An integral double as an integer (120, not 1.2E2), others as they are.
boost::json::value json_number(double v);

// A random (version 4) UUID.
std::string new_uuid();

}  // namespace trafficsim::control
