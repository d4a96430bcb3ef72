#include "cli/incident_command.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/incident_narrative.hpp"
#include "cli/incident_printing.hpp"
#include "cli/incident_run.hpp"
#include "cli/incident_validate.hpp"
#include "cli/terminal.hpp"
#include "cli/traffic_flags.hpp"
#include "incidents/builtin.hpp"
#include "incidents/scenario_json.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

namespace {

constexpr const char* kCmd = "trafficsim incident";

void print_list(const Style& st) {
  const auto& all = incidents::builtin_incident_scenarios();
  size_t id_w = 2, name_w = 4;
  for (const auto& sc : all) {
    id_w = std::max(id_w, sc.id.size());
    name_w = std::max(name_w, sc.name.size());
  }
  fmt::print("{}\n", st.bold(fmt::format("{:<{}}  {:<{}}  {:<12}  {:<8}  {}", "id", id_w, "name",
                                         name_w, "difficulty", "severity", "tags")));
  for (const auto& sc : all) {
    std::string sev(incidents::to_string(sc.severity));
    fmt::print("{:<{}}  {:<{}}  {:<12}  {}  {}\n", sc.id, id_w, sc.name, name_w,
               incidents::to_string(sc.difficulty),
               padded(sev, 8, coloured_severity(st, sc.severity)), joined(sc.tags));
  }
  fmt::print("\n{}\n", st.dim("trafficsim incident ID runs one (--show: its details only); the "
                              "dashboard and GET /api/v1/simulator/scenarios list them too"));
}

IncidentRunOptions run_options(const IncidentOptions& o) {
  IncidentRunOptions r;
  r.incidents_db = o.incidents_db;
  r.server = o.server;
  r.api_key = o.api_key;
  r.dashboard = o.dashboard;
  r.mode = incidents::parse_execution_mode(o.mode).value_or(incidents::ExecutionMode::demo);
  r.analyze = !o.no_analyze;
  r.seed = o.seed;
  r.progress = !o.json;
  return r;
}

// One scenario run as asked: the story in acts, JSON, or details + progress + tables.
int run_one(const incidents::IncidentScenario& sc, const IncidentOptions& o, const Style& st) {
  IncidentRunOptions ro = run_options(o);
  if (o.narrative) {
    bool pause = !o.no_pause && is_tty(fileno(stdin)) && is_tty(fileno(stdout));
    return tell_incident_story(sc, ro, st, pause);
  }
  if (!o.json) {
    print_scenario_details(sc, st);
    fmt::print("\n{} {} ({} mode{})\n", st.bold("Running"), sc.id, o.mode,
               o.server.empty() ? ", in this process" : ", on " + o.server);
  }
  IncidentRunResult result;
  try {
    result = run_incident_scenario(sc, ro, st);
  } catch (const IncidentRunError& e) {
    fmt::print(stderr, "{}: {}\n", kCmd, e.what());
    return e.exit_code;
  }
  if (o.json)
    fmt::print("{}\n", json::serialize(run_result_json(result)));
  else
    print_run_result(result, st);
  return result.status == "failed" ? kExitRunFailed : kExitOk;
}

// The seed's run_demo.py --interactive: a numbered menu on stdout, the choice from stdin (a
// number or an id); q quits, end of input too; after a run the menu comes back.
int run_interactive(const IncidentOptions& o, const Style& st) {
  const auto& all = incidents::builtin_incident_scenarios();
  const bool echo = !is_tty(fileno(stdin));  // piped input: show what was read, as typed
  int worst = kExitOk;
  bool menu = true;
  for (;;) {
    if (menu) {
      fmt::print("\n{}\n", st.bold("Incident scenarios"));
      for (size_t i = 0; i < all.size(); ++i)
        fmt::print("  {}  {:<28} {:<40} {:<12} {}\n", st.bold(fmt::format("{:>2}", i + 1)),
                   all[i].id, all[i].name, incidents::to_string(all[i].difficulty),
                   coloured_severity(st, all[i].severity));
      menu = false;
    }
    fmt::print("Choose a scenario (1-{} or its id, q to quit): ", all.size());
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) {
      fmt::print("\n");
      return worst;
    }
    if (echo) fmt::print("{}\n", line);
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line == "q" || line == "quit" || line == "exit") return worst;
    const incidents::IncidentScenario* chosen = incidents::find_incident_scenario(line);
    if (!chosen && !line.empty() && line.size() < 4 &&
        line.find_first_not_of("0123456789") == std::string::npos) {
      size_t n = std::stoul(line);
      if (n >= 1 && n <= all.size()) chosen = &all[n - 1];
    }
    if (!chosen) {
      fmt::print("{}\n", st.yellow(fmt::format("'{}' is not a choice: type a number from 1 to "
                                               "{}, a scenario id, or q to quit",
                                               line, all.size())));
      continue;
    }
    fmt::print("\n");
    int code = run_one(*chosen, o, st);
    if (worst == kExitOk) worst = code;
    menu = true;  // after a run, the menu again
  }
}

