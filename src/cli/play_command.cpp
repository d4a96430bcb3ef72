// `trafficsim play SCRIPT`: a demo script's phases back to back against one target, each
// announcing its narration as it starts, then a table of every phase.
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/run_command.hpp"
#include "cli/scenario_runner.hpp"
#include "cli/signals.hpp"
#include "cli/summary.hpp"
#include "cli/terminal.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"
#include "scenarios/builtin.hpp"
#include "scenarios/demo_script.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

CLI::App* add_play_command(CLI::App& app, PlayOptions& o) {
  auto* cmd = app.add_subcommand(
      "play",
      "Play a demo script (phases of scenarios with narration), e.g. scenarios/demo-video.yaml\n"
      "Exit codes: 0 done, 1 could not run, 2 bad flags or script, 3 a phase's thresholds "
      "failed, 130 second Ctrl+C.");
  cmd->add_option("script", o.script, "Demo script file, or a built-in name (demo-video)")
      ->required();
  cmd->add_option("--url", o.url, "Target base URL (default: the built-in target, in-process)");
  cmd->add_option("--time-scale", o.time_scale,
                  "Rehearse faster: every phase lasts duration / scale (3: a 3-minute demo in "
                  "one minute); rates stay the same");
  cmd->add_option("--json", o.json_path, "Write every phase's report here (atomically)");
  cmd->add_option("--seed", o.seed, "Random seed (default: random)");
  cmd->add_option("-t,--threads", o.threads, "Worker threads (default: number of cores)");
  cmd->add_flag("-q,--quiet", o.quiet, "No live progress line");
  cmd->add_flag("--no-color", o.no_color, "No colours");
  cmd->add_option("--data-dir", o.data_dir,
                  "Built-in target: catalog directory (default ~/.cache/trafficsim)");
  cmd->add_option("--catalog-rows", o.catalog_rows,
                  "Built-in target: catalog rows (default 500000)");
  return cmd;
}

