#pragma once
// `trafficsim incident`: seed 004's incident scenarios. `--list` a table (id, name, difficulty,
// severity, tags); `incident ID` one scenario's details (metrics with baseline, value and σ,
// context, expected outcome); `--json` either as the REST API answers it; `--file FILE` a custom
// scenario file, checked and shown. (Running simulations comes with the rest of issue 12.)
#include <string>

#include <CLI/CLI.hpp>

namespace trafficsim::cli {

struct IncidentOptions {
  std::string id;    // a built-in scenario's id
  std::string file;  // or a custom scenario file
  bool list = false;
  bool json = false;
  bool no_color = false;
};

CLI::App* add_incident_command(CLI::App& app, IncidentOptions& options);
int run_incident(const IncidentOptions& options);

}  // namespace trafficsim::cli
