#pragma once
// The monitor flags `run`, `play`, `demo` and `serve` share (docs/monitors.md): which monitors,
// what they scrape, whether an alert fails the command; and the runner they ask for, printing
// every transition on the terminal.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/terminal.hpp"
#include "jobs/monitor_runner.hpp"

namespace trafficsim::cli {

struct MonitorFlags {
  std::string file;    // --monitors FILE: instead of the built-ins
  std::string source;  // --monitor-source URL: a /metrics to scrape instead of the target's
  bool off = false;    // --no-monitors (demo, serve)
  bool fail_on_alert = false;
  // run and play evaluate monitors only when one of the flags asks for them.
  bool wanted() const { return !file.empty() || !source.empty() || fail_on_alert; }
};

// --monitors, --monitor-source, --fail-on-alert, and with `default_on` --no-monitors.
void add_monitor_flags(CLI::App* cmd, MonitorFlags& flags, bool default_on);

// The runner the flags ask for (nullptr when off); UsageError naming the flag or the file's
// fault (FILE:LINE: FIELD). `target_scrape` reads the target's metrics unless --monitor-source.
std::unique_ptr<jobs::MonitorRunner> make_monitor_runner(
    const MonitorFlags& flags, const Style& style, double time_scale,
    std::function<std::optional<std::string>(std::string*)> target_scrape,
    std::string target_name);

// kExitThresholds (3, with a line on stderr) when --fail-on-alert and a monitor alerted; else 0.
int alert_exit_code(const MonitorFlags& flags, const jobs::MonitorRunner& runner, const char* cmd);

}  // namespace trafficsim::cli
