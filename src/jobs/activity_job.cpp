#include "jobs/activity_job.hpp"

#include <chrono>

#include "core/clock.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::jobs {

namespace {

activity::FanOutSink& build_sinks(activity::FanOutSink& sink, const ActivityJobSettings& s,
                                  const telemetry::Registry& registry) {
  if (s.json_lines_fd) sink.add(std::make_unique<activity::JsonLinesSink>(*s.json_lines_fd));
  if (s.exporter) {
    sink.add(std::make_unique<activity::OtlpSink>(
        s.exporter, s.export_metrics ? &registry : nullptr, core::unix_now_ns()));
  }
  if (s.tap_spans || s.tap_logs)
    sink.add(std::make_unique<activity::TapSink>(s.tap_spans, s.tap_logs));
  return sink;
}

}  // namespace

ActivityJob::ActivityJob(ActivityJobSettings settings)
    : settings_(std::move(settings)),
      metrics_(registry_),
      activity_(settings_.run, build_sinks(sink_, settings_, registry_), &metrics_) {
  activity_.also_record(settings_.tap_metrics.get());
}

ActivityJob::~ActivityJob() {
  stop();
  runner_.join();
}

ActivityResult ActivityJob::run() {
  return runner_.run([this] { return body(); });
}

void ActivityJob::start() {
  runner_.start([this] { return body(); });
}

ActivityResult ActivityJob::wait() {
  return runner_.wait();
}

void ActivityJob::stop() {
  activity_.stop();
}

ActivityResult ActivityJob::body() {
  ActivityResult r;
  r.totals = activity_.run();
  const auto& o = settings_.run;
  auto& rep = r.report;
  rep["kind"] = "activity";
  rep["mode"] = o.rate_sps ? "stress" : "ticks";
  rep["seed"] = o.generator.seed;
  if (o.rate_sps) {
    rep["rate_sps"] = *o.rate_sps;
  } else {
    rep["intensity"] = o.generator.intensity;
    rep["interval_s"] = std::chrono::duration<double>(o.generator.interval).count();
  }
  if (o.duration) rep["duration_s"] = std::chrono::duration<double>(*o.duration).count();
  rep["ticks"] = r.totals.ticks;
  rep["activities"] = r.totals.activities;
  rep["spans"] = r.totals.spans;
  rep["logs"] = r.totals.logs;
  rep["warnings"] = r.totals.warnings;
  rep["errors"] = r.totals.errors;
  rep["elapsed_s"] = r.totals.elapsed_s;
  rep["stopped"] = r.totals.stopped;
  return r;
}

}  // namespace trafficsim::jobs
