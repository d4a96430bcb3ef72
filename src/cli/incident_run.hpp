#pragma once
// Running one incident scenario for `trafficsim incident ID` (seed 004's run_demo.py ID): in
// this process — a SimulationRunner over the incident store `trafficsim serve` reads, without
// metric injection (nothing scrapes this process) — or through a running demo/serve's REST API
// (--server URL). Live progress while it plays: one redrawn line on a TTY, a plain line per
// phase otherwise; Ctrl+C stops a realtime run, which is then analyzed on what was played.
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "cli/terminal.hpp"
#include "incidents/incident_scenario.hpp"
#include "incidents/incident_store.hpp"
#include "incidents/simulation.hpp"

namespace trafficsim::cli {

inline constexpr const char* kDefaultDashboardUrl = "http://127.0.0.1:8000";

struct IncidentRunOptions {
  std::string incidents_db;  // in-process store; empty: <default data dir>/incidents.sqlite
  std::string server;        // run through this server's REST API instead
  std::string api_key;       // for --server (X-API-Key); empty: $TRAFFICSIM_API_KEY if set
  std::string dashboard;     // the incident's link; empty: the server's URL, else 127.0.0.1:8000
  incidents::ExecutionMode mode = incidents::ExecutionMode::demo;
  bool analyze = true;
  uint64_t seed = 0;     // 0: drawn
  bool progress = true;  // the live line / phase lines (off for --json)
};

struct IncidentRunResult {
  boost::json::object record;  // the simulation record as JSON (the start answer, final)
  incidents::Incident incident;
  std::string status;  // completed, stopped, failed
  bool metrics_injected = false;
  std::string incident_url;  // <dashboard>/#incident=<id>
  std::string where;         // "in-process (STORE)" or "via URL"
};

// A run that could not happen; `exit_code` per the CLI ladder (2 bad input, 1 could not run).
class IncidentRunError : public std::runtime_error {
 public:
  IncidentRunError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code(exit_code) {}
  int exit_code;
};

// Plays `scenario` and returns the incident it opened, analyzed (progress on stdout unless
// options.progress is false). Throws IncidentRunError.
IncidentRunResult run_incident_scenario(const incidents::IncidentScenario& scenario,
                                        const IncidentRunOptions& options, const Style& style);

// The result as tables: the simulation's outcome, hypotheses, actions, where to see it.
void print_run_result(const IncidentRunResult& result, const Style& style);
// {"simulation": the record, "incident": the incident} (what --json prints).
boost::json::object run_result_json(const IncidentRunResult& result);

// The default in-process store: the one `trafficsim serve` opens.
std::string default_incidents_db();

}  // namespace trafficsim::cli
