#include "cli/run_command.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/scenario_runner.hpp"
#include "cli/signals.hpp"
#include "cli/terminal.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"
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
  cmd->add_option("--url", o.url,
                  "Target base URL, e.g. http://127.0.0.1:8000 (default: the built-in target)");
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
  cmd->add_option("--json", o.json_path, "Write the full JSON report here (atomically)");
  cmd->add_option("--seed", o.seed, "Random seed (default: random; recorded in the report)");
  cmd->add_option("-t,--threads", o.threads, "Worker threads (default: number of cores)");
  cmd->add_flag("--verbose", o.verbose, "Log every request on stderr (costs throughput)");
  cmd->add_flag("-q,--quiet", o.quiet, "No live progress line");
  cmd->add_flag("--no-color", o.no_color, "No colours");
  cmd->add_option("--data-dir", o.data_dir,
                  "Built-in target: catalog directory (default ~/.cache/trafficsim)");
  cmd->add_option("--catalog-rows", o.catalog_rows,
                  "Built-in target: catalog rows (default 500000)");
  return cmd;
}

CLI::App* add_scenarios_command(CLI::App& app, ScenariosOptions& o) {
  auto* cmd = app.add_subcommand(
      "scenarios",
      "List the built-in modes, scenarios and demo scripts; --show NAME prints one, to copy and "
      "change");
  cmd->add_option("--show", o.show, "Print the built-in file NAME (e.g. peak, demo-video)");
  cmd->add_flag("--json", o.json, "List as JSON");
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

int run_run(const RunOptions& o) {
  Style out_style = Style::for_fd(fileno(stdout), !o.no_color);
  const char* cmd = "trafficsim run";
  scenarios::Scenario sc;
  Params params;
  RunSettings rs;
  std::optional<double> time_scale;
  try {
    params = collect_params(o);
    if (!o.hard_cap.empty()) {
      rs.hard_cap = parse_rate_arg(o.hard_cap, "--hard-cap");
      params.values["hard_cap"] = o.hard_cap;  // files that name the cap read it
    }
    if (!o.duration.empty()) rs.duration = parse_duration_arg(o.duration, "--duration");
    rs.seed = parse_seed_arg(o.seed, "--seed");
    if (o.threads < 0) throw UsageError("invalid -t/--threads: must be at least 1");
    if (o.catalog_rows < 1) throw UsageError("invalid --catalog-rows: must be at least 1");
    if (!o.time_scale.empty()) time_scale = parse_time_scale_arg(o.time_scale, "--time-scale");
    if (!o.url.empty()) parse_url_arg(o.url, "--url");
    auto src = choose_source(o);
    scenarios::LoadOptions lo;
    lo.params = params.values;
    lo.samples_override = o.samples;
    sc = scenarios::load_scenario(src, lo);
    check_params_used(sc, params);
    if (time_scale && !sc.demo_clock)
      throw UsageError(fmt::format(
          "--time-scale has no effect on scenario '{}': it does not run on the demo clock",
          sc.name));
    if (!o.json_path.empty()) load::check_writable(o.json_path);
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  } catch (const scenarios::ScenarioError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  } catch (const std::runtime_error& e) {  // the report path
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }

  int stop_fd = install_stop_signals();
  std::vector<std::string> notes;
  SessionTarget target;
  try {
    if (sc.demo_clock) rs.clock = resolve_demo_clock(o.url, time_scale, unix_now(), &notes);
    target.open({o.url, o.data_dir, o.catalog_rows, rs.seed}, rs.clock ? &*rs.clock : nullptr);
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }
  rs.url = target.url();
  rs.threads = o.threads;
  rs.verbose = o.verbose;
  rs.quiet = o.quiet;
  rs.stop_fd = stop_fd;
  fmt::print("Running {} ({}{}) -> {}{}\n", out_style.bold(sc.name), sc.source.path,
             sc.source.builtin ? ", built in" : "", rs.url,
             target.builtin() ? " (built-in target)" : "");
  if (!sc.description.empty()) fmt::print("  {}\n", out_style.dim(sc.description));
  for (const auto& n : notes) fmt::print("  {} {}\n", out_style.yellow("note:"), n);
  RunOutcome outcome;
  try {
    outcome = run_scenario(sc, params.values, rs, stdout, out_style);
  } catch (const scenarios::ScenarioError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  } catch (const load::StartError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  }
  target.close();
  if (outcome.stopped) fmt::print("\n  {}\n", out_style.yellow("Stopped early: the summary covers what was sent."));
  print_scenario_summary(stdout, outcome.report, outcome.thresholds, out_style);
  if (!o.json_path.empty()) {
    try {
      load::write_json_atomic(o.json_path, outcome.report);
      fmt::print("  report written to {}\n", o.json_path);
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}: {}\n", cmd, e.what());
      return kExitRunFailed;
    }
  }
  std::fflush(stdout);
  if (!outcome.thresholds_passed()) {
    fmt::print(stderr, "{}: thresholds failed (exit {})\n", cmd, kExitThresholds);
    return kExitThresholds;
  }
  return kExitOk;
}

int run_scenarios(const ScenariosOptions& o) {
  if (!o.show.empty()) {
    auto src = scenarios::builtin_source(o.show);
    if (!src) {
      fmt::print(stderr, "trafficsim scenarios: no built-in named '{}' (see 'trafficsim "
                         "scenarios')\n",
                 o.show);
      return kExitUsage;
    }
    fmt::print("{}", src->text);
    return kExitOk;
  }
  auto list = scenarios::builtin_list();
  if (o.json) {
    json::array a;
    for (const auto& b : list) {
      const char* kind = b.kind == scenarios::BuiltinKind::mode       ? "mode"
                         : b.kind == scenarios::BuiltinKind::scenario ? "scenario"
                                                                      : "script";
      a.push_back(json::object{{"name", b.name}, {"kind", kind}, {"description", b.description}});
    }
    fmt::print("{}\n", json::serialize(a));
    return kExitOk;
  }
  Style st = Style::for_fd(fileno(stdout));
  auto section = [&](scenarios::BuiltinKind kind, const char* title, const char* how) {
    fmt::print("{}  {}\n", st.bold(title), st.dim(how));
    for (const auto& b : list)
      if (b.kind == kind) fmt::print("  {:<20} {}\n", b.name, b.description);
    fmt::print("\n");
  };
  section(scenarios::BuiltinKind::mode, "Modes (seed 000)", "trafficsim run --mode NAME --rate 10");
  section(scenarios::BuiltinKind::scenario, "Scenarios (seeds 001, 002)",
          "trafficsim run --scenario NAME");
  section(scenarios::BuiltinKind::script, "Demo scripts", "trafficsim play NAME");
  fmt::print("Copy one to change it: trafficsim scenarios --show NAME > my.yaml; trafficsim run "
             "-f my.yaml\n");
  return kExitOk;
}

}  // namespace trafficsim::cli
