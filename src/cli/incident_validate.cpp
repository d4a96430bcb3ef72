#include "cli/incident_validate.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/incident_printing.hpp"
#include "cli/terminal.hpp"
#include "incidents/builtin.hpp"
#include "incidents/validation.hpp"

namespace trafficsim::cli {

namespace {

constexpr const char* kCmd = "trafficsim incident validate";

std::string percent(double share) {
  return fmt::format("{:.0f} %", share * 100);
}

// A rate against its bar: green when met, red when not (the plain text pads the column).
std::string rate_cell(const Style& st, double share, double bar, size_t width) {
  std::string text = percent(share);
  std::string pad(text.size() < width ? width - text.size() : 0, ' ');
  return pad + (share >= bar ? st.green(text) : st.red(st.bold(text)));
}

}  // namespace

void add_incident_validate_command(CLI::App& incident, IncidentValidateOptions& o) {
  auto* v = incident.add_subcommand(
      "validate",
      "How often the analyzer is right: every scenario as written, then N randomized variants "
      "(other magnitudes, noise, timing, distractor metrics), then no-fault controls that must "
      "open no incident.\nBars: top-1 on every scenario as written, >= 90 % top-1 over each "
      "one's variants, no false incident.\nExit codes: 0 the bars are met, 1 below them, 2 bad "
      "flags or a bad --file.");
  v->add_option("--variants", o.variants, "Variants per scenario")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  v->add_option("--seed", o.seed, "Seed of the variants and controls")->capture_default_str();
  v->add_option("--file", o.files, "Custom scenario files instead of the built-ins (repeatable)");
  v->add_flag("--json", o.json, "Print the report as JSON");
  v->add_flag("--no-color", o.no_color, "No colours");
  v->parse_complete_callback([&o] { o.requested = true; });
}

int run_incident_validate(const IncidentValidateOptions& o) {
  Style st = Style::for_fd(fileno(stdout), !o.no_color);
  std::vector<incidents::IncidentScenario> scenarios;
  if (o.files.empty()) {
    scenarios = incidents::builtin_incident_scenarios();
  } else {
    for (const auto& f : o.files) {
      try {
        scenarios.push_back(incidents::load_incident_scenario_file(f));
      } catch (const incidents::IncidentError& e) {
        fmt::print(stderr, "{}: {}\n", kCmd, e.what());
        return kExitUsage;
      }
    }
  }
  if (!o.json)
    fmt::print("{}\n", st.dim(fmt::format("validating the analyzer on {} scenarios, {} variants "
                                          "each, seed {} …",
                                          scenarios.size(), o.variants, o.seed)));
  std::fflush(stdout);
  const auto report = incidents::validate_analyzer(scenarios, o.variants, o.seed);
  if (o.json) {
    fmt::print("{}\n", boost::json::serialize(report.to_json()));
    return report.passed() ? kExitOk : kExitRunFailed;
  }
  const double bar1 = incidents::ValidationReport::kVariantTop1Bar;
  size_t id_w = 8, cause_w = 8;
  for (const auto& s : report.scenarios) {
    id_w = std::max(id_w, s.scenario_id.size());
    cause_w = std::max(cause_w, s.expected_root_cause.size());
  }
  fmt::print("\n{}\n",
             st.bold(fmt::format("{:<{}}  {:<{}}  {:<10}  {:>7}  {:>7}  {:>7}  {:>7}  {:>8}",
                                 "scenario", id_w, "expected", cause_w, "as written", "top-1",
                                 "top-3", "actions", "controls", "false")));
  int v = 0, t1 = 0, t3 = 0, act = 0, c = 0, cf = 0, b = 0;
  for (const auto& s : report.scenarios) {
    std::string written = s.builtin_top1 ? "✓" : "✗ " + s.builtin_top;
    std::string written_col = s.builtin_top1 ? st.green(written) : st.red(st.bold(written));
    std::string false_text = std::to_string(s.controls_false);
    fmt::print("{}  {:<{}}  {}  {}  {}  {}  {:>8}  {}\n",
               padded(s.scenario_id, id_w, st.bold(s.scenario_id)), s.expected_root_cause, cause_w,
               padded(s.builtin_top1 ? "x" : "x " + s.builtin_top, 10, written_col),
               rate_cell(st, s.top1_rate(), bar1, 7), rate_cell(st, s.top3_rate(), 0, 7),
               rate_cell(st, s.actions_rate(), 0, 7), s.controls,
               std::string(false_text.size() < 8 ? 8 - false_text.size() : 0, ' ') +
                   (s.controls_false ? st.red(st.bold(false_text)) : st.green(false_text)));
    v += s.variants, t1 += s.variants_top1, t3 += s.variants_top3, act += s.variants_actions;
    c += s.controls, cf += s.controls_false, b += s.builtin_top1;
  }
  auto rate = [](int a, int n) { return n ? double(a) / n : 1.0; };
  fmt::print(
      "\n{} {}/{} as written top-1; variants {} top-1, {} top-3, {} with every expected "
      "action ({} variants); {} false incidents in {} controls; {:.1f} s\n",
      st.bold("totals:"), b, report.scenarios.size(), percent(rate(t1, v)), percent(rate(t3, v)),
      percent(rate(act, v)), v, cf, c, report.seconds);
  fmt::print(
      "{} top-1 on every scenario as written, >= {} top-1 over each one's variants, no "
      "false incident on any control\n",
      st.bold("bars:  "), percent(bar1));
  bool any_miss = false;
  for (const auto& s : report.scenarios)
    for (const auto& m : s.misses) {
      if (!any_miss) fmt::print("\n{}\n", st.bold("misses (at most 10 per scenario)"));
      any_miss = true;
      fmt::print("  {} {}\n", st.dim(s.scenario_id + ":"), m);
    }
  fmt::print("\n{}\n", report.passed() ? st.green(st.bold("PASSED: the analyzer meets the bars"))
                                       : st.red(st.bold("FAILED: below the bars")));
  return report.passed() ? kExitOk : kExitRunFailed;
}

}  // namespace trafficsim::cli
