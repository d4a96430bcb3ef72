#include "cli/run_command.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/live_view.hpp"
#include "cli/metrics_listen.hpp"
#include "cli/scenario_printing.hpp"
#include "cli/signals.hpp"
#include "cli/target_command.hpp"
#include "cli/terminal.hpp"
#include "jobs/target_session.hpp"
#include "jobs/traffic_job.hpp"
#include "scenarios/builtin.hpp"
#include "scenarios/demo_script.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
  auto* cmd = app.add_subcommand(
      "run",
      "Run traffic: a seed mode (--mode), a built-in scenario (--scenario) or a scenario file "
      "(-f),\nagainst the built-in demo target (started in-process) or --url.\n"
      "Exit codes: 0 done, 1 could not run, 2 bad flags or file, 3 thresholds failed, "
      "130 second Ctrl+C.");
  cmd->add_option("--mode", o.mode,
                  "Seed 000 mode: normal_traffic (default), latency_injection, error_injection, "
                  "token_bloat");
  cmd->add_option("--scenario", o.scenario,
                  "Built-in scenario: normal, peak, error, latency, stress (seed 001), "
                  "blackfriday (seed 002)");
  cmd->add_option("-f,--file", o.file, "Scenario file (YAML; see docs/scenarios.md)");
  cmd->add_option("--rate", o.rate, "Requests per second for --mode (default 10; also 600rpm)");
  cmd->add_option("--duration", o.duration,
                  "How long, wall-clock: 300 (seconds), 30s, 5m (default: the scenario's)");
  cmd->add_option("--max-rps", o.max_rps,
                  "--scenario normal..stress: the rate (default 20; clamped to the hard cap)");
  cmd->add_option("--hard-cap", o.hard_cap,
                  "Change the hard cap (token bucket, default 20 req/s in seed 001 scenarios)");
  cmd->add_option("--endpoints", o.endpoints,
                  "--scenario normal..stress: all (default) or some of list,create,get,update");
  cmd->add_option("--time-scale", o.time_scale,
                  "Demo clock speed for blackfriday (60: a demo minute per second; default "
                  "DEMO_TIME_SCALE or 1)");
  cmd->add_flag("--checkout", o.checkout, "blackfriday: add the checkout stream");
  cmd->add_option("--samples", o.samples,
                  "Replace the sample emails (a YAML list of {subject, sender, body})");
  cmd->add_option("--set", o.sets, "Set a scenario variable: NAME=VALUE (repeatable)");
  cmd->add_flag("--verbose", o.verbose, "Log every request on stderr (costs throughput)");
  cmd->add_option("--metrics-listen", o.metrics_listen, kMetricsListenHelp);
  cmd->add_option("--metrics-linger", o.metrics_linger, kMetricsLingerHelp);
  cmd->add_option("--segment", o.segment,
                  "Run only segment i of n (arrivals k with k mod n = i), e.g. 0/4; without "
                  "--seed the seed is derived from the plan, so n machines running the same "
                  "command draw the same arrivals and `report merge` sums them exactly");
  add_traffic_flags(cmd, o.common, "Write the full JSON report here (atomically)");
  return cmd;
}

