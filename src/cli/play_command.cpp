#include "cli/play_command.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/live_view.hpp"
#include "cli/scenario_printing.hpp"
#include "cli/signals.hpp"
#include "cli/terminal.hpp"
#include "jobs/demo_script_job.hpp"
#include "jobs/target_session.hpp"
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
  cmd->add_option("--time-scale", o.time_scale,
                  "Rehearse faster: every phase lasts duration / scale (3: a 3-minute demo in "
                  "one minute); rates stay the same");
  add_traffic_flags(cmd, o.common, "Write every phase's report here (atomically)");
  return cmd;
}

namespace {

std::string format_clock(double s) {
  int total = static_cast<int>(std::lround(s));
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

// Prints each phase as it starts (title, narration, its plan) and its live line.
class PlayPrinter : public jobs::DemoScriptObserver {
 public:
  PlayPrinter(const Style& style, size_t phases, bool quiet)
      : style_(style), phases_(phases), live_(stderr, quiet),
        started_(std::chrono::steady_clock::now()) {}

  void phase_started(const jobs::PhaseSummary& row, const scenarios::Phase& ph,
                     const jobs::TrafficJob& job) override {
    double at = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    fmt::print("\n{} {}  {}\n",
               style_.cyan(fmt::format("▶ [{}/{}] {}", row.index + 1, phases_, format_clock(at))),
               style_.bold(ph.title),
               style_.dim(fmt::format("{} for {}", row.traffic, format_seconds(row.duration_s))));
    if (!ph.narration.empty()) print_wrapped(stdout, ph.narration, 96, "    ");
    print_plan(stdout, job.scenario(), job.plan(), style_);
    live_.set_prefix(fmt::format("[{}/{}] ", row.index + 1, phases_));
  }
  void snapshot(const jobs::PhaseSummary&, const jobs::TrafficSnapshot& snap) override {
    live_.show(snap);
  }
  void phase_ended(const jobs::PhaseSummary&, const jobs::TrafficResult&) override {
    live_.finish();
  }

 private:
  Style style_;
  size_t phases_;
  LiveView live_;
  std::chrono::steady_clock::time_point started_;
};

constexpr size_t kTitleWidth = 44, kTrafficWidth = 29;

}  // namespace

std::unique_ptr<jobs::DemoScriptObserver> make_play_printer(const Style& style, size_t phases,
                                                            bool quiet) {
  return std::make_unique<PlayPrinter>(style, phases, quiet);
}

void print_phase_table(const jobs::DemoScriptResult& r, const std::string& name, const Style& st) {
  fmt::print("\n{}{}\n", st.bold(fmt::format("Demo '{}' — phases", name)),
             r.stopped ? st.yellow("  (stopped early)") : std::string());
  fmt::print("  {}\n", st.bold(fmt::format("{:<3}{:<46}{:<31}{:>8}{:>10}{:>9}{:>10}{:>10}{:>13}",
                                            "#", "phase", "traffic", "time", "requests", "ok",
                                            "injected", "p95", "tokens/req")));
  for (const auto& row : r.phases) {
    // Long titles and traffic wrap at word boundaries onto continuation lines; nothing is cut.
    auto titles = wrap_words(row.title, kTitleWidth);
    auto traffic = wrap_words(row.traffic, kTrafficWidth);
    std::string first;
    if (!row.ran) {
      first = fmt::format("{:>8}", st.dim("not run"));
    } else {
      uint64_t ok = row.successes();
      std::string okp = row.requests ? fmt::format("{:.1f}%", 100.0 * ok / row.requests) : "-";
      std::string inj = row.expected_failures && row.requests
                            ? fmt::format("{:.1f}%", 100.0 * row.expected_failures / row.requests)
                            : "-";
      std::string p95 = row.requests ? format_us(static_cast<int64_t>(row.p95_us)) : "-";
      std::string tpr = row.has_tokens && ok ? format_count(static_cast<uint64_t>(row.tokens) / ok)
                                             : "-";
      std::string okc = row.unexpected_failures ? st.red(fmt::format("{:>9}", okp))
                                                : st.green(fmt::format("{:>9}", okp));
      first = fmt::format("{:>8}{:>10}{}{:>10}{:>10}{:>13}", format_seconds(row.duration_s),
                          format_count(row.requests), okc, inj, p95, tpr);
    }
    size_t lines = std::max(titles.size(), traffic.size());
    for (size_t i = 0; i < lines; ++i) {
      std::string index = i == 0 ? std::to_string(row.index + 1) : "";
      std::string line = fmt::format("  {:<3}{:<46}{:<31}{}", index, i < titles.size() ? titles[i] : "",
                                     i < traffic.size() ? traffic[i] : "", i == 0 ? first : "");
      line.erase(line.find_last_not_of(' ') + 1);  // continuation lines end with their text
      fmt::print("{}\n", line);
    }
  }
  fmt::print("\n");
}

namespace {

int play_checked(PlayOptions& o) {
  const char* cmd = "trafficsim play";
  auto& common = o.common;
  Style st = Style::for_fd(fileno(stdout), !common.no_color);
  double scale = 1;
  if (!o.time_scale.empty()) scale = parse_time_scale_arg(o.time_scale, "--time-scale");
  validate(common);
  auto script = scenarios::load_demo_script(scenarios::resolve_source(o.script));
  // Every phase is loaded before the first starts: a typo in phase 4 must not wait 2 minutes.
  auto phases = jobs::load_phases(script);
  if (common.start_at && !script.phases.empty()) {
    // --start-at binds the first phase (the others follow it): its length is the bound.
    auto first = std::chrono::nanoseconds(static_cast<int64_t>(
        static_cast<double>(script.phases[0].duration.count()) / scale));
    check_start_at_arg(*common.start_at, first, std::chrono::system_clock::now(), "--start-at");
  }

  // As under run: the load engine's statistics (--monitor-source client; the default against
  // --url), or the target's /metrics.
  jobs::DemoScriptSettings settings;
  auto scrape_url = std::make_shared<std::string>();
  std::unique_ptr<jobs::MonitorRunner> monitors;
  if (common.monitors.wanted()) {
    if (uses_client_source(common.monitors, !common.url.empty()))
      settings.client_source = std::make_shared<jobs::ClientSource>();
    monitors = make_monitor_runner(
        common.monitors, st, scale,
        [scrape_url](std::string* error) { return jobs::url_scrape(*scrape_url)(error); },
        "the target's /metrics", settings.client_source);
  }
  int stop_fd = install_stop_signals();
  settings.url = common.url;
  settings.builtin = target_choice(common);
  settings.time_scale = scale;
  settings.seed = common.seed;
  settings.threads = common.threads;
  settings.start_at = common.start_at;
  attach_export(common, settings);

  std::string name = script.name;
  size_t n_phases = script.phases.size();
  std::string description = script.description;
  std::string source_path = script.source.path;
  // The job resolves the demo clock and starts the built-in target for all phases.
  jobs::DemoScriptJob job(std::move(script), std::move(phases), settings);
  fmt::print("\n{} {} — {} phases, {}{} -> {}{}\n", st.bold("Playing"), st.bold(name), n_phases,
             format_clock(job.total_s()),
             scale != 1 ? fmt::format(" (time scale {:g})", scale) : std::string(), job.url(),
             job.builtin_target() ? " (built-in target)" : "");
  if (!description.empty()) fmt::print("  {}\n", st.dim(description));
  for (const auto& n : job.notes()) fmt::print("  {} {}\n", st.yellow("note:"), n);
  if (common.start_at)
    fmt::print("  {}\n", start_at_line(*common.start_at, std::chrono::system_clock::now()));
  std::fflush(stdout);

  PlayPrinter printer(st, n_phases, common.quiet);
  job.set_observer(&printer);
  *scrape_url = job.url() + "/metrics";
  if (monitors) monitors->start();
  job.start();
  wait_or_stop(job.done_fd(), stop_fd, [&] { job.stop(); });
  jobs::DemoScriptResult r = job.wait();
  if (monitors) monitors->stop();
  if (r.failed_phase)
    fmt::print(stderr, "{}: phase {} ({}): {}\n", cmd, *r.failed_phase + 1,
               r.phases[*r.failed_phase].title, r.failure);

  print_phase_table(r, name, st);
  json::object exported;
  finish_export(settings, exported, st);
  if (!common.json_path.empty()) {
    json::array reports;
    for (auto& rep : r.reports) reports.push_back(std::move(rep));
    json::object all{{"format_version", load::kReportFormatVersion},
                     {"script", json::object{{"name", name},
                                             {"source", source_path},
                                             {"time_scale", scale}}},
                     {"stopped_early", r.stopped},
                     {"phases", std::move(reports)}};
    if (monitors) all["monitors"] = monitors->to_json();
    if (auto* e = exported.if_contains("export")) all["export"] = *e;
    if (int code = write_report(cmd, common.json_path, all); code != kExitOk) return code;
  }
  if (r.failed_phase) return kExitRunFailed;
  if (!r.thresholds_passed) {
    fmt::print(stderr, "{}: thresholds failed (exit {})\n", cmd, kExitThresholds);
    return kExitThresholds;
  }
  if (monitors) return alert_exit_code(common.monitors, *monitors, cmd);
  return kExitOk;
}

}  // namespace

int run_play(PlayOptions& o) {
  return guarded("trafficsim play", [&] { return play_checked(o); });
}

}  // namespace trafficsim::cli
