#pragma once
// `trafficsim demo`: one process, one port — the demo target, the control API and the dashboard
// at / — optionally playing a demo script (--script) or starting a scenario (--scenario) at
// once. `trafficsim serve --target URL`: the control API and dashboard alone, aimed at one URL.
#include <optional>
#include <string>
#include <vector>

#include "cli/monitor_flags.hpp"
#include "cli/otlp_flags.hpp"

#include <CLI/CLI.hpp>

namespace trafficsim::cli {

struct ControlFlags {
  std::string listen = "127.0.0.1:8000";
  std::optional<std::string> api_key;
  bool no_auth = false;
  std::vector<std::string> allow_hosts;
  std::string hard_cap = "20", job_retention = "5m";
  int max_jobs = 4;
  int threads = 0;
  bool no_color = false, quiet = false;
  MonitorFlags monitors;  // on by default here
  std::string incidents_db;  // --incidents-db PATH (default: DATA_DIR/incidents.sqlite)
  std::string notify_pagerduty;  // --notify-pagerduty URL (Events v2; key PAGERDUTY_ROUTING_KEY)
  OtlpFlags otlp;                // --otlp, --trace-ratio
};

struct DemoOptions {
  ControlFlags control;
  std::string script, scenario, time_scale, json_path, data_dir;
  int64_t catalog_rows = 500'000;
  bool exit_at_end = false;
};

struct ServeOptions {
  ControlFlags control;
  std::string target;
  std::string target_api_key;  // the target's /admin key (default: TRAFFICSIM_TARGET_API_KEY)
  // A distributed run to watch (jobs/segment_watch.hpp): segments' /metrics, or a Prometheus.
  std::vector<std::string> segments;
  std::string segments_prometheus;
};

CLI::App* add_demo_command(CLI::App& app, DemoOptions& options);
CLI::App* add_serve_command(CLI::App& app, ServeOptions& options);
int run_demo(DemoOptions& options);
int run_serve(ServeOptions& options);

}  // namespace trafficsim::cli
