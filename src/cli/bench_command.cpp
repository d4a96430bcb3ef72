#include "cli/bench_command.hpp"

#include <charconv>
#include <cstdio>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/metrics_listen.hpp"
#include "cli/target_command.hpp"
#include "jobs/client_source.hpp"
#include "jobs/client_tracing.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "cli/summary.hpp"
#include "cli/terminal.hpp"
#include "cli/traffic_flags.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"

namespace trafficsim::cli {

CLI::App* add_bench_command(CLI::App& app, BenchOptions& o) {
  auto* cmd = app.add_subcommand(
      "bench",
      "HTTP benchmark (wrk-like): closed model by default, open model with -R.\n"
      "Latency is reported corrected (from the intended send time) and as service time.");
  cmd->add_option("url", o.url, "Target URL (http:// or https://)")->required();
  cmd->add_option("-c,--connections", o.connections,
                  "Connections: exact count (closed) or cap (open); default 64 closed, 256 open");
  cmd->add_option("-t,--threads", o.threads, "Worker threads (default: number of cores)");
  cmd->add_option("-d,--duration", o.duration, "Duration, e.g. 30s, 5m (default 10s)");
  cmd->add_option(
      "-R,--rate", o.rate,
      "Open model: total arrival rate, e.g. 1000, 2.5k, 6000rpm (all threads together)");
  cmd->add_option("-H,--header", o.headers, "Request header 'Name: value' (repeatable)");
  cmd->add_option("-m,--method", o.method, "Request method (default GET)");
  cmd->add_option("--body", o.body, "Request body: a string, or @file for a file's contents");
  cmd->add_option("--timeout", o.timeout, "Per-request timeout from the actual send (default 5s)");
  cmd->add_option("--segment", o.segment,
                  "Run only segment i of n (arrivals k with k mod n = i), e.g. 0/4");
  cmd->add_option("--start-at", o.start_at, kStartAtHelp);
  cmd->add_option("--metrics-listen", o.metrics_listen, kMetricsListenHelp);
  cmd->add_option("--metrics-linger", o.metrics_linger, kMetricsLingerHelp);
  cmd->add_option("--json", o.json_path, "Write the JSON report here (atomically)");
  cmd->add_option("--seed", o.seed, "Random seed (default: derived from the plan, the same on every segment; recorded in the report)");
  cmd->add_flag("--poisson", o.poisson, "Open model: Poisson arrivals instead of uniform spacing");
  cmd->add_option("--backlog", o.backlog,
                  "Open model: arrivals that may wait for a connection before being dropped "
                  "(default 10000)");
  cmd->add_flag("-k,--insecure", o.insecure, "Do not verify TLS certificates");
  cmd->add_option("--cacert", o.cacert, "Trust this CA certificate (PEM) for HTTPS");
  cmd->add_option("--hard-cap", o.hard_cap,
                  "Never start more than this rate (token bucket, burst = one second's worth)");
  cmd->add_option("--expect", o.expect,
                  "Statuses that count as success: 200,204 or 200-499 or 2xx (default: any status below 400)");
  cmd->add_flag("-q,--quiet", o.quiet, "No live progress line");
  cmd->add_flag("--no-color", o.no_color, "No colours in the summary");
  add_trace_ratio_flag(cmd, o.otlp);
  add_otlp_flag(cmd, o.otlp, "the client spans of --trace-ratio");
  return cmd;
}

namespace {

load::Plan build_plan(const BenchOptions& o) {
  load::Plan plan;
  load::Stream s;
  s.name = "bench";
  s.url = parse_url_arg(o.url, "URL");
  plan.duration = parse_duration_arg(o.duration, "-d/--duration");
  s.timeout = parse_duration_arg(o.timeout, "--timeout");
  const bool open = !o.rate.empty();
  plan.model = open ? load::LoadModel::open : load::LoadModel::closed;
  if (o.connections != BenchOptions::kNotGiven && o.connections < 1)
    throw UsageError(fmt::format("invalid -c/--connections {}: must be at least 1", o.connections));
  s.connections = o.connections > 0 ? o.connections : (open ? 256 : 64);
  if (o.threads < 0)
    throw UsageError(fmt::format("invalid -t/--threads {}: must be at least 1", o.threads));
  plan.threads = o.threads > 0
                     ? o.threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!open) plan.threads = std::min(plan.threads, s.connections);
  if (open) {
    double rate = parse_rate_arg(o.rate, "-R/--rate");
    s.profile = core::RateProfile::constant(rate, static_cast<double>(plan.duration.count()) / 1e9);
    s.process = o.poisson ? core::ArrivalProcess::poisson : core::ArrivalProcess::uniform;
  } else if (o.poisson) {
    throw UsageError("--poisson needs an open-model run: give a rate with -R");
  }
  if (o.backlog == 0) throw UsageError("invalid --backlog 0: must be at least 1");
  s.backlog = o.backlog;
  if (!o.hard_cap.empty()) {
    double cap = parse_rate_arg(o.hard_cap, "--hard-cap");
    s.hard_cap = load::HardCap{cap, cap};
  }
  if (!o.segment.empty()) plan.segment = parse_segment_arg(o.segment, "--segment");
  if (!o.start_at.empty()) {
    plan.start_at = parse_start_at_arg(o.start_at, "--start-at");
    check_start_at_arg(*plan.start_at, plan.duration, std::chrono::system_clock::now(),
                       "--start-at");
  }
  if (!o.seed.empty()) plan.seed = parse_seed_arg(o.seed, "--seed");
  load::RequestTemplate t;
  t.method = parse_method_arg(o.method);
  t.target = s.url.target;
  t.name = t.method + " " + t.target;
  for (const auto& h : o.headers) t.headers.push_back(parse_header_arg(h));
  t.body = parse_body_arg(o.body);
  t.expected_statuses = parse_statuses_arg(o.expect, "--expect");
  s.requests.push_back(std::move(t));
  plan.tls.verify = !o.insecure;
  plan.tls.ca_file = o.cacert;
  plan.streams.push_back(std::move(s));
  plan.apply_hard_caps();
  if (o.seed.empty()) {
    // Derived from the plan itself, so the same command on n machines (--segment i/n, one
    // Kubernetes Indexed Job) draws the same arrivals, partitions exactly and merges.
    plan.seed = 0;
    plan.seed = std::stoull(plan.hash(), nullptr, 16);
  }
  return plan;
}

}  // namespace

