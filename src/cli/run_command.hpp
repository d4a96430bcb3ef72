#pragma once
// `trafficsim run`: one seed mode (--mode), built-in scenario (--scenario) or scenario file (-f)
// as a traffic job against the built-in target (started in-process) or any --url.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/traffic_flags.hpp"

namespace trafficsim::cli {

struct RunOptions {
  std::string mode, scenario, file;
  std::string rate, duration, samples, max_rps, endpoints, hard_cap;
  std::string time_scale;
  std::string segment;         // --segment i/n
  std::string metrics_listen;  // --metrics-listen [HOST]:PORT
  std::string metrics_linger;  // --metrics-linger DURATION
  std::vector<std::string> sets;
  bool checkout = false;
  bool verbose = false;
  TrafficFlags common;
};

CLI::App* add_run_command(CLI::App& app, RunOptions& options);
int run_run(RunOptions& options);

}  // namespace trafficsim::cli
