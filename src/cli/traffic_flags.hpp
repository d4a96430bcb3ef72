#pragma once
// What `trafficsim run` and `trafficsim play` share: the flags that choose the target and shape
// the output, their validation, waiting for a job while Ctrl+C may stop it, and the one ladder
// from exceptions to exit codes (documented in the README):
//   2  bad flags, file or environment: UsageError, scenarios::ScenarioError,
//      jobs::ClockConfigError, std::invalid_argument (an invalid request mix)
//   1  could not run: load::StartError, jobs::TargetStartError, an unwritable report, out of
//      memory, any other error
#include <chrono>
#include <cstdint>
#include <optional>
#include <exception>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/monitor_flags.hpp"
#include "cli/otlp_flags.hpp"
#include "cli/terminal.hpp"
#include "jobs/target_session.hpp"
#include "jobs/demo_script_job.hpp"
#include "jobs/traffic_job.hpp"

namespace trafficsim::cli {

// Exit code of a run whose thresholds failed (documented in the README and docs/scenarios.md).
inline constexpr int kExitThresholds = 3;

struct TrafficFlags {
  std::string url, json_path, seed_text;
  bool quiet = false, no_color = false;
  int threads = 0;
  std::string data_dir;
  int64_t catalog_rows = 500'000;
  std::string start_at_text;  // --start-at
  MonitorFlags monitors;  // off unless one of its flags is given
  OtlpFlags otlp;         // --otlp, --trace-ratio

  // Set by validate().
  uint64_t seed = 0;
  std::optional<std::chrono::system_clock::time_point> start_at;
};

// Adds --url, --json, --seed, --start-at, -t, -q, --no-color, --data-dir, --catalog-rows, --otlp and
// --trace-ratio.
void add_traffic_flags(CLI::App* cmd, TrafficFlags& flags, const std::string& json_help);

// Checks every value (throws UsageError naming the flag), draws the seed when none was given,
// and checks that the report path can be written (throws std::runtime_error) — before anything
// runs, so a typo never costs a run.
void validate(TrafficFlags& flags);

// --otlp / OTEL_* and --trace-ratio into the job's settings: the generator's exporter (client
// spans) and, for the built-in target, the target's (spans, metrics, logs). Call after
// settings.builtin is set. UsageError for bad values.
void attach_export(const TrafficFlags& flags, jobs::TrafficJobSettings& settings);
void attach_export(const TrafficFlags& flags, jobs::DemoScriptSettings& settings);
// After the job: flushes both exporters (at most 5 s each), puts "export" in the report and
// prints its one-line summary.
void finish_export(const jobs::TrafficJobSettings& settings, boost::json::object& report,
                   const Style& style);
void finish_export(const jobs::DemoScriptSettings& settings, boost::json::object& report,
                   const Style& style);

// The target the flags choose; the built-in one announces itself on stdout as it starts.
jobs::TargetChoice target_choice(const TrafficFlags& flags);

// Says on stdout that the built-in target is starting (its first start generates the catalog).
void announce_builtin_target(int64_t catalog_rows);

// Prints "COMMAND: message" on stderr for the exception and returns its exit code.
int exit_code_for(const char* command, std::exception_ptr error);

// Runs fn and turns any exception into its message and exit code: nothing escapes a command.
int guarded(const char* command, const std::function<int()>& fn);

// Waits until done_fd is readable; on the first Ctrl+C / SIGTERM (stop_fd readable) calls
// stop() once and keeps waiting for the job to drain.
void wait_or_stop(int done_fd, int stop_fd, const std::function<void()>& stop);

// Writes the report atomically; when that fails, says why and prints the report on stdout so
// that nothing measured is lost. Returns kExitOk or kExitRunFailed.
int write_report(const char* command, const std::string& path, const boost::json::object& report);

}  // namespace trafficsim::cli
