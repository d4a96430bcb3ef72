// The runner on the real clock: ticks until the duration, stress batches at the rate, stop from
// another thread, metrics and the dashboard's buffers fed. Waits on outcomes, never on sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "activity/activity_metrics.hpp"
#include "activity/activity_runner.hpp"
#include "activity/activity_sink.hpp"
#include "support/eventually.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::activity {
namespace {

using namespace std::chrono_literals;

class CountingSink final : public ActivitySink {
 public:
  void on_span(const Activity& a, const telemetry::Span&) override {
    std::lock_guard lock(mu);
    ++spans;
    ++by_kind[static_cast<int>(a.kind)];
  }
  void on_log(const Activity&, const telemetry::LogRecord&) override {
    std::lock_guard lock(mu);
    ++logs;
  }
  void flush() override {
    std::lock_guard lock(mu);
    ++flushes;
  }
  uint64_t span_count() {
    std::lock_guard lock(mu);
    return spans;
  }
  std::mutex mu;
  uint64_t spans = 0, logs = 0, flushes = 0;
  uint64_t by_kind[5] = {};
};

TEST(ActivityRunner, TickModeEmitsOneTickPerIntervalUntilTheDuration) {
  CountingSink sink;
  RunOptions o;
  o.generator = {.seed = 1, .intensity = 1, .interval = 20ms};
  o.duration = 100ms;
  ActivityRunner runner(o, sink);
  const auto t = runner.run();
  EXPECT_EQ(t.ticks, 5u) << "ticks at 0, 20, 40, 60, 80 ms";
  EXPECT_GE(t.activities, 15u);
  EXPECT_LE(t.activities, 30u);
  EXPECT_EQ(sink.spans, t.spans);
  EXPECT_EQ(sink.logs, t.logs);
  EXPECT_EQ(t.spans, t.activities) << "one span per activity, no alerts this early";
  EXPECT_GE(t.elapsed_s, 0.1) << "the run lasts its duration";
  EXPECT_FALSE(t.stopped);
}

TEST(ActivityRunner, StressModeEmitsRateTimesDurationSpans) {
  CountingSink sink;
  RunOptions o;
  o.generator.seed = 3;
  o.rate_sps = 20'000;
  o.duration = 300ms;
  ActivityRunner runner(o, sink);
  const auto t = runner.run();
  EXPECT_EQ(t.spans, 6000u);
  EXPECT_EQ(sink.spans, 6000u);
  EXPECT_GT(t.ticks, 50u) << "batches, not one burst";
  EXPECT_GE(t.elapsed_s, 0.3);
  EXPECT_LT(t.elapsed_s, 2.0);
  for (int k = 0; k < 4; ++k) EXPECT_GT(sink.by_kind[k], 1000u) << "kind " << k;
}

TEST(ActivityRunner, StopEndsARunWithoutDuration) {
  CountingSink sink;
  RunOptions o;
  o.generator = {.seed = 1, .intensity = 1, .interval = 10ms};
  ActivityRunner runner(o, sink);
  RunTotals t;
  std::thread th([&] { t = runner.run(); });
  EXPECT_TRUE(testing::eventually([&] { return sink.span_count() >= 12; }));
  runner.stop();
  th.join();
  EXPECT_GE(t.ticks, 3u);
  EXPECT_EQ(runner.spans_emitted(), t.spans);
}

TEST(ActivityRunner, StopBeforeTheRunMakesItReturnAtOnce) {
  CountingSink sink;
  RunOptions o;
  o.duration = 1h;
  ActivityRunner runner(o, sink);
  runner.stop();
  const auto t = runner.run();
  EXPECT_EQ(t.spans, 0u);
  EXPECT_TRUE(t.stopped);
}

TEST(ActivityRunner, BadOptionsAreRefused) {
  CountingSink sink;
  RunOptions o;
  o.rate_sps = 0;
  EXPECT_THROW(ActivityRunner(o, sink), std::invalid_argument);
  o.rate_sps.reset();
  o.generator.intensity = 0;
  EXPECT_THROW(ActivityRunner(o, sink), std::invalid_argument);
}

TEST(ActivityRunner, MetricsAndTheDashboardsBuffersSeeEveryActivity) {
  telemetry::Registry registry;
  ActivityMetrics metrics(registry);
  auto spans = std::make_shared<telemetry::SpanBuffer>(100'000);
  auto logs = std::make_shared<telemetry::LogBuffer>(100'000);
  FanOutSink fan;
  fan.add(std::make_unique<TapSink>(spans, logs));
  RunOptions o;
  o.generator.seed = 5;
  o.rate_sps = 10'000;
  o.duration = 200ms;
  ActivityRunner runner(o, fan, &metrics);
  const auto t = runner.run();
  EXPECT_EQ(t.spans, 2000u);
  EXPECT_EQ(spans->total_added(), t.spans);
  EXPECT_EQ(logs->last_seq(), t.logs);
  const std::string page = registry.expose();
  for (const char* family :
       {"activity_http_requests_total{method=", "activity_http_request_duration_seconds_bucket",
        "activity_db_query_duration_seconds_bucket{table=", "activity_job_duration_seconds_count",
        "activity_cache_operations_total{result=\"hit\"}", "activity_cache_hit_ratio 0.",
        "activity_log_records_total{level=\"debug\"}", "activity_spans_total{kind=\"http\"}"})
    EXPECT_NE(page.find(family), std::string::npos) << family << "\n" << page;
}

}  // namespace
}  // namespace trafficsim::activity
