#pragma once
// Runs the activity generator against the clock and hands every activity to a sink, on the
// calling thread (the one thread that emits, so output order is the generator's order):
//
// - tick mode (the default): tick k at run start + k x interval (2 s), its 3-6 x intensity
//   activities, then the warnings and errors that fell due since the tick before;
// - stress mode (`rate_sps`): activity k (one span each) at run start + k / rate, emitted in
//   batches every millisecond — one wait on a deadline per batch, never a sleep per span — with the
//   warnings and errors on their own schedule as in tick mode.
//
// With a duration the run ends once it has passed (every stress span of rate x duration emitted
// first); without one it runs until stop(). Waits are on a condition variable with a deadline,
// so stop() from any thread ends the run at once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "activity/activity_generator.hpp"
#include "activity/activity_metrics.hpp"
#include "activity/activity_sink.hpp"

namespace trafficsim::activity {

struct RunOptions {
  GeneratorOptions generator;
  std::optional<double> rate_sps;                    // > 0: stress mode, spans per second
  std::optional<std::chrono::nanoseconds> duration;  // none: until stop()
};

struct RunTotals {
  uint64_t ticks = 0;       // ticks emitted (tick mode) or batches (stress mode)
  uint64_t activities = 0;  // warnings and errors included
  uint64_t spans = 0;
  uint64_t logs = 0;
  uint64_t warnings = 0;
  uint64_t errors = 0;
  bool stopped = false;  // stop() ended the run before its duration
  double elapsed_s = 0;
};

class ActivityRunner {
 public:
  // `metrics` (may be null) records every activity. Throws std::invalid_argument for bad options
  // (see ActivityGenerator; a rate must be above 0).
  ActivityRunner(RunOptions options, ActivitySink& sink, ActivityMetrics* metrics = nullptr);
  ActivityRunner(const ActivityRunner&) = delete;
  ActivityRunner& operator=(const ActivityRunner&) = delete;

  // Runs to the end on this thread; once only. A sink's exception ends the run and propagates.
  RunTotals run();
  // Any thread, idempotent; a run not yet begun returns at once when it begins.
  void stop();
  // Any thread: what was emitted so far.
  uint64_t spans_emitted() const { return spans_.load(std::memory_order_relaxed); }
  uint64_t logs_emitted() const { return logs_.load(std::memory_order_relaxed); }
  const RunOptions& options() const { return options_; }
  // Records every activity into `also` too (may be null; set before run()): the dashboard's
  // metrics shared by every activity job of a `demo`.
  void also_record(ActivityMetrics* also) { also_ = also; }

 private:
  using Clock = std::chrono::steady_clock;
  void run_ticks();
  void run_stress();
  // false once stopped (at once, or while waiting).
  bool wait_until(Clock::time_point deadline);
  void emit(const Activity& activity);
  void emit_alerts(int64_t after_ns, int64_t until_ns);

  RunOptions options_;
  ActivityGenerator generator_;
  ActivitySink& sink_;
  ActivityMetrics* metrics_;
  ActivityMetrics* also_ = nullptr;
  Clock::time_point start_mono_{};
  uint64_t start_unix_ns_ = 0;
  RunTotals totals_;
  std::atomic<uint64_t> spans_{0}, logs_{0};
  std::mutex mu_;  // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace trafficsim::activity
