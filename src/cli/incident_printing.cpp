#include "cli/incident_printing.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "incidents/metric_pattern.hpp"

namespace trafficsim::cli {

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string coloured_severity(const Style& st, incidents::Severity s) {
  std::string text(incidents::to_string(s));
  switch (s) {
    case incidents::Severity::critical:
      return st.red(st.bold(text));
    case incidents::Severity::high:
      return st.red(text);
    case incidents::Severity::medium:
      return st.yellow(text);
    default:
      return st.green(text);
  }
}

std::string coloured_risk(const Style& st, std::string_view risk) {
  if (risk == "low") return st.green(risk);
  if (risk == "medium") return st.yellow(risk);
  if (risk == "high") return st.red(st.bold(risk));
  return std::string(risk);
}

std::string short_number(double v) {
  if (std::abs(v) >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (std::abs(v) >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (std::abs(v) >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:g}", v);
}

std::string padded(std::string_view plain, size_t width, const std::string& coloured) {
  return coloured + std::string(plain.size() < width ? width - plain.size() : 0, ' ');
}

void print_scenario_details(const incidents::IncidentScenario& sc, const Style& st) {
  fmt::print("{}  {}\n", st.bold(sc.name), st.dim(sc.id));
  fmt::print("  {}\n", sc.description);
  fmt::print("  service {}  severity {}  difficulty {}  duration {:g} s  tags {}\n\n",
             st.bold(sc.service), coloured_severity(st, sc.severity),
             incidents::to_string(sc.difficulty), sc.duration_seconds, joined(sc.tags));
  fmt::print("  {} {:>10} {:>10} {:>10} {:>7}  {:<9} {}\n", padded("metric", 24, st.bold("metric")),
             "baseline", "value", "σ", "dev", "pattern", "unit");
  for (const auto& m : sc.metrics)
    fmt::print("  {:<24} {:>10} {:>10} {:>10} {:>6.1f}σ  {:<9} {}\n", m.name,
               short_number(m.baseline), short_number(m.value), short_number(m.sigma),
               incidents::deviation_sigma(m.value, m.baseline, m.sigma),
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

namespace {

// A ten-cell bar for a share in [0, 1].
std::string bar(double share) {
  int cells = static_cast<int>(std::lround(std::clamp(share, 0.0, 1.0) * 10));
  std::string out;
  for (int i = 0; i < 10; ++i) out += i < cells ? "█" : "░";
  return out;
}

}  // namespace

void print_hypotheses(const std::vector<incidents::Hypothesis>& hypotheses, const Style& st,
                      bool with_evidence) {
  if (hypotheses.empty()) {
    fmt::print("  {}\n", st.dim("no hypotheses (nothing deviated, or the analysis was skipped)"));
    return;
  }
  size_t cat_w = 8;
  for (const auto& h : hypotheses) cat_w = std::max(cat_w, h.category.size());
  fmt::print("  {}\n", st.bold(fmt::format("{:>2}  {:<{}}  {:<16}  {}", "#", "category", cat_w,
                                           "confidence", "description")));
  int rank = 0;
  for (const auto& h : hypotheses) {
    ++rank;
    std::string pct = fmt::format("{:>3.0f} %", h.confidence * 100);
    std::string cat = rank == 1 ? st.bold(st.cyan(h.category)) : st.cyan(h.category);
    std::string conf = fmt::format("{} {}", bar(h.confidence), pct);
    std::string conf_col = h.confidence >= 0.5   ? st.green(conf)
                           : h.confidence >= 0.2 ? st.yellow(conf)
                                                 : st.dim(conf);
    fmt::print("  {:>2}  {}  {}  {}\n", rank, padded(h.category, cat_w, cat), conf_col,
               h.description);
    if (with_evidence)
      for (const auto& e : h.evidence)
        fmt::print("  {:>2}  {}  {}\n", "", std::string(cat_w + 18, ' '), st.dim("· " + e));
  }
}

void print_actions(const std::vector<incidents::Action>& actions, const Style& st) {
  if (actions.empty()) {
    fmt::print("  {}\n", st.dim("no actions proposed"));
    return;
  }
  size_t type_w = 4;
  for (const auto& a : actions) type_w = std::max(type_w, a.type.size());
  fmt::print("  {}\n", st.bold(fmt::format("{:>2}  {:<{}}  {:<6}  {}", "#", "type", type_w, "risk",
                                           "blast radius")));
  int rank = 0;
  for (const auto& a : actions) {
    ++rank;
    fmt::print("  {:>2}  {}  {}  {}\n", rank, padded(a.type, type_w, st.bold(a.type)),
               padded(a.risk, 6, coloured_risk(st, a.risk)), a.blast_radius);
    std::string indent(type_w + 16, ' ');  // under the blast radius
    int step = 0;
    for (const auto& s : a.steps) fmt::print("{}{}. {}\n", indent, ++step, s);
    if (!a.runbook.empty()) fmt::print("{}{} {}\n", indent, st.dim("runbook:"), a.runbook);
  }
}

}  // namespace trafficsim::cli
