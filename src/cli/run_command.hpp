#pragma once
// `trafficsim run`: one seed mode (--mode), built-in scenario (--scenario) or scenario file (-f)
// against the built-in target (started in-process) or any --url; `trafficsim scenarios`: the
// built-ins; `trafficsim play`: a demo script, phase after phase, with narration.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace trafficsim::cli {

struct RunOptions {
  std::string mode, scenario, file;
  std::string rate, duration, url, json_path, seed, samples, max_rps, endpoints, hard_cap;
  std::string time_scale;
  std::vector<std::string> sets;
  bool checkout = false;
  bool verbose = false, quiet = false, no_color = false;
  int threads = 0;
  std::string data_dir;
  int64_t catalog_rows = 500'000;
};

struct PlayOptions {
  std::string script, url, json_path, seed, time_scale;
  bool quiet = false, no_color = false;
  int threads = 0;
  std::string data_dir;
  int64_t catalog_rows = 500'000;
};

struct ScenariosOptions {
  std::string show;  // print this built-in's file
  bool json = false;
};

CLI::App* add_run_command(CLI::App& app, RunOptions& options);
CLI::App* add_play_command(CLI::App& app, PlayOptions& options);
CLI::App* add_scenarios_command(CLI::App& app, ScenariosOptions& options);
int run_run(const RunOptions& options);
int run_play(const PlayOptions& options);
int run_scenarios(const ScenariosOptions& options);

}  // namespace trafficsim::cli