namespace {
int bench_checked(const BenchOptions& o);
}  // namespace

int run_bench(const BenchOptions& o) {
  // The one exception -> exit-code ladder (cli/traffic_flags.hpp): bad flags 2, cannot run 1.
  return guarded("trafficsim bench", [&] { return bench_checked(o); });
}

namespace {

int bench_checked(const BenchOptions& o) {
  load::Plan plan = build_plan(o);
  if (!o.json_path.empty()) load::check_writable(o.json_path);
  // Tracing: a traceparent on every request, client spans for the sampled share (exported when
  // --otlp or OTEL_EXPORTER_OTLP_* names an endpoint).
  plan.trace_ratio = trace_ratio_of(o.otlp);
  auto exporter = make_exporter(o.otlp, kGeneratorService, true, /*traces_only=*/true);
  std::unique_ptr<jobs::ClientTracer> tracer;
  if (plan.trace_ratio > 0) {
    tracer = std::make_unique<jobs::ClientTracer>(plan, exporter, nullptr);
    tracer->attach(plan);
  }
  // --metrics-listen: the run's statistics on /metrics while it goes, labelled with the segment.
  std::shared_ptr<jobs::ClientSource> client_source;
  std::unique_ptr<MetricsListener> metrics_listener;
  std::chrono::nanoseconds metrics_linger{0};
  if (!o.metrics_linger.empty()) {
    if (o.metrics_listen.empty())
      throw UsageError("--metrics-linger: needs --metrics-listen (nothing serves /metrics)");
    metrics_linger = parse_duration_arg(o.metrics_linger, "--metrics-linger");
  }
  if (!o.metrics_listen.empty()) {
    const auto [host, port] = parse_listen_arg(o.metrics_listen, "--metrics-listen");
    client_source = std::make_shared<jobs::ClientSource>();
    client_source->attach(plan);
    try {
      metrics_listener = std::make_unique<MetricsListener>(host, port, client_source, plan.segment);
    } catch (const std::exception& e) {
      fmt::print(stderr, "trafficsim bench: --metrics-listen: {}\n", e.what());
      return kExitRunFailed;
    }
  }
  auto engine = std::make_unique<load::Engine>(plan);
  // Handlers first: a signal after the "Running" line must stop the run, not kill it.
  int stop_fd = install_stop_signals();
  const auto& s = plan.streams[0];
  Style out_style = Style::for_fd(fileno(stdout), !o.no_color);
  std::string model =
      plan.model == load::LoadModel::open
          ? fmt::format("open model at {} req/s ({} arrivals), connection cap {}",
                        format_rate(s.profile.peak_rate() / plan.segment.count),
                        s.process == core::ArrivalProcess::poisson ? "Poisson" : "uniform",
                        s.connections)
          : fmt::format("closed model (maximum throughput), {} connections", s.connections);
  fmt::print("Running {} test @ {}{}\n  {} thread{}, {}{}\n",
             format_seconds(static_cast<double>(plan.duration.count()) / 1e9), s.url.origin(),
             s.requests[0].target, plan.threads, plan.threads == 1 ? "" : "s", model,
             plan.segment.whole()
                 ? std::string()
                 : fmt::format(", segment {}/{}", plan.segment.index, plan.segment.count));
  for (const auto& n : plan.notes) fmt::print("  {} {}\n", out_style.yellow("note:"), n);
  if (plan.start_at)
    fmt::print("  {}\n", start_at_line(*plan.start_at, std::chrono::system_clock::now()));
  if (metrics_listener)
    fmt::print("  metrics on {} (segment {}/{})\n", metrics_listener->url(), plan.segment.index,
               plan.segment.count);
  std::fflush(stdout);

  ProgressLine progress(stderr, o.quiet);
  load::RunResult result =
      engine->run([&](const load::Snapshot& snap) { progress.update(snap); }, stop_fd);
  progress.finish();

  auto report = load::build_report(plan, result, TRAFFICSIM_VERSION);
  if (tracer) {
    report["tracing"] = boost::json::object{{"ratio", plan.trace_ratio},
                                            {"client_spans", tracer->spans()},
                                            {"dropped", tracer->dropped()}};
  }
  if (exporter) {
    finish_export(report, exporter.get(), nullptr);
    if (auto* e = report.if_contains("export"); e && e->is_object())
      fmt::print("  {}\n", out_style.dim(export_summary(e->as_object())));
  }
  const int rc = present_report(report, o.json_path, out_style, "trafficsim bench");
  if (metrics_listener) metrics_listener->linger(metrics_linger, stop_fd);
  return rc;
}

}  // namespace

}  // namespace trafficsim::cli
