#include "cli/incident_command.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/terminal.hpp"
#include "cli/traffic_flags.hpp"
#include "incidents/builtin.hpp"
#include "incidents/metric_pattern.hpp"
#include "incidents/scenario_json.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

namespace {

std::string joined(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::string coloured_severity(const Style& st, incidents::Severity s) {
  std::string text(incidents::to_string(s));
  switch (s) {
    case incidents::Severity::critical: return st.red(st.bold(text));
    case incidents::Severity::high: return st.red(text);
    case incidents::Severity::medium: return st.yellow(text);
    default: return st.green(text);
  }
}

std::string num(double v) {
  if (std::abs(v) >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (std::abs(v) >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (std::abs(v) >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:g}", v);
}

void print_details(const incidents::IncidentScenario& sc, const Style& st) {
  fmt::print("{}  {}\n", st.bold(sc.name), st.dim(sc.id));
  fmt::print("  {}\n", sc.description);
  fmt::print("  service {}  severity {}  difficulty {}  duration {:g} s  tags {}\n\n",
             st.bold(sc.service), coloured_severity(st, sc.severity),
             incidents::to_string(sc.difficulty), sc.duration_seconds, joined(sc.tags));
  fmt::print("  {:<32} {:>10} {:>10} {:>10} {:>7}  {:<9} {}\n", st.bold("metric"), "baseline",
             "value", "σ", "dev", "pattern", "unit");
  for (const auto& m : sc.metrics)
    fmt::print("  {:<24} {:>10} {:>10} {:>10} {:>6.1f}σ  {:<9} {}\n", m.name, num(m.baseline),
               num(m.value), num(m.sigma), incidents::deviation_sigma(m.value, m.baseline, m.sigma),
               incidents::to_string(m.pattern), m.unit);
  if (!sc.context.recent_deployments.empty()) {
    fmt::print("\n  {}\n", st.bold("recent deployments"));
    for (const auto& d : sc.context.recent_deployments)
      fmt::print("    {} {} ({:g} min ago): {}\n", d.service, d.version, d.minutes_ago, d.change);
  }
  if (!sc.context.dependencies.empty())
    fmt::print("\n  {} {}\n", st.bold("dependencies"), joined(sc.context.dependencies));
  for (const auto& n : sc.context.notes) fmt::print("  {} {}\n", st.dim("note:"), n);
  fmt::print("\n  {} {}; actions {}\n", st.bold("expected root cause"), sc.expected_root_cause,
             joined(sc.expected_action_types));
}

}  // namespace

CLI::App* add_incident_command(CLI::App& app, IncidentOptions& o) {
  auto* cmd = app.add_subcommand(
      "incident",
      "Seed 004's incident scenarios: --list them, or show one (ID, or --file FILE for a custom "
      "scenario).\nExit codes: 0 done, 2 unknown id or a bad file (named FILE:LINE: FIELD).");
  cmd->add_option("id", o.id, "A built-in scenario's id (see --list)");
  cmd->add_option("--file", o.file, "A custom incident scenario file (docs/incidents.md)");
  cmd->add_flag("--list", o.list, "List the built-in scenarios");
  cmd->add_flag("--json", o.json, "Print as JSON (the REST API's shapes)");
  cmd->add_flag("--no-color", o.no_color, "No colours");
  return cmd;
}

int run_incident(const IncidentOptions& o) {
  const char* cmd = "trafficsim incident";
  Style st = Style::for_fd(fileno(stdout), !o.no_color);
  int given = (o.list ? 1 : 0) + (o.id.empty() ? 0 : 1) + (o.file.empty() ? 0 : 1);
  if (given != 1) {
    fmt::print(stderr, "{}: give one of --list, an ID or --file FILE\n", cmd);
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
    size_t id_w = 2, name_w = 4;
    for (const auto& sc : all) {
      id_w = std::max(id_w, sc.id.size());
      name_w = std::max(name_w, sc.name.size());
    }
    fmt::print("{}\n", st.bold(fmt::format("{:<{}}  {:<{}}  {:<12}  {:<8}  {}", "id", id_w, "name",
                                           name_w, "difficulty", "severity", "tags")));
    for (const auto& sc : all) {
      std::string sev(incidents::to_string(sc.severity));
      // Colour after padding: escape codes have no width.
      fmt::print("{:<{}}  {:<{}}  {:<12}  {}{}  {}\n", sc.id, id_w, sc.name, name_w,
                 incidents::to_string(sc.difficulty), coloured_severity(st, sc.severity),
                 std::string(sev.size() < 8 ? 8 - sev.size() : 0, ' '), joined(sc.tags));
    }
    fmt::print("\n{}\n", st.dim("trafficsim incident ID shows one; the dashboard and "
                                "GET /api/v1/simulator/scenarios list them too"));
    return kExitOk;
  }
  std::optional<incidents::IncidentScenario> loaded;
  const incidents::IncidentScenario* sc = nullptr;
  if (!o.file.empty()) {
    try {
      loaded = incidents::load_incident_scenario_file(o.file);
    } catch (const incidents::IncidentError& e) {
      fmt::print(stderr, "{}: {}\n", cmd, e.what());
      return kExitUsage;
    }
    sc = &*loaded;
  } else {
    sc = incidents::find_incident_scenario(o.id);
    if (!sc) {
      std::vector<std::string> ids;
      for (const auto& s : all) ids.push_back(s.id);
      fmt::print(stderr, "{}: no scenario '{}' (expected one of {})\n", cmd, o.id, joined(ids));
      return kExitUsage;
    }
  }
  if (o.json) {
    fmt::print("{}\n", json::serialize(incidents::scenario_details_json(*sc)));
    return kExitOk;
  }
  print_details(*sc, st);
  return kExitOk;
}

}  // namespace trafficsim::cli
