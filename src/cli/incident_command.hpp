#pragma once
// `trafficsim incident`: seed 004's Incident Simulator on the command line (docs/incidents.md,
// "On the command line").
//   incident --list                 the scenarios as a table
//   incident ID | --file FILE       runs one: details, live progress, hypotheses and actions,
//                                   the incident's dashboard link (--show: the details only)
//   incident --interactive          a numbered menu read from stdin, then runs the choice
//   incident ID --narrative         the story in acts, for presentations
//   incident validate               how often the analyzer is right (cli/incident_validate)
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace trafficsim::cli {

struct IncidentValidateOptions {
  int variants = 50;
  uint64_t seed = 1;
  bool json = false;
  bool no_color = false;
  std::vector<std::string> files;  // custom scenarios instead of the built-ins
  bool requested = false;          // `incident validate` was given
};

struct IncidentOptions {
  std::string id;    // a built-in scenario's id
  std::string file;  // or a custom scenario file
  bool list = false;
  bool show = false;  // details only, run nothing
  bool json = false;
  bool no_color = false;
  bool interactive = false;
  bool narrative = false;
  bool no_pause = false;
  bool no_analyze = false;
  std::string mode = "demo";  // demo | realtime
  uint64_t seed = 0;          // 0: drawn
  std::string incidents_db;
  std::string server;
  std::string api_key;
  std::string dashboard;
  IncidentValidateOptions validate;
};

CLI::App* add_incident_command(CLI::App& app, IncidentOptions& options);
int run_incident(const IncidentOptions& options);

}  // namespace trafficsim::cli
