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
#include "jobs/client_source.hpp"
#include "jobs/monitor_runner.hpp"

namespace trafficsim::cli {

struct MonitorFlags {
  std::string file;    // --monitors FILE: instead of the built-ins
  // --monitor-source URL: a /metrics to scrape instead of the target's; "client": the load
  // engine's own statistics (run and play; jobs/client_source)
  std::string source;
  bool off = false;    // --no-monitors (demo, serve)
  bool fail_on_alert = false;
  // run and play evaluate monitors only when one of the flags asks for them.
  bool wanted() const { return !file.empty() || !source.empty() || fail_on_alert; }
};

// --monitors, --monitor-source, --fail-on-alert, and with `default_on` --no-monitors.
void add_monitor_flags(CLI::App* cmd, MonitorFlags& flags, bool default_on);

inline constexpr const char* kClientSourceName = "client";
// serve --segments: the monitors read the distributed run's segments (jobs/segment_watch.hpp).
inline constexpr const char* kSegmentsSourceName = "segments";

// run and play: do the monitors read the client-side source? With --monitor-source client, and
// by default when the target is external (--url: its metrics may not exist or may not name the
// built-ins' families); the built-in target's own metrics stay the default when it runs.
bool uses_client_source(const MonitorFlags& flags, bool external_target);

// The runner the flags ask for (nullptr when off); UsageError naming the flag or the file's
// fault (FILE:LINE: FIELD). It reads --monitor-source URL when given; else `client` when given
// (run and play, as uses_client_source says; --monitor-source client needs it); else
// `target_scrape`, the target's metrics.
std::unique_ptr<jobs::MonitorRunner> make_monitor_runner(
    const MonitorFlags& flags, const Style& style, double time_scale,
    std::function<std::optional<std::string>(std::string*)> target_scrape,
    std::string target_name, std::shared_ptr<const jobs::ClientSource> client = nullptr);

// kExitThresholds (3, with a line on stderr) when --fail-on-alert and a monitor alerted; else 0.
int alert_exit_code(const MonitorFlags& flags, const jobs::MonitorRunner& runner, const char* cmd);

}  // namespace trafficsim::cli