namespace {

struct PhaseRow {
  std::string title, traffic;
  double duration_s = 0;
  uint64_t requests = 0, expected = 0, unexpected = 0;
  double p95_us = 0;
  int64_t tokens = 0;
  bool has_tokens = false;
  bool ran = false;
  bool thresholds_ok = true;
};

double num(const json::object& o, std::string_view k) {
  return report_number(o, k);
}

std::string format_clock(double s) {
  int total = static_cast<int>(std::lround(s));
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

}  // namespace

int run_play(const PlayOptions& o) {
  const char* cmd = "trafficsim play";
  Style st = Style::for_fd(fileno(stdout), !o.no_color);
  scenarios::DemoScript script;
  std::vector<scenarios::Scenario> loaded;
  double scale = 1;
  uint64_t seed = 0;
  try {
    if (!o.time_scale.empty()) scale = parse_time_scale_arg(o.time_scale, "--time-scale");
    seed = parse_seed_arg(o.seed, "--seed");
    if (o.threads < 0) throw UsageError("invalid -t/--threads: must be at least 1");
    if (!o.url.empty()) parse_url_arg(o.url, "--url");
    script = scenarios::load_demo_script(scenarios::resolve_source(o.script));
    // Every phase is loaded before the first starts: a typo in phase 4 must not wait 2 minutes.
    for (size_t i = 0; i < script.phases.size(); ++i) {
      const auto& ph = script.phases[i];
      scenarios::LoadOptions lo;
      lo.params = ph.params;
      scenarios::Scenario sc;
      try {
        sc = scenarios::load_scenario(ph.source, lo);
      } catch (const scenarios::ScenarioError& e) {
        throw scenarios::ScenarioError(fmt::format("{}:{}: phases[{}]: {}", script.source.path,
                                                   ph.line, i, e.what()));
      }
      for (const auto& [k, v] : ph.params)
        if (!sc.used_params.count(k))
          throw scenarios::ScenarioError(
              fmt::format("{}:{}: phases[{}]: '{}' has no effect on {} '{}'", script.source.path,
                          ph.line, i, k, ph.kind, ph.ref));
      loaded.push_back(std::move(sc));
    }
    if (!o.json_path.empty()) load::check_writable(o.json_path);
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  } catch (const scenarios::ScenarioError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }

  int stop_fd = install_stop_signals();
  bool any_demo_clock = false;
  for (const auto& sc : loaded) any_demo_clock = any_demo_clock || sc.demo_clock;
  std::optional<scenarios::DemoClockSpec> clock;
  std::vector<std::string> notes;
  SessionTarget target;
  try {
    if (any_demo_clock) {
      clock = resolve_demo_clock(o.url, std::nullopt, unix_now(), &notes);
      clock->time_scale *= scale;
    }
    target.open({o.url, o.data_dir, o.catalog_rows, seed}, clock ? &*clock : nullptr);
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitRunFailed;
  }

  auto total_s = static_cast<double>(script.total().count()) / 1e9 / scale;
  fmt::print("\n{} {} — {} phases, {}{} -> {}{}\n", st.bold("Playing"), st.bold(script.name),
             script.phases.size(), format_clock(total_s),
             scale != 1 ? fmt::format(" (time scale {:g})", scale) : std::string(), target.url(),
             target.builtin() ? " (built-in target)" : "");
  if (!script.description.empty()) fmt::print("  {}\n", st.dim(script.description));
  for (const auto& n : notes) fmt::print("  {} {}\n", st.yellow("note:"), n);

  std::vector<PhaseRow> rows(script.phases.size());
  json::array phase_reports;
  bool stopped = false, thresholds_ok = true;
  int exit_code = kExitOk;
  auto play_start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < script.phases.size() && !stopped; ++i) {
    const auto& ph = script.phases[i];
    const auto& sc = loaded[i];
    PhaseRow& row = rows[i];
    row.title = ph.title;
    row.traffic = ph.ref;
    if (auto it = ph.params.find("rate"); it != ph.params.end()) row.traffic += " @ " + it->second + "/s";
    if (auto it = ph.params.find("max_rps"); it != ph.params.end())
      row.traffic += " @ " + it->second + "/s";
    double dur_s = static_cast<double>(ph.duration.count()) / 1e9 / scale;
    row.duration_s = dur_s;
    fmt::print("\n{} {}  {}\n", st.cyan(fmt::format("▶ [{}/{}] {}", i + 1, script.phases.size(),
                                                     format_clock(std::chrono::duration<double>(
                                                         std::chrono::steady_clock::now() -
                                                         play_start).count()))),
               st.bold(ph.title), st.dim(fmt::format("{} for {}", row.traffic,
                                                     format_seconds(dur_s))));
    if (!ph.narration.empty()) print_wrapped(stdout, ph.narration, 96, "    ");
    std::fflush(stdout);
    RunSettings rs;
    rs.url = target.url();
    rs.duration = std::chrono::nanoseconds(static_cast<int64_t>(dur_s * 1e9));
    rs.seed = seed + i;
    rs.threads = o.threads;
    rs.quiet = o.quiet;
    rs.stop_fd = stop_fd;
    rs.progress_prefix = fmt::format("[{}/{}] ", i + 1, script.phases.size());
    if (sc.demo_clock) rs.clock = clock;
    RunOutcome out;
    try {
      out = run_scenario(sc, ph.params, rs, stdout, st);
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}: phase {} ({}): {}\n", cmd, i + 1, ph.title, e.what());
      exit_code = kExitRunFailed;
      break;
    }
    row.ran = true;
    row.requests = static_cast<uint64_t>(num(out.report, "requests"));
    row.expected = static_cast<uint64_t>(num(out.report, "expected_failures"));
    row.unexpected = static_cast<uint64_t>(num(out.report, "unexpected_failures"));
    row.p95_us = num(out.report.at("latency").as_object().at("corrected").as_object(), "p95_us");
    for (const auto& sv : out.report.at("streams").as_array()) {
      const auto& so = sv.as_object();
      if (auto c = so.find("counters"); c != so.end() && c->value().is_object()) {
        row.has_tokens = true;
        for (const auto& [k, v] : c->value().as_object()) row.tokens += v.to_number<int64_t>();
      }
    }
    row.thresholds_ok = out.thresholds_passed();
    thresholds_ok = thresholds_ok && row.thresholds_ok;
    stopped = out.stopped;
    out.report["phase"] = json::object{{"index", i + 1},
                                       {"title", ph.title},
                                       {"narration", ph.narration},
                                       {"traffic", row.traffic}};
    phase_reports.push_back(std::move(out.report));
  }
  target.close();

  fmt::print("\n{}{}\n", st.bold(fmt::format("Demo '{}' — phases", script.name)),
             stopped ? st.yellow("  (stopped early)") : std::string());
  fmt::print("  {}\n", st.bold(fmt::format("{:<3}{:<46}{:<30}{:>8}{:>10}{:>9}{:>10}{:>10}{:>13}",
                                            "#", "phase", "traffic", "time", "requests",
                                            "ok", "injected", "p95", "tokens/req")));
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::string title = r.title.size() > 45 ? r.title.substr(0, 44) + "~" : r.title;
    std::string traffic = r.traffic.size() > 29 ? r.traffic.substr(0, 28) + "~" : r.traffic;
    if (!r.ran) {
      fmt::print("  {:<3}{:<46}{:<30}{:>8}\n", i + 1, title, traffic, st.dim("not run"));
      continue;
    }
    uint64_t ok = r.requests - std::min(r.requests, r.expected + r.unexpected);
    std::string okp = r.requests ? fmt::format("{:.1f}%", 100.0 * ok / r.requests) : "-";
    std::string inj = r.expected && r.requests ? fmt::format("{:.1f}%", 100.0 * r.expected / r.requests) : "-";
    std::string p95 = r.requests ? format_us(static_cast<int64_t>(r.p95_us)) : "-";
    std::string tpr = r.has_tokens && ok ? format_count(static_cast<uint64_t>(r.tokens) / ok) : "-";
    std::string okc = r.unexpected ? st.red(fmt::format("{:>9}", okp)) : st.green(fmt::format("{:>9}", okp));
    fmt::print("  {:<3}{:<46}{:<30}{:>8}{:>10}{}{:>10}{:>10}{:>13}\n", i + 1, title, traffic,
               format_seconds(r.duration_s), format_count(r.requests), okc, inj, p95, tpr);
  }
  fmt::print("\n");
  if (!o.json_path.empty()) {
    json::object all{{"format_version", load::kReportFormatVersion},
                     {"script", json::object{{"name", script.name},
                                             {"source", script.source.path},
                                             {"time_scale", scale}}},
                     {"stopped_early", stopped},
                     {"phases", std::move(phase_reports)}};
    try {
      load::write_json_atomic(o.json_path, all);
      fmt::print("  report written to {}\n", o.json_path);
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}: {}\n", cmd, e.what());
      return kExitRunFailed;
    }
  }
  if (exit_code != kExitOk) return exit_code;
  if (!thresholds_ok) {
    fmt::print(stderr, "{}: thresholds failed (exit {})\n", cmd, kExitThresholds);
    return kExitThresholds;
  }
  return kExitOk;
}

}  // namespace trafficsim::cli
