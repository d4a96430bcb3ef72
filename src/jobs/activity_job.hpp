#pragma once
// An activity job (seed 003, docs/activity.md): the demo-activity generator on the clock, its
// metrics on a registry of its own, its items to the sinks the settings choose — JSON lines on
// a file descriptor (`trafficsim telemetry`'s stdout), an OTLP exporter, the dashboard's span and
// log buffers. `trafficsim telemetry` runs one; the control plane starts one for
// POST /traffic/start {"scenario": "activity"}.
//
// Threads: run() on the calling thread, or start() on a thread of the job's own; that thread is
// the one that emits. stop(), state(), spans_emitted() from any thread.
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/json/object.hpp>

#include "activity/activity_metrics.hpp"
#include "activity/activity_runner.hpp"
#include "activity/activity_sink.hpp"
#include "jobs/job_runner.hpp"
#include "telemetry/log_buffer.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::telemetry {
class OtlpExporter;
}

namespace trafficsim::jobs {

struct ActivityJobSettings {
  activity::RunOptions run;
  std::optional<int> json_lines_fd;                   // JSON lines to this descriptor (1: stdout)
  std::shared_ptr<telemetry::OtlpExporter> exporter;  // queue spans and logs here when set
  // The job's registry as the exporter's metrics (only for an exporter of the job's own: a shared
  // one keeps its owner's source).
  bool export_metrics = false;
  std::shared_ptr<telemetry::SpanBuffer> tap_spans;  // the dashboard's buffers, when set
  std::shared_ptr<telemetry::LogBuffer> tap_logs;
  // The dashboard's activity metrics (its Metrics page), recorded beside the job's own.
  std::shared_ptr<activity::ActivityMetrics> tap_metrics;
};

struct ActivityResult {
  activity::RunTotals totals;
  // {"kind":"activity","mode":"ticks"|"stress","seed","intensity","interval_s"|"rate_sps",
  //  "ticks","activities","spans","logs","warnings","errors","elapsed_s","stopped"}
  boost::json::object report;
};

class ActivityJob {
 public:
  // Checks the options (std::invalid_argument) and builds the sinks; nothing runs yet.
  explicit ActivityJob(ActivityJobSettings settings);
  ~ActivityJob();
  ActivityJob(const ActivityJob&) = delete;
  ActivityJob& operator=(const ActivityJob&) = delete;

  ActivityResult run();
  void start();
  ActivityResult wait();
  void stop();
  int done_fd() const { return runner_.done_fd(); }
  JobState state() const { return runner_.state(); }
  uint64_t spans_emitted() const { return activity_.spans_emitted(); }
  uint64_t logs_emitted() const { return activity_.logs_emitted(); }
  // The activity's metrics (activity_metrics.hpp): expose() for a /metrics page.
  const telemetry::Registry& registry() const { return registry_; }

 private:
  ActivityResult body();

  ActivityJobSettings settings_;
  telemetry::Registry registry_;  // before everything that reads it
  activity::ActivityMetrics metrics_;
  activity::FanOutSink sink_;
  activity::ActivityRunner activity_;
  JobRunner<ActivityResult> runner_;  // last: joined before the rest goes
};

}  // namespace trafficsim::jobs
