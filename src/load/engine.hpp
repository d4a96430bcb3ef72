#pragma once
// The load engine: runs a Plan on W worker threads (one event loop each, owning its connections
// and statistics), snapshots statistics every 500 ms without stopping workers, and returns a
// complete result when the plan ends or stop() is called.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "load/plan.hpp"
#include "load/stats.hpp"

namespace trafficsim::load {

// A run that could not start (unresolvable host, TLS set-up, file limits): exit code 1 material.
class StartError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct StreamSnapshot {
  std::string name;
  double interval_rps = 0;       // completed requests per second over the interval
  double interval_sent_rps = 0;  // requests sent per second over the interval
  double target_rps = 0;         // the profile's rate now (open model)
  uint64_t in_flight = 0;        // sent and not yet completed
  double interval_error_ratio = 0;
  int64_t interval_p50_us = 0, interval_p95_us = 0, interval_p99_us = 0;  // corrected
  int64_t interval_p90_us = 0, interval_p999_us = 0;                      // corrected
  double interval_mean_us = 0;                                            // corrected
  uint64_t requests = 0, errors = 0, dropped = 0;                         // cumulative
  uint64_t completed = 0;  // cumulative: responses and transport errors
  int64_t lateness_p99_us = 0;                                            // cumulative
  // Injected templates: responses with the status the template expects (cumulative), and their
  // share of the requests completed in the interval.
  uint64_t expected_failures = 0;
  double interval_expected_failure_ratio = 0;
};

struct Snapshot {
  double elapsed_s = 0;
  double interval_s = 0;
  double total_s = 0;
  std::vector<StreamSnapshot> streams;
  StreamSnapshot total;
  bool saturated = false;  // the generator (or its connection cap) is the bottleneck
  bool draining = false;   // issuing has ended; in-flight requests finish or time out
};

// A point of the bounded time series kept for the report.
struct TimePoint {
  double t_s = 0;
  double rps = 0;
  double error_ratio = 0;
  int64_t p50_us = 0, p95_us = 0, p99_us = 0;
};

struct RunResult {
  RunStats stats;         // cumulative, per stream and endpoint: every request counted
  double duration_s = 0;  // issuing time (plan duration, or until stop)
  bool stopped_early = false;
  // started_at: the first request written (t = 0 when none was); ended_at: when run() ended.
  std::chrono::system_clock::time_point started_at, ended_at;
  std::optional<std::chrono::system_clock::time_point> start_at;  // the plan's --start-at
  std::vector<TimePoint> timeseries;  // bounded: halved (max of percentiles) when full
  // The same series per stream (parallel to plan.streams), kept and halved with `timeseries`.
  std::vector<std::vector<TimePoint>> stream_timeseries;
  bool saturated = false;
  std::string saturation_reason;
  std::vector<std::string> error_samples;  // a few distinct transport error messages
  int threads = 1;
};

// Send lateness p99 above this, or any drop, means the generator is saturated.
inline constexpr int64_t kSaturationLatenessP99Us = 10'000;

class Engine {
 public:
  // Resolves hosts and prepares TLS; throws StartError when the run cannot start, and
  // std::invalid_argument (naming the stream) for an invalid mix (a template's group out of
  // range, a group without templates, no positive group weight, or a weighted group whose
  // templates all weigh 0) or gap jitter (not 0 <= min <= max).
  explicit Engine(Plan plan);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  using SnapshotFn = std::function<void(const Snapshot&)>;
  // Runs to completion. on_snapshot is called on the calling thread every 500 ms. When
  // external_stop_fd >= 0 (e.g. an eventfd a signal handler writes), it becomes readable to stop.
  // With plan.start_at it first waits for that instant (the same fds end the wait: the result is
  // then empty and stopped early).
  RunResult run(const SnapshotFn& on_snapshot = {}, int external_stop_fd = -1);

  // Ends issuing at once; in-flight requests finish or time out. Thread-safe.
  void stop();

  const Plan& plan() const { return plan_; }

  static constexpr std::chrono::milliseconds kSnapshotInterval{500};

 private:
  // Sleeps until CLOCK_MONOTONIC deadline_ns, or until stop() / the stop fd.
  void wait_until(int64_t deadline_ns, int external_stop_fd);
  struct Impl;
  Plan plan_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::load
