#include "cli/telemetry_command.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/signals.hpp"
#include "cli/traffic_flags.hpp"
#include "jobs/activity_job.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::cli {

namespace {

constexpr std::string_view kActivityService = "trafficsim-activity";
constexpr double kMaxIntensity = 1000;

double parse_intensity_arg(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || !(v > 0) || v > kMaxIntensity)
    throw UsageError(fmt::format(
        "invalid --intensity '{}': expected a number above 0 and at most {} (1: the seed's 3-6 "
        "activities per tick, 2: twice as many)",
        text, kMaxIntensity));
  return v;
}

jobs::ActivityJobSettings settings_from(const TelemetryOptions& o) {
  jobs::ActivityJobSettings s;
  auto& run = s.run;
  if (!o.rate.empty()) {
    if (!o.intensity.empty())
      throw UsageError(
          "--intensity and --rate exclude each other: --rate sets a rate of spans "
          "instead of ticks of 3-6 activities");
    run.rate_sps = parse_rate_arg(o.rate, "--rate");
  }
  if (!o.intensity.empty()) run.generator.intensity = parse_intensity_arg(o.intensity);
  run.generator.interval = parse_duration_arg(o.interval, "--interval");
  if (run.generator.interval < std::chrono::milliseconds(1))
    throw UsageError(
        fmt::format("invalid duration for --interval: '{}' must be at least 1ms", o.interval));
  if (!o.duration.empty()) run.duration = parse_duration_arg(o.duration, "--duration");
  run.generator.seed = parse_seed_arg(o.seed_text, "--seed");
  s.exporter = make_exporter(o.otlp, kActivityService);
  s.export_metrics = true;
  if (!s.exporter || o.json_stdout) s.json_lines_fd = 1;
  return s;
}

}  // namespace

CLI::App* add_telemetry_command(CLI::App& app, TelemetryOptions& o) {
  auto* cmd = app.add_subcommand(
      "telemetry",
      "Generate demo activity (seed 003): HTTP requests, database queries, jobs, cache "
      "operations, warnings and errors as spans, metrics and logs");
  cmd->add_option("--interval", o.interval, "One tick of 3-6 activities every")
      ->capture_default_str();
  cmd->add_option("--intensity", o.intensity,
                  "Multiply the activities per tick by this (default 1)");
  cmd->add_option("--rate", o.rate,
                  "Stress mode: this many spans per second instead of ticks (100, 2.5k, 50k)");
  cmd->add_option("--duration", o.duration, "Stop after (30s, 5m; default: until Ctrl+C)");
  cmd->add_option("--seed", o.seed_text,
                  "Seed: with one, ids, durations and output repeat exactly except time fields");
  cmd->add_flag("--stdout", o.json_stdout,
                "JSON lines on stdout also when an OTLP endpoint is given");
  add_otlp_flag(cmd, o.otlp, "the spans, metrics and logs");
  cmd->footer(
      "Output: JSON lines on stdout (one object per span and per log record, docs/activity.md)\n"
      "unless an OTLP endpoint is given (--otlp or OTEL_EXPORTER_OTLP_ENDPOINT).");
  return cmd;
}

int run_telemetry(const TelemetryOptions& o) {
  jobs::ActivityJobSettings settings;
  try {
    settings = settings_from(o);
  } catch (const UsageError& e) {
    fmt::print(stderr, "trafficsim telemetry: {}\n", e.what());
    return kExitUsage;
  }
  auto exporter = settings.exporter;
  const int stop_fd = install_stop_signals();
  jobs::ActivityJob job(std::move(settings));
  job.start();
  wait_or_stop(job.done_fd(), stop_fd, [&] { job.stop(); });
  jobs::ActivityResult r;
  try {
    r = job.wait();
  } catch (const activity::OutputClosed&) {
    if (exporter) exporter->shutdown();
    return kExitOk;  // `trafficsim telemetry | head`: the reader had enough
  } catch (const std::exception& e) {
    fmt::print(stderr, "trafficsim telemetry: {}\n", e.what());
    if (exporter) exporter->shutdown();
    return kExitRunFailed;
  }
  boost::json::object report;
  finish_export(report, exporter.get(), nullptr);  // while the job's registry is still there
  const auto& t = r.totals;
  fmt::print(stderr,
             "trafficsim telemetry: {} activities, {} spans, {} log records ({} warnings, {} "
             "errors) in {:.1f} s{}\n",
             t.activities, t.spans, t.logs, t.warnings, t.errors, t.elapsed_s,
             t.stopped ? " (stopped)" : "");
  if (const auto* e = report.if_contains("export"); e && e->is_object())
    fmt::print(stderr, "{}\n", export_summary(e->as_object()));
  return kExitOk;
}

}  // namespace trafficsim::cli
