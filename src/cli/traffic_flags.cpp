#include "cli/traffic_flags.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <new>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/summary.hpp"
#include "cli/terminal.hpp"
#include "jobs/target_session.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"
#include "scenarios/scenario.hpp"

namespace trafficsim::cli {

void add_traffic_flags(CLI::App* cmd, TrafficFlags& o, const std::string& json_help) {
  add_monitor_flags(cmd, o.monitors, false);
  cmd->add_option("--url", o.url,
                  "Target base URL, e.g. http://127.0.0.1:8000 (default: the built-in target, "
                  "in-process)");
  cmd->add_option("--json", o.json_path, json_help);
  cmd->add_option("--seed", o.seed_text, "Random seed (default: random; recorded in the report)");
  cmd->add_option("--start-at", o.start_at_text, kStartAtHelp);
  cmd->add_option("-t,--threads", o.threads, "Worker threads (default: number of cores)");
  cmd->add_flag("-q,--quiet", o.quiet, "No live progress line");
  cmd->add_flag("--no-color", o.no_color, "No colours");
  cmd->add_option("--data-dir", o.data_dir,
                  "Built-in target: catalog directory (default ~/.cache/trafficsim)");
  cmd->add_option("--catalog-rows", o.catalog_rows,
                  "Built-in target: catalog rows (default 500000)");
  add_otlp_flag(cmd, o.otlp,
                "the load generator's client spans and the built-in target's spans, metrics and "
                "logs");
  add_trace_ratio_flag(cmd, o.otlp);
}

namespace {

template <class Settings>
void attach_export_to(const TrafficFlags& o, Settings& s) {
  s.trace_ratio = trace_ratio_of(o.otlp);
  s.exporter = make_exporter(o.otlp, kGeneratorService, true, /*traces_only=*/true);
  if (o.url.empty()) s.builtin.exporter = make_exporter(o.otlp, kTargetService, false);
}

template <class Settings>
void finish_export_of(const Settings& s, boost::json::object& report, const Style& style) {
  if (!s.exporter && !s.builtin.exporter) return;
  cli::finish_export(report, s.exporter.get(), s.builtin.exporter.get());
  if (const auto* e = report.if_contains("export"); e && e->is_object()) {
    fmt::print("  {}\n", style.dim(export_summary(e->as_object())));
  }
}

}  // namespace

void attach_export(const TrafficFlags& o, jobs::TrafficJobSettings& s) { attach_export_to(o, s); }
void attach_export(const TrafficFlags& o, jobs::DemoScriptSettings& s) { attach_export_to(o, s); }
void finish_export(const jobs::TrafficJobSettings& s, boost::json::object& report,
                   const Style& style) {
  finish_export_of(s, report, style);
}
void finish_export(const jobs::DemoScriptSettings& s, boost::json::object& report,
                   const Style& style) {
  finish_export_of(s, report, style);
}

void validate(TrafficFlags& o) {
  o.seed = parse_seed_arg(o.seed_text, "--seed");
  if (!o.start_at_text.empty()) o.start_at = parse_start_at_arg(o.start_at_text, "--start-at");
  if (o.threads < 0) throw UsageError("invalid -t/--threads: must be at least 1");
  if (o.catalog_rows < 1) throw UsageError("invalid --catalog-rows: must be at least 1");
  if (!o.url.empty()) parse_url_arg(o.url, "--url");
  if (!o.json_path.empty()) load::check_writable(o.json_path);
  trace_ratio_of(o.otlp);
}

jobs::TargetChoice target_choice(const TrafficFlags& o) {
  jobs::TargetChoice c;
  c.url = o.url;
  c.on_builtin_start = [rows = o.catalog_rows] { announce_builtin_target(rows); };
  c.data_dir = o.data_dir;
  c.catalog_rows = o.catalog_rows;
  c.seed = o.seed;
  return c;
}

void announce_builtin_target(int64_t catalog_rows) {
  fmt::print("Starting the built-in target (catalog of {} rows; generated once, then reused)...\n",
             format_count(static_cast<uint64_t>(catalog_rows)));
  std::fflush(stdout);
}

int exit_code_for(const char* command, std::exception_ptr error) {
  auto fail = [&](int code, const char* what) {
    fmt::print(stderr, "{}: {}\n", command, what);
    return code;
  };
  try {
    std::rethrow_exception(error);
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const scenarios::ScenarioError& e) {
    return fail(kExitUsage, e.what());
  } catch (const jobs::ClockConfigError& e) {
    return fail(kExitUsage, e.what());
  } catch (const std::invalid_argument& e) {
    return fail(kExitUsage, e.what());
  } catch (const load::StartError& e) {
    return fail(kExitRunFailed, e.what());
  } catch (const jobs::TargetStartError& e) {
    return fail(kExitRunFailed, e.what());
  } catch (const std::bad_alloc&) {
    return fail(kExitRunFailed, "out of memory");
  } catch (const std::exception& e) {
    return fail(kExitRunFailed, e.what());
  } catch (...) {
    return fail(kExitRunFailed, "unknown error");
  }
}

int guarded(const char* command, const std::function<int()>& fn) {
  try {
    return fn();
  } catch (...) {
    return exit_code_for(command, std::current_exception());
  }
}

void wait_or_stop(int done_fd, int stop_fd, const std::function<void()>& stop) {
  bool stopped = false;
  for (;;) {
    pollfd fds[2] = {{done_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int n = ::poll(fds, stopped || stop_fd < 0 ? 1 : 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents & POLLIN) return;
    if (!stopped && (fds[1].revents & POLLIN)) {
      stopped = true;
      stop();
    }
  }
}

int write_report(const char* command, const std::string& path, const boost::json::object& report) {
  if (!write_report_or_print(command, path, report)) return kExitRunFailed;
  fmt::print("  report written to {}\n", path);
  return kExitOk;
}

}  // namespace trafficsim::cli