std::optional<std::string> conflicting(const IncidentOptions& o) {
  int targets = (o.list ? 1 : 0) + (o.id.empty() ? 0 : 1) + (o.file.empty() ? 0 : 1) +
                (o.interactive ? 1 : 0);
  if (targets != 1) return "give one of --list, an ID, --file FILE, --interactive or validate";
  if (o.show && (o.list || o.interactive)) return "--show goes with an ID or --file FILE";
  if (o.json && (o.narrative || o.interactive))
    return "--json does not go with --narrative or --interactive";
  if (o.show && o.narrative) return "--show and --narrative do not go together";
  if (!o.server.empty() && !o.file.empty())
    return "--file runs in this process only (the REST API runs the built-in scenarios)";
  if (!o.server.empty() && !o.incidents_db.empty())
    return "--incidents-db is for in-process runs; the server keeps its own store";
  if (!incidents::parse_execution_mode(o.mode)) return "--mode must be demo or realtime";
  return std::nullopt;
}

}  // namespace

CLI::App* add_incident_command(CLI::App& app, IncidentOptions& o) {
  auto* cmd = app.add_subcommand(
      "incident",
      "Seed 004's Incident Simulator: run a scenario (ID or --file FILE) — its details, live "
      "progress, the incident it opens with hypotheses and actions, the dashboard link — or "
      "--list them, --show one, pick one --interactive(ly), tell its --narrative, or validate "
      "the analyzer (incident validate --help).\n"
      "In this process by default (the incident lands in the store `trafficsim serve` reads; "
      "no metric injection), or through a running demo/serve with --server URL.\n"
      "Exit codes: 0 done (completed, or stopped by Ctrl+C), 1 could not run (store, server, a "
      "failed simulation), 2 bad input (unknown id, bad flags, a bad file named FILE:LINE: "
      "FIELD).");
  cmd->add_option("id", o.id, "A built-in scenario's id (see --list)");
  cmd->add_option("--file", o.file, "A custom incident scenario file (docs/incidents.md)");
  cmd->add_flag("--list", o.list, "List the built-in scenarios");
  cmd->add_flag("--show", o.show, "Show the scenario's details only; run nothing");
  cmd->add_flag("--interactive", o.interactive,
                "A numbered menu of the scenarios read from stdin (q quits), then run the choice");
  cmd->add_flag("--narrative", o.narrative,
                "Tell the incident as a story in acts (the calm, something is wrong, the "
                "diagnosis, the fix), for presentations");
  cmd->add_flag("--no-pause", o.no_pause,
                "No 'Press Enter to continue' between acts (never when stdin is not a terminal)");
  cmd->add_option("--mode", o.mode,
                  "demo: the scenario compressed into ~6 s; realtime: its duration_seconds "
                  "(Ctrl+C stops and analyzes what was played)")
      ->check(CLI::IsMember({"demo", "realtime"}))
      ->capture_default_str();
  cmd->add_flag("--no-analyze", o.no_analyze, "Open the incident but do not analyze it");
  cmd->add_option("--seed", o.seed, "Noise seed (default: drawn)");
  cmd->add_option("--incidents-db", o.incidents_db,
                  "The incident store for in-process runs (default: the one `trafficsim serve` "
                  "uses, ~/.cache/trafficsim/incidents.sqlite)");
  cmd->add_option("--server", o.server,
                  "Run through this demo/serve's REST API instead (e.g. http://127.0.0.1:8000)");
  cmd->add_option("--api-key", o.api_key, "The server's API key (default: $TRAFFICSIM_API_KEY)");
  cmd->add_option("--dashboard", o.dashboard,
                  "The dashboard's URL for the incident link (default: --server, else "
                  "http://127.0.0.1:8000)");
  cmd->add_flag("--json", o.json,
                "Print as JSON: with --list / --show the REST API's shapes; for a run "
                "{simulation, incident}");
  cmd->add_flag("--no-color", o.no_color, "No colours");
  add_incident_validate_command(*cmd, o.validate);
  return cmd;
}

int run_incident(const IncidentOptions& o) {
  if (o.validate.requested) return run_incident_validate(o.validate);
  Style st = Style::for_fd(fileno(stdout), !o.no_color);
  if (auto why = conflicting(o)) {
    fmt::print(stderr, "{}: {}\n", kCmd, *why);
    return kExitUsage;
  }
  const auto& all = incidents::builtin_incident_scenarios();
  if (o.list) {
    if (o.json) {
      json::array a;
      for (const auto& sc : all) a.emplace_back(incidents::scenario_summary_json(sc));
      fmt::print("{}\n", json::serialize(a));
      return kExitOk;
    }
    print_list(st);
    return kExitOk;
  }
  if (o.interactive) return run_interactive(o, st);
  std::optional<incidents::IncidentScenario> loaded;
  const incidents::IncidentScenario* sc = nullptr;
  if (!o.file.empty()) {
    try {
      loaded = incidents::load_incident_scenario_file(o.file);
    } catch (const incidents::IncidentError& e) {
      fmt::print(stderr, "{}: {}\n", kCmd, e.what());
      return kExitUsage;
    }
    sc = &*loaded;
  } else {
    sc = incidents::find_incident_scenario(o.id);
    if (!sc) {
      std::vector<std::string> ids;
      for (const auto& s : all) ids.push_back(s.id);
      fmt::print(stderr, "{}: no scenario '{}' (expected one of {})\n", kCmd, o.id, joined(ids));
      return kExitUsage;
    }
  }
  if (o.show) {
    if (o.json)
      fmt::print("{}\n", json::serialize(incidents::scenario_details_json(*sc)));
    else
      print_scenario_details(*sc, st);
    return kExitOk;
  }
  return run_one(*sc, o, st);
}

}  // namespace trafficsim::cli
