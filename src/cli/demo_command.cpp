#include "cli/demo_command.hpp"

#include <poll.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/play_command.hpp"
#include "cli/signals.hpp"
#include "cli/target_command.hpp"
#include "cli/terminal.hpp"
#include "cli/traffic_flags.hpp"
#include "control/control_api.hpp"
#include "control/incident_api.hpp"
#include "control/job_manager.hpp"
#include "control/request_guard.hpp"
#include "core/clock.hpp"
#include "demo_service/target_service.hpp"
#include "http/server.hpp"
#include "incidents/incident_store.hpp"
#include "http/simple_get.hpp"
#include "http/url.hpp"
#include "jobs/demo_script_job.hpp"
#include "cli/incident_wiring.hpp"
#include "cli/monitor_flags.hpp"
#include "jobs/monitor_runner.hpp"
#include "jobs/segment_watch.hpp"
#include "jobs/target_session.hpp"
#include "load/report.hpp"
#include "scenarios/builtin.hpp"
#include "scenarios/demo_script.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

namespace {

void add_control_flags(CLI::App* cmd, ControlFlags& c) {
  cmd->add_option("--listen", c.listen, "Address to serve on (host:port)")->capture_default_str();
  cmd->add_option("--api-key", c.api_key,
                  "Key the control routes need (X-API-Key or Authorization: Bearer); default "
                  "$TRAFFICSIM_API_KEY. Required for a non-loopback --listen");
  cmd->add_flag("--no-auth", c.no_auth,
                "Serve a non-loopback --listen without a key (anyone who reaches it can aim load)");
  cmd->add_option("--allow-host", c.allow_hosts,
                  "Also accept this Host header name (repeatable; DNS-rebinding protection)");
  cmd->add_option("--hard-cap", c.hard_cap,
                  "Most req/s a card scenario or mode may ask for (larger maxRps is clamped)")
      ->capture_default_str();
  cmd->add_option("--job-retention", c.job_retention, "How long finished jobs are kept")
      ->capture_default_str();
  cmd->add_option("--max-jobs", c.max_jobs, "Jobs that may run at once")->capture_default_str();
  cmd->add_option("-t,--threads", c.threads, "Load engine threads per job (0: one per core)");
  cmd->add_flag("-q,--quiet", c.quiet, "No live line");
  cmd->add_flag("--no-color", c.no_color, "No colours");
  add_monitor_flags(cmd, c.monitors, true);
  cmd->add_option("--incidents-db", c.incidents_db,
                  "The incident store (SQLite; default: DATA_DIR/incidents.sqlite)");
  cmd->add_option("--notify-pagerduty", c.notify_pagerduty,
                  "Send incidents to this PagerDuty Events v2 URL (trigger and resolve by dedup "
                  "key; the routing key from PAGERDUTY_ROUTING_KEY)");
  add_otlp_flag(cmd, c.otlp,
                "the jobs' client spans (--trace-ratio) and, under demo, the demo target's spans, "
                "metrics and logs");
  add_trace_ratio_flag(cmd, c.otlp);
}

// The incident store the flags ask for; a clear error (exit 1) when it cannot be opened.
std::unique_ptr<incidents::IncidentStore> open_incident_store(const ControlFlags& c,
                                                              const std::filesystem::path& data_dir) {
  std::filesystem::path path =
      c.incidents_db.empty() ? incidents::default_incident_store_path(data_dir)
                             : std::filesystem::path(c.incidents_db);
  return std::make_unique<incidents::IncidentStore>(path);
}

// Monitor transitions become incidents (ALERT opens, recovery resolves); a store that fails is
// said on stderr and never stops the monitors.
void bridge_monitors_to_incidents(jobs::MonitorRunner* monitors, control::IncidentApi* api,
                                  const Style& st) {
  if (!monitors) return;
  monitors->on_event([api, st](const monitors::MonitorEvent& e) {
    try {
      if (auto inc = api->on_monitor_event(e))
        fmt::print("{} {} {} — {}\n", st.dim("incident"), inc->id,
                   std::string(incidents::to_string(inc->status)), inc->title);
      std::fflush(stdout);
    } catch (const std::exception& ex) {
      fmt::print(stderr, "trafficsim: incident store: {}\n", ex.what());
    }
  });
}


struct Checked {
  std::string host;
  uint16_t port = 0;
  std::string key;
  double hard_cap = 20;
  std::chrono::milliseconds retention{};
};

Checked check_control(const ControlFlags& c, const char* cmd) {
  Checked out;
  std::tie(out.host, out.port) = parse_listen_arg(c.listen);
  if (c.api_key && c.api_key->empty())
    throw UsageError("invalid --api-key '': an empty key would turn authentication off (give a "
                     "key, or leave the flag out)");
  if (c.api_key) {
    out.key = *c.api_key;
  } else if (const char* k = std::getenv("TRAFFICSIM_API_KEY")) {
    if (!*k)
      throw UsageError("invalid TRAFFICSIM_API_KEY: it is set but empty, which would turn "
                       "authentication off (give a key, or unset it)");
    out.key = k;
  }
  if (!control::is_loopback_host(out.host) && out.key.empty() && !c.no_auth)
    throw UsageError(fmt::format(
        "{} would serve a control plane that can aim load on {} without a key: give --api-key "
        "KEY (or TRAFFICSIM_API_KEY), or --no-auth to accept that anyone who reaches it can "
        "start load",
        cmd, c.listen));
  out.hard_cap = parse_rate_arg(c.hard_cap, "--hard-cap");
  if (!(out.hard_cap > 0)) throw UsageError("invalid --hard-cap: it must be more than 0");
  out.retention = std::chrono::duration_cast<std::chrono::milliseconds>(
      parse_duration_arg(c.job_retention, "--job-retention"));
  if (c.max_jobs < 1 || c.max_jobs > 64)
    throw UsageError(fmt::format("invalid --max-jobs {}: use 1 to 64", c.max_jobs));
  if (c.threads < 0 || c.threads > 256) throw UsageError("invalid --threads: use 0 to 256");
  return out;
}

control::GuardOptions guard_options(const Checked& c, const ControlFlags& f, uint16_t port) {
  control::GuardOptions g;
  g.listen_host = c.host;
  g.port = port;
  g.allowed_hosts = f.allow_hosts;
  g.api_key = c.key;
  return g;
}

control::ManagerOptions manager_options(const Checked& c, const ControlFlags& f, std::string url) {
  control::ManagerOptions m;
  m.target_url = std::move(url);
  m.hard_cap = c.hard_cap;
  m.retention = c.retention;
  m.max_jobs = static_cast<size_t>(f.max_jobs);
  m.threads = f.threads;
  m.trace_ratio = trace_ratio_of(f.otlp);
  m.exporter = make_exporter(f.otlp, kGeneratorService, true, /*traces_only=*/true);
  m.client_spans = std::make_shared<telemetry::SpanBuffer>(4096);
  // Validated here (bad values exit 2 before anything starts); made again per activity job.
  if (make_exporter(f.otlp, kActivityService, false)) {
    m.make_activity_exporter = [otlp = f.otlp] {
      return make_exporter(otlp, kActivityService, false);
    };
  }
  return m;
}

// The Traces and Logs pages' sources every control plane has: the generator's client spans
// (--trace-ratio) and the activity jobs' spans, log records and metrics.
void add_job_sources(control::TelemetryApi& telemetry, const control::ManagerOptions& m) {
  telemetry.add_source({"load-generator", m.client_spans.get(), nullptr, nullptr});
  telemetry.add_source(
      {"activity", m.activity_spans.get(), m.activity_logs.get(), m.activity_registry.get()});
}

// At the end: both exporters flushed (5 s each at most), their counts on one line.
void finish_demo_export(const control::ManagerOptions& m, telemetry::OtlpExporter* target) {
  if (!m.exporter && target == nullptr) return;
  json::object report;
  finish_export(report, m.exporter.get(), target);
  if (auto* e = report.if_contains("export"); e && e->is_object())
    fmt::print(stderr, "trafficsim: {}\n", export_summary(e->as_object()));
}

void raise_fd_limit() {
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// How long a stop waits for the SSE streams' last bytes (docs/control-api.md).
constexpr std::chrono::milliseconds kStreamFlushDeadline{2000};

// Waits for the stop signal.
void wait_for_stop(int stop_fd) {
  pollfd pfd{stop_fd, POLLIN, 0};
  while (::poll(&pfd, 1, -1) < 0 && errno == EINTR) {
  }
}

// Waits until the job ends or a stop signal arrives (then stops it: what it measured is kept),
// and joins its thread.
void run_to_end(control::ControlJob& job, int stop_fd) {
  while (job.active() && !stop_signal_received()) {
    pollfd pfd{stop_fd, POLLIN, 0};
    ::poll(&pfd, 1, 200);
  }
  job.stop();
  job.join();
}

// The URL to print: a wildcard listen address is reached on loopback.
std::string served_url(const std::string& host, uint16_t port) {
  return fmt::format("http://{}:{}/", host == "0.0.0.0" ? "127.0.0.1" : host, port);
}

int demo_checked(DemoOptions& o) {
  const char* cmd = "trafficsim demo";
  Style st = Style::for_fd(fileno(stdout), !o.control.no_color);
  Checked c = check_control(o.control, cmd);
  if (!o.script.empty() && !o.scenario.empty())
    throw UsageError("--script and --scenario are mutually exclusive: give one");
  if (o.catalog_rows < 1 || o.catalog_rows > 50'000'000)
    throw UsageError(fmt::format("invalid --catalog-rows {}: use 1 to 50000000", o.catalog_rows));
  std::optional<double> scale;
  if (!o.time_scale.empty()) scale = parse_time_scale_arg(o.time_scale, "--time-scale");
  if (o.exit_at_end && o.script.empty() && o.scenario.empty())
    throw UsageError("--exit ends the demo when its --script or --scenario ends: give one");

  // Everything is loaded and checked before anything starts.
  std::optional<scenarios::DemoScript> script;
  std::vector<scenarios::Scenario> phases;
  if (!o.script.empty()) {
    script = scenarios::load_demo_script(scenarios::resolve_source(o.script));
    phases = jobs::load_phases(*script);
  }
  std::optional<control::StartRequest> start;
  bool dual = false;
  if (!o.scenario.empty()) {
    const auto& modes = scenarios::mode_names();
    const auto& names = scenarios::scenario_names();
    if (std::find(names.begin(), names.end(), o.scenario) == names.end() &&
        std::find(modes.begin(), modes.end(), o.scenario) == modes.end())
      throw UsageError(fmt::format("invalid --scenario '{}': expected a built-in scenario or "
                                   "mode (trafficsim scenarios lists them)",
                                   o.scenario));
    start = control::StartRequest{o.scenario, std::nullopt, std::nullopt, std::nullopt};
    dual = o.scenario == "blackfriday";
    if (scale && !dual)
      throw UsageError(fmt::format(
          "--time-scale has no effect on scenario '{}': it does not run on the demo clock",
          o.scenario));
  }

  double now = core::unix_now_s();
  demo_service::TargetOptions t;
  t.host = c.host;
  t.port = c.port;
  t.data_dir = o.data_dir.empty() ? jobs::default_data_dir() : o.data_dir;
  const std::filesystem::path t_data_dir = t.data_dir;
  t.catalog_rows = o.catalog_rows;
  t.access_log = "off";
  t.api_key = c.key;
  t.threads = 0;
  t.exporter = make_exporter(o.control.otlp, kTargetService, false);
  auto target_exporter = t.exporter;
  try {
    t.demo =
        demo_service::demo_settings_from_env([](const char* n) { return std::getenv(n); }, now);
  } catch (const demo_service::ConfigError& e) {
    throw UsageError(e.what());
  }
  // A clock pinned by DEMO_* is the service's for its whole life; otherwise each Black Friday job
  // (--scenario blackfriday, or one started from the page) starts the story over on the target.
  const demo_service::DemoSettings demo_settings = t.demo;
  std::atomic<control::ControlApi*> api_ptr{nullptr};
  t.front_handler = [&api_ptr](const std::shared_ptr<const http::ServerRequest>& req,
                               const http::Reply& reply) {
    control::ControlApi* api = api_ptr.load();
    return api && api->handle(req, reply);
  };
  raise_fd_limit();
  int stop_fd = install_stop_signals();
  std::signal(SIGPIPE, SIG_IGN);
  if (!o.control.quiet) fmt::print(stderr, "{}: preparing the demo target (catalog of {} products)\n", cmd, o.catalog_rows);
  std::unique_ptr<demo_service::TargetService> service;
  try {
    service = std::make_unique<demo_service::TargetService>(std::move(t));
  } catch (const demo_service::TargetError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }
  auto mo = manager_options(c, o.control, service->url());
  if (demo_settings.enabled) {
    mo.clock = demo_settings.clock;
  } else {
    mo.time_scale = scale;
    demo_service::TargetService* target = service.get();
    mo.start_demo_clock = [target](const scenarios::DemoClockSpec& clock) {
      target->start_demo(clock);
      return true;
    };
  }
  auto manager = std::make_unique<control::JobManager>(mo);
  demo_service::TargetService* svc = service.get();
  auto monitors = make_monitor_runner(
      o.control.monitors, st, scale.value_or(1),
      [svc](std::string*) -> std::optional<std::string> { return svc->registry().expose(); },
      "the demo target (in-process)");
  control::ControlApi api(*manager, control::RequestGuard(guard_options(c, o.control, service->port())),
                          [svc] {
                            return svc->registry().expose();
                          });
  if (monitors) api.set_monitors([m = monitors.get()] { return m->to_json(); });
  control::TelemetryApi telemetry_api;  // the Traces, Logs and Metrics pages
  telemetry_api.add_source({"demo-target", &svc->spans(), &svc->logs(), &svc->registry()});
  add_job_sources(telemetry_api, manager->options());
  api.set_telemetry(&telemetry_api);
  std::unique_ptr<incidents::IncidentStore> store;
  try {
    store = open_incident_store(o.control, t_data_dir);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }
  control::IncidentApi incident_api(*store, served_url(c.host, service->port()));
  api.set_incidents(&incident_api);
  IncidentWiring wiring;
  try {
    wiring = wire_incidents(incident_api, *store,
                            {&svc->registry(), served_url(c.host, service->port()), service->url(),
                             c.key, monitors.get(), scale.value_or(1), o.control.notify_pagerduty});
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return 2;
  }
  bridge_monitors_to_incidents(monitors.get(), &incident_api, st);
  api_ptr.store(&api);
  service->start();
  if (monitors) monitors->start();
  std::string url = served_url(c.host, service->port());
  fmt::print("{}\n", url);
  fmt::print("{} Open {} in a browser: the dashboard shows the traffic live (Ctrl+C stops).\n",
             st.bold("trafficsim demo:"), st.cyan(url));
  std::fflush(stdout);

  int rc = kExitOk;
  if (script) {
    std::string name = script->name;
    size_t n = script->phases.size();
    auto printer = make_play_printer(st, n, o.control.quiet);
    std::optional<jobs::DemoScriptResult> result;
    std::mutex result_mu;
    auto job = manager->start_script(std::move(*script), std::move(phases), scale.value_or(1),
                                     printer.get(), [&](const jobs::DemoScriptResult& r) {
                                       std::lock_guard lock(result_mu);
                                       result = r;
                                     });
    fmt::print("{} {} — {} phases{}; the page shows them on its charts\n", st.bold("Playing"),
               st.bold(name), n, scale ? fmt::format(" (time scale {:g})", *scale) : "");
    std::fflush(stdout);
    run_to_end(*job, stop_fd);
    {
      std::lock_guard lock(result_mu);
      if (result) {
        print_phase_table(*result, name, st);
        if (result->failed_phase) rc = kExitRunFailed;
        else if (!result->thresholds_passed) rc = kExitThresholds;
      } else if (job->status() == control::JobStatus::error) {
        fmt::print(stderr, "{}: {}\n", cmd, json::serialize(job->state_json().at("error")));
        rc = kExitRunFailed;
      }
    }
    if (!o.json_path.empty())
      if (auto r = job->report(); r && r->is_object()) {
        json::object all = r->get_object();
        all["format_version"] = load::kReportFormatVersion;
        all["script"] = json::object{{"name", name}, {"time_scale", scale.value_or(1)}};
        if (int code = write_report(cmd, o.json_path, all); code != kExitOk) rc = code;
      }
  } else if (start) {
    json::object started = manager->start(*start);
    fmt::print("{} {} as job {}\n", st.bold("Started"), o.scenario,
               json::serialize(started.at("jobId")));
    std::fflush(stdout);
    auto job = manager->find(std::string(started.at("jobId").get_string()));
    run_to_end(*job, stop_fd);
    if (!o.json_path.empty())
      if (auto r = job->report(); r && r->is_object())
        if (int code = write_report(cmd, o.json_path, r->get_object()); code != kExitOk) rc = code;
  }
  if (!o.exit_at_end && !stop_signal_received()) {
    fmt::print("{} still serving {} — Ctrl+C stops.\n", st.dim("trafficsim demo:"), url);
    std::fflush(stdout);
    wait_for_stop(stop_fd);
  }
  fmt::print(stderr, "{}: stopping\n", cmd);
  manager->stop_all();
  manager->wait_all();
  // Every stream got its final event and its end; give them to the clients before the server
  // stops its io threads (which would cut them), within a bound a client that does not read
  // cannot stretch.
  manager->flush_streams(kStreamFlushDeadline);
  if (monitors) {
    monitors->stop();
    if (rc == kExitOk) rc = alert_exit_code(o.control.monitors, *monitors, cmd);
  }
  finish_demo_export(mo, target_exporter.get());
  api_ptr.store(nullptr);
  service->stop();
  manager.reset();
  return rc;
}

// serve's start_demo_clock: a trafficsim target whose demo mode is off when serve first asks is
// told to start its Black Friday story (POST /admin/demo) for each Black Friday job; one whose
// demo was on already (pinned by DEMO_*) keeps its clock, which the job adopts. Any other target
// answers no: the job runs on its own clock and the target does not degrade.
std::function<bool(const scenarios::DemoClockSpec&)> remote_demo_clock(std::string target,
                                                                       std::string key) {
  struct State {
    std::mutex mu;
    std::optional<bool> ours;  // unknown until the first Black Friday job
  };
  auto state = std::make_shared<State>();
  return [state, target = std::move(target), key = std::move(key)](
             const scenarios::DemoClockSpec& clock) {
    std::lock_guard lock(state->mu);
    std::string error;
    auto health_url = http::parse_url(target + "/health", &error);
    auto admin_url = http::parse_url(target + "/admin/demo", &error);
    if (!health_url || !admin_url || health_url->tls()) return false;
    if (!state->ours) {
      auto r = http::simple_get(*health_url, std::chrono::seconds(3), &error);
      if (!r || r->status != 200) return false;
      boost::system::error_code ec;
      json::value v = json::parse(r->body, ec);
      if (ec || !v.is_object()) return false;
      const json::value* enabled = v.as_object().if_contains("demo");
      if (!enabled || !enabled->is_object()) return false;  // not a trafficsim target
      const json::value* on = enabled->as_object().if_contains("enabled");
      state->ours = !(on && on->is_bool() && on->as_bool());
    }
    if (!*state->ours) return false;
    http::HeaderList headers{{"Content-Type", "application/json"}};
    if (!key.empty()) headers.emplace_back("X-API-Key", key);
    std::string body = json::serialize(json::object{{"time_scale", clock.time_scale},
                                                    {"start_timestamp", clock.start_unix},
                                                    {"duration_minutes", clock.duration_minutes}});
    auto r = http::simple_request("POST", *admin_url, headers, body, std::chrono::seconds(3), &error);
    if (!r || r->status != 200) {
      fmt::print(stderr, "trafficsim serve: could not start the target's demo clock ({}): the "
                         "Black Friday job runs on its own clock\n",
                 r ? fmt::format("POST /admin/demo answered {}", r->status) : error);
      return false;
    }
    return true;
  };
}

int serve_checked(ServeOptions& o) {
  const char* cmd = "trafficsim serve";
  Style st = Style::for_fd(fileno(stdout), !o.control.no_color);
  Checked c = check_control(o.control, cmd);
  parse_url_arg(o.target, "--target");
  std::string target = o.target;
  while (!target.empty() && target.back() == '/') target.pop_back();
  raise_fd_limit();
  int stop_fd = install_stop_signals();
  std::signal(SIGPIPE, SIG_IGN);
  auto mo = manager_options(c, o.control, target);
  std::string target_key = o.target_api_key;
  if (target_key.empty())
    if (const char* env = std::getenv("TRAFFICSIM_TARGET_API_KEY")) target_key = env;
  if (target_key.empty()) target_key = c.key;
  mo.start_demo_clock = remote_demo_clock(target, target_key);
  auto manager = std::make_unique<control::JobManager>(mo);
  std::atomic<control::ControlApi*> api_ptr{nullptr};
  http::ServerOptions so;
  so.host = c.host;
  so.port = c.port;
  so.threads = 2;
  std::unique_ptr<http::Server> server;
  try {
    server = std::make_unique<http::Server>(
        so, [&api_ptr](std::shared_ptr<const http::ServerRequest> req, http::Reply reply) {
          control::ControlApi* api = api_ptr.load();
          if (!api) return reply.send(http::ServerResponse{503, "application/json", "{}", {}, true});
          api->handle(req, reply, true);
        });
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }
  // A distributed run's segments (--segments, --segments-prometheus): charted on the Metrics page
  // as one source, listed at /api/v1/telemetry/segments, and the monitors' source when asked
  // (--monitor-source segments).
  std::unique_ptr<jobs::SegmentWatch> watch;
  if (!o.segments.empty() || !o.segments_prometheus.empty()) {
    try {
      watch = std::make_unique<jobs::SegmentWatch>(
          jobs::SegmentWatchOptions{o.segments, o.segments_prometheus});
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  MonitorFlags monitor_flags = o.control.monitors;
  auto target_scrape = jobs::url_scrape(target + "/metrics");
  std::string target_scrape_name = target + "/metrics";
  if (monitor_flags.source == kSegmentsSourceName) {
    if (!watch)
      throw UsageError("--monitor-source segments: give the segments (--segments URL... or "
                       "--segments-prometheus URL)");
    monitor_flags.source.clear();
    target_scrape = [w = watch.get()](std::string*) -> std::optional<std::string> {
      return w->exposition();
    };
    target_scrape_name = kSegmentsSourceName;
  }
  auto monitors = make_monitor_runner(monitor_flags, st, 1, std::move(target_scrape),
                                      target_scrape_name);
  control::ControlApi api(*manager, control::RequestGuard(guard_options(c, o.control, server->port())));
  if (monitors) api.set_monitors([m = monitors.get()] { return m->to_json(); });
  control::TelemetryApi telemetry_api;  // the Traces and Logs pages: the jobs' own spans and logs
  add_job_sources(telemetry_api, manager->options());
  if (watch) {
    telemetry_api.add_source(
        {"segments", nullptr, nullptr, nullptr, [w = watch.get()] { return w->exposition(); }});
    telemetry_api.set_segments([w = watch.get()] { return w->to_json(); });
  }
  api.set_telemetry(&telemetry_api);
  std::unique_ptr<incidents::IncidentStore> store;
  try {
    store = open_incident_store(o.control, jobs::default_data_dir());
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }
  control::IncidentApi incident_api(*store, served_url(c.host, server->port()));
  api.set_incidents(&incident_api);
  IncidentWiring wiring;
  try {
    wiring = wire_incidents(incident_api, *store,
                            {nullptr, served_url(c.host, server->port()), target, target_key,
                             monitors.get(), 1, o.control.notify_pagerduty});
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return 2;
  }
  bridge_monitors_to_incidents(monitors.get(), &incident_api, st);
  if (watch) watch->start();
  api_ptr.store(&api);
  server->start();
  if (monitors) monitors->start();
  std::string url = served_url(c.host, server->port());
  fmt::print("{}\n", url);
  fmt::print("{} Open {} in a browser; every job aims at {} (Ctrl+C stops).\n",
             st.bold("trafficsim serve:"), st.cyan(url), target);
  if (watch) {
    const auto j = watch->to_json();
    fmt::print("  watching a distributed run: {} ({} of {} segments answered; the Metrics page "
               "charts their sum)\n",
               o.segments_prometheus.empty() ? fmt::format("{} segment URLs", o.segments.size())
                                             : "Prometheus " + o.segments_prometheus,
               j.at("up").as_int64(), j.at("known").as_int64());
  }
  std::fflush(stdout);
  wait_for_stop(stop_fd);
  fmt::print(stderr, "{}: stopping\n", cmd);
  manager->stop_all();
  manager->wait_all();
  // Every stream got its final event and its end; give them to the clients before the server
  // stops its io threads (which would cut them), within a bound a client that does not read
  // cannot stretch.
  manager->flush_streams(kStreamFlushDeadline);
  int rc = kExitOk;
  if (monitors) {
    monitors->stop();
    rc = alert_exit_code(o.control.monitors, *monitors, cmd);
  }
  finish_demo_export(mo, nullptr);
  api_ptr.store(nullptr);
  server->stop();
  if (watch) watch->stop();
  return rc;
}

}  // namespace

CLI::App* add_demo_command(CLI::App& app, DemoOptions& o) {
  auto* cmd = app.add_subcommand(
      "demo",
      "The whole demo on one port: the demo target, the control API and the dashboard at /.\n"
      "Exit codes: 0 done, 1 could not run, 2 bad flags or script, 3 a phase's thresholds "
      "failed.");
  cmd->add_option("--script", o.script,
                  "Play this demo script as a job (a file or a built-in name: demo-video)");
  cmd->add_option("--scenario", o.scenario,
                  "Start this built-in scenario or mode at once (blackfriday: both streams)");
  cmd->add_option("--time-scale", o.time_scale,
                  "--script: every phase lasts duration / scale; --scenario blackfriday: demo "
                  "minutes per minute");
  cmd->add_flag("--exit", o.exit_at_end, "End when the script or scenario ends");
  cmd->add_option("--json", o.json_path, "Write the script's or scenario's report here");
  cmd->add_option("--data-dir", o.data_dir, "Where the demo target's catalog lives");
  cmd->add_option("--catalog-rows", o.catalog_rows, "Products in the demo catalog")
      ->capture_default_str();
  add_control_flags(cmd, o.control);
  return cmd;
}

CLI::App* add_serve_command(CLI::App& app, ServeOptions& o) {
  auto* cmd = app.add_subcommand(
      "serve", "The control API and dashboard alone, aimed at one target (--target URL).");
  cmd->add_option("--target", o.target, "The URL every job aims at")->required();
  cmd->add_option("--target-api-key", o.target_api_key,
                  "The target's /admin key, for starting a trafficsim target's Black Friday "
                  "clock (default: TRAFFICSIM_TARGET_API_KEY, else --api-key)");
  cmd->add_option("--segments", o.segments,
                  "Watch a distributed run: each segment's /metrics (run --segment i/n "
                  "--metrics-listen; a URL or HOST:PORT), scraped every second and charted as "
                  "their sum on the Metrics page")
      ->expected(1, -1);
  cmd->add_option("--segments-prometheus", o.segments_prometheus,
                  "Watch a distributed run through the Prometheus that scrapes its segments "
                  "(its /federate, every series with a segments label)");
  add_control_flags(cmd, o.control);
  return cmd;
}

int run_demo(DemoOptions& o) {
  return guarded("trafficsim demo", [&] { return demo_checked(o); });
}

int run_serve(ServeOptions& o) {
  return guarded("trafficsim serve", [&] { return serve_checked(o); });
}

}  // namespace trafficsim::cli