namespace {

// The variables set on the command line and the flag that set each (for messages).
struct Params {
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> flags;
  void set(const std::string& name, const std::string& value, const std::string& flag) {
    values[name] = value;
    flags[name] = flag;
  }
};

Params collect_params(const RunOptions& o) {
  Params p;
  if (!o.rate.empty()) {
    parse_rate_arg(o.rate, "--rate");
    p.set("rate", o.rate, "--rate");
  }
  if (!o.max_rps.empty()) {
    parse_rate_arg(o.max_rps, "--max-rps");
    p.set("max_rps", o.max_rps, "--max-rps");
  }
  if (!o.endpoints.empty()) p.set("endpoints", o.endpoints, "--endpoints");
  if (o.checkout) p.set("checkout", "true", "--checkout");
  for (const auto& s : o.sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(fmt::format("invalid --set '{}': expected NAME=VALUE", s));
    p.set(s.substr(0, eq), s.substr(eq + 1), "--set " + s.substr(0, eq));
  }
  return p;
}

// A flag that sets a variable the scenario never reads would be silently ignored: refuse it.
void check_params_used(const scenarios::Scenario& sc, const Params& p) {
  for (const auto& [name, flag] : p.flags) {
    if (sc.used_params.count(name)) continue;
    std::string uses;
    for (const auto& u : sc.used_params)
      if (!u.empty() && std::islower(static_cast<unsigned char>(u[0])))
        uses += (uses.empty() ? "" : ", ") + u;
    throw UsageError(fmt::format("{} has no effect on scenario '{}' ({}){}", flag, sc.name,
                                 sc.source.path,
                                 uses.empty() ? std::string()
                                              : fmt::format(": it reads {}", uses)));
  }
}

scenarios::Source choose_source(const RunOptions& o) {
  int given = !o.mode.empty() + !o.scenario.empty() + !o.file.empty();
  if (given > 1)
    throw UsageError("--mode, --scenario and -f/--file are mutually exclusive: give one");
  if (!o.file.empty()) {
    auto src = scenarios::read_source(o.file);
    if (scenarios::is_demo_script(src))
      throw UsageError(fmt::format("{} is a demo script: play it with 'trafficsim play {}'",
                                   o.file, o.file));
    return src;
  }
  if (!o.scenario.empty()) {
    const auto& names = scenarios::scenario_names();
    if (std::find(names.begin(), names.end(), o.scenario) == names.end())
      throw UsageError(fmt::format("invalid --scenario '{}': expected one of {}", o.scenario,
                                   fmt::join(names, ", ")));
    return *scenarios::builtin_source(o.scenario);
  }
  std::string mode = o.mode.empty() ? "normal_traffic" : o.mode;
  const auto& names = scenarios::mode_names();
  if (std::find(names.begin(), names.end(), mode) == names.end())
    throw UsageError(fmt::format("invalid --mode '{}': expected one of {}", mode,
                                 fmt::join(names, ", ")));
  return *scenarios::builtin_source(mode);
}

}  // namespace

namespace {

int run_checked(RunOptions& o) {
  const char* cmd = "trafficsim run";
  auto& common = o.common;
  Style out_style = Style::for_fd(fileno(stdout), !common.no_color);

  // Everything is checked before anything starts: flags, the scenario, the report path.
  Params params = collect_params(o);
  jobs::TrafficJobSettings settings;
  std::optional<double> time_scale;
  if (!o.hard_cap.empty()) {
    settings.hard_cap = parse_rate_arg(o.hard_cap, "--hard-cap");
    params.values["hard_cap"] = o.hard_cap;  // files that name the cap read it
  }
  if (!o.duration.empty()) settings.duration = parse_duration_arg(o.duration, "--duration");
  if (!o.time_scale.empty()) time_scale = parse_time_scale_arg(o.time_scale, "--time-scale");
  validate(common);
  auto src = choose_source(o);
  scenarios::LoadOptions lo;
  lo.params = params.values;
  lo.samples_override = o.samples;
  scenarios::Scenario sc = scenarios::load_scenario(src, lo);
  check_params_used(sc, params);
  if (time_scale && !sc.demo_clock)
    throw UsageError(fmt::format(
        "--time-scale has no effect on scenario '{}': it does not run on the demo clock", sc.name));

  // The monitors (opt-in here) are loaded before anything starts; they read the load engine's
  // statistics (--monitor-source client; the default against --url) or scrape the target's
  // /metrics once the job knows its URL (the built-in target's port is chosen as it starts).
  auto scrape_url = std::make_shared<std::string>();
  std::unique_ptr<jobs::MonitorRunner> monitors;
  if (common.monitors.wanted()) {
    if (uses_client_source(common.monitors, !common.url.empty()))
      settings.client_source = std::make_shared<jobs::ClientSource>();
    monitors = make_monitor_runner(
        common.monitors, out_style, time_scale.value_or(1),
        [scrape_url](std::string* error) { return jobs::url_scrape(*scrape_url)(error); },
        "the target's /metrics", settings.client_source);
  }

  int stop_fd = install_stop_signals();
  settings.url = common.url;
  settings.builtin = target_choice(common);
  settings.time_scale = time_scale;
  settings.seed = common.seed;
  if (!o.segment.empty()) {
    settings.segment = parse_segment_arg(o.segment, "--segment");
    settings.seed_from_plan = common.seed_text.empty();
  }
  std::optional<std::pair<std::string, uint16_t>> metrics_at;
  std::chrono::nanoseconds metrics_linger{0};
  if (!o.metrics_linger.empty()) {
    if (o.metrics_listen.empty())
      throw UsageError("--metrics-linger: needs --metrics-listen (nothing serves /metrics)");
    metrics_linger = parse_duration_arg(o.metrics_linger, "--metrics-linger");
  }
  if (!o.metrics_listen.empty()) {
    metrics_at = parse_listen_arg(o.metrics_listen, "--metrics-listen");
    if (!settings.client_source) settings.client_source = std::make_shared<jobs::ClientSource>();
  }
  settings.threads = common.threads;
  settings.start_at = common.start_at;
  if (o.verbose) settings.on_request = verbose_request_logger(sc);
  attach_export(common, settings);
  // The job resolves the demo clock, starts the built-in target and builds the plan.
  jobs::TrafficJob job(sc, params.values, settings);
  if (common.start_at)
    check_start_at_arg(*common.start_at, job.plan().duration, std::chrono::system_clock::now(),
                       "--start-at");
  fmt::print("Running {} ({}{}) -> {}{}\n", out_style.bold(sc.name), sc.source.path,
             sc.source.builtin ? ", built in" : "", job.url(),
             job.builtin_target() ? " (built-in target)" : "");
  if (!sc.description.empty()) fmt::print("  {}\n", out_style.dim(sc.description));
  for (const auto& n : job.notes()) fmt::print("  {} {}\n", out_style.yellow("note:"), n);
  print_plan(stdout, sc, job.plan(), out_style);
  if (common.start_at)
    fmt::print("  {}\n", start_at_line(*common.start_at, std::chrono::system_clock::now()));
  std::unique_ptr<MetricsListener> metrics_listener;
  if (metrics_at) {
    try {
      metrics_listener = std::make_unique<MetricsListener>(
          metrics_at->first, metrics_at->second, settings.client_source, job.plan().segment);
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}: --metrics-listen: {}\n", cmd, e.what());
      return kExitRunFailed;
    }
    fmt::print("  metrics on {} (segment {}/{})\n", metrics_listener->url(),
               job.plan().segment.index, job.plan().segment.count);
    std::fflush(stdout);  // a scraper reads the port from this line while the run goes
  }

