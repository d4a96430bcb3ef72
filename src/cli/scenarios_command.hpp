#pragma once
// `trafficsim scenarios`: the built-in modes, scenarios and demo scripts, one line each (or as
// JSON); --show NAME prints one built-in file, to copy and change.
#include <string>

#include <CLI/CLI.hpp>

namespace trafficsim::cli {

struct ScenariosOptions {
  std::string show;  // print this built-in's file
  bool json = false;
};

CLI::App* add_scenarios_command(CLI::App& app, ScenariosOptions& options);
int run_scenarios(const ScenariosOptions& options);

}  // namespace trafficsim::cli
