#include "cli/monitor_flags.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "cli/arguments.hpp"
#include "cli/traffic_flags.hpp"
#include "monitors/monitor_spec.hpp"

namespace trafficsim::cli {

namespace {

void print_monitor_event(const Style& st, const monitors::MonitorEvent& e) {
  std::string badge = e.to == monitors::MonitorState::alert     ? st.red(st.bold("ALERT  "))
                      : e.to == monitors::MonitorState::pending ? st.yellow("PENDING")
                                                                : st.green("OK     ");
  fmt::print("{} {} {} — {}\n", st.dim("monitor"), badge, st.bold(e.monitor_name), e.reason);
  std::fflush(stdout);
}

}  // namespace

void add_monitor_flags(CLI::App* cmd, MonitorFlags& f, bool default_on) {
  cmd->add_option("--monitors", f.file, "Monitors file (docs/monitors.md) instead of the built-ins");
  cmd->add_option("--monitor-source", f.source,
                  "What the monitors read: a Prometheus /metrics URL, or 'client' for the load "
                  "engine's own statistics (run, play; their default with --url), or 'segments' for "
                  "the distributed run serve --segments watches. Default: the target's /metrics");
  if (default_on) cmd->add_flag("--no-monitors", f.off, "Do not evaluate monitors");
  cmd->add_flag("--fail-on-alert", f.fail_on_alert, "Exit 3 when a monitor alerted");
}

bool uses_client_source(const MonitorFlags& f, bool external_target) {
  return f.source == kClientSourceName || (f.source.empty() && external_target);
}

std::unique_ptr<jobs::MonitorRunner> make_monitor_runner(
    const MonitorFlags& f, const Style& st, double time_scale,
    std::function<std::optional<std::string>(std::string*)> target_scrape,
    std::string target_name, std::shared_ptr<const jobs::ClientSource> client) {
  if (f.off) {
    if (!f.file.empty() || !f.source.empty() || f.fail_on_alert)
      throw UsageError(
          "--no-monitors: --monitors, --monitor-source and --fail-on-alert need monitors");
    return nullptr;
  }
  jobs::MonitorRunnerOptions mo;
  try {
    mo.monitors = f.file.empty() ? monitors::builtin_monitors() : monitors::load_monitors_file(f.file);
  } catch (const monitors::MonitorFileError& e) {
    throw UsageError(fmt::format("invalid --monitors: {}", e.what()));
  }
  mo.time_scale = time_scale;
  if (f.source == kClientSourceName) {
    if (!client)
      throw UsageError(
          "--monitor-source client: the load engine's statistics exist under run and play only");
    mo.scrape = jobs::ClientSource::scrape(std::move(client));
    mo.source_name = kClientSourceName;
  } else if (!f.source.empty()) {
    parse_url_arg(f.source, "--monitor-source");
    mo.scrape = jobs::url_scrape(f.source);
    mo.source_name = f.source;
  } else if (client) {
    mo.scrape = jobs::ClientSource::scrape(std::move(client));
    mo.source_name = kClientSourceName;
  } else {
    mo.scrape = std::move(target_scrape);
    mo.source_name = std::move(target_name);
  }
  auto runner = std::make_unique<jobs::MonitorRunner>(std::move(mo));
  // Transitions are events of the story, like the narration: printed under -q too.
  runner->on_event([st](const monitors::MonitorEvent& e) { print_monitor_event(st, e); });
  return runner;
}

int alert_exit_code(const MonitorFlags& f, const jobs::MonitorRunner& runner, const char* cmd) {
  if (!f.fail_on_alert || !runner.any_alerted()) return 0;
  fmt::print(stderr, "{}: a monitor alerted (--fail-on-alert)\n", cmd);
  return kExitThresholds;
}

}  // namespace trafficsim::cli