  LiveView live(stderr, common.quiet || o.verbose);
  live.follow(job);
  *scrape_url = job.url() + "/metrics";
  if (monitors) monitors->start();
  job.start();
  wait_or_stop(job.done_fd(), stop_fd, [&] { job.stop(); });
  jobs::TrafficResult outcome = job.wait();
  if (monitors) {
    monitors->stop();
    outcome.report["monitors"] = monitors->to_json();
  }
  live.finish();

  if (outcome.stopped)
    fmt::print("\n  {}\n", out_style.yellow("Stopped early: the summary covers what was sent."));
  print_scenario_summary(stdout, outcome.report, outcome.thresholds, out_style);
  finish_export(settings, outcome.report, out_style);
  if (!common.json_path.empty()) {
    if (int code = write_report(cmd, common.json_path, outcome.report); code != kExitOk) return code;
  }
  std::fflush(stdout);
  if (metrics_listener) metrics_listener->linger(metrics_linger, stop_fd);
  if (settings.segment && !settings.segment->whole() && !outcome.thresholds.empty()) {
    // One segment's figures are a share of the run: thresholds are judged on the whole, by
    // `report merge` (exit 3 there), never per instance.
    fmt::print("  {}\n", out_style.dim(fmt::format(
                              "segment {}/{}: the thresholds above are this segment's share; "
                              "`trafficsim report merge` judges them on the whole run",
                              settings.segment->index, settings.segment->count)));
    return kExitOk;
  }
  if (!outcome.thresholds_passed()) {
    fmt::print(stderr, "{}: thresholds failed (exit {})\n", cmd, kExitThresholds);
    return kExitThresholds;
  }
  if (monitors) return alert_exit_code(common.monitors, *monitors, cmd);
  return kExitOk;
}

}  // namespace

int run_run(RunOptions& o) {
  return guarded("trafficsim run", [&] { return run_checked(o); });
}

}  // namespace trafficsim::cli
