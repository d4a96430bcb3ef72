#include "activity/activity_runner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/clock.hpp"

namespace trafficsim::activity {

ActivityRunner::ActivityRunner(RunOptions options, ActivitySink& sink, ActivityMetrics* metrics)
    : options_(options), generator_(options.generator), sink_(sink), metrics_(metrics) {
  if (options_.rate_sps && !(*options_.rate_sps > 0 && std::isfinite(*options_.rate_sps)))
    throw std::invalid_argument("activity rate must be above 0 spans per second");
  if (options_.duration && options_.duration->count() <= 0)
    throw std::invalid_argument("activity duration must be above 0");
}

void ActivityRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool ActivityRunner::wait_until(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [this] { return stop_; });
  return !stop_;
}

void ActivityRunner::emit(const Activity& a) {
  for (const auto& span : a.spans) sink_.on_span(a, span);
  for (const auto& log : a.logs) sink_.on_log(a, log);
  if (metrics_ != nullptr) metrics_->record(a);
  if (also_ != nullptr) also_->record(a);
  ++totals_.activities;
  totals_.spans += a.spans.size();
  totals_.logs += a.logs.size();
  if (a.kind == ActivityKind::log) {
    if (a.level == telemetry::Severity::warn) ++totals_.warnings;
    if (a.level == telemetry::Severity::error) ++totals_.errors;
  }
  spans_.store(totals_.spans, std::memory_order_relaxed);
  logs_.store(totals_.logs, std::memory_order_relaxed);
}

void ActivityRunner::emit_alerts(int64_t after_ns, int64_t until_ns) {
  for (const auto& a : generator_.alerts_between(after_ns, until_ns, start_unix_ns_)) emit(a);
}

RunTotals ActivityRunner::run() {
  start_mono_ = Clock::now();
  start_unix_ns_ = core::unix_now_ns();
  if (options_.rate_sps) {
    run_stress();
  } else {
    run_ticks();
  }
  sink_.flush();
  {
    std::lock_guard lock(mu_);
    // Stopped before its duration (a run without one always ends by a stop, which is its end).
    totals_.stopped =
        stop_ && options_.duration.has_value() && Clock::now() - start_mono_ < *options_.duration;
  }
  totals_.elapsed_s = std::chrono::duration<double>(Clock::now() - start_mono_).count();
  return totals_;
}

void ActivityRunner::run_ticks() {
  const int64_t interval_ns = options_.generator.interval.count();
  for (uint64_t k = 0;; ++k) {
    const auto offset = std::chrono::nanoseconds(static_cast<int64_t>(k) * interval_ns);
    if (options_.duration && offset >= *options_.duration) break;
    if (!wait_until(start_mono_ + offset)) return;
    for (const auto& a : generator_.tick(k, start_unix_ns_)) emit(a);
    emit_alerts(offset.count() - interval_ns, offset.count());
    sink_.flush();
    ++totals_.ticks;
  }
  wait_until(start_mono_ + *options_.duration);
}

void ActivityRunner::run_stress() {
  const double rate = *options_.rate_sps;
  const uint64_t total =
      options_.duration ? static_cast<uint64_t>(std::llround(
                              rate * std::chrono::duration<double>(*options_.duration).count()))
                        : std::numeric_limits<uint64_t>::max();
  const int64_t end_ns =
      options_.duration ? options_.duration->count() : std::numeric_limits<int64_t>::max();
  uint64_t emitted = 0;
  int64_t alerts_until = 0;
  // When activity k is due, in ns since the start; alerts go just before the first activity due
  // at or after them, so their place among the lines is the same in every run of one seed.
  auto due_ns = [rate](uint64_t k) {
    return static_cast<int64_t>(static_cast<double>(k) * 1e9 / rate);
  };
  auto alerts_up_to = [&](int64_t until) {
    until = std::min(until, end_ns - 1);  // as ticks: before the end
    if (until <= alerts_until) return;
    emit_alerts(alerts_until, until);
    alerts_until = until;
  };
  constexpr int64_t kBatchNs = 1'000'000;  // one batch per millisecond
  while (true) {
    const int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_mono_).count();
    for (; emitted < total && due_ns(emitted) <= now_ns; ++emitted) {
      const int64_t at = due_ns(emitted);
      alerts_up_to(at);
      emit(generator_.stress_activity(emitted, start_unix_ns_ + static_cast<uint64_t>(at)));
    }
    // Alerts due by now but before the next activity.
    alerts_up_to(emitted < total ? std::min(now_ns, due_ns(emitted) - 1) : now_ns);
    sink_.flush();
    ++totals_.ticks;
    if (emitted >= total) break;
    const int64_t next = (now_ns / kBatchNs + 1) * kBatchNs;
    if (!wait_until(start_mono_ + std::chrono::nanoseconds(next))) return;
  }
  if (wait_until(start_mono_ + *options_.duration)) {
    alerts_up_to(end_ns);
    sink_.flush();
  }
}

}  // namespace trafficsim::activity
