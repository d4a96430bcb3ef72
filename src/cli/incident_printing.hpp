#pragma once
// What a person reads of an incident scenario and of the incident a run opened: the scenario's
// details (metrics with baseline, value, σ and deviation; context; expected outcome), the
// hypotheses (rank, category, confidence, description, evidence) and the actions (type, risk in
// its colour, blast radius, steps, runbook) as tables. Shared by `incident ID`, `--interactive`
// and `--narrative`.
#include <string>
#include <string_view>
#include <vector>

#include "cli/terminal.hpp"
#include "incidents/incident_scenario.hpp"
#include "incidents/incident_store.hpp"

namespace trafficsim::cli {

std::string joined(const std::vector<std::string>& items, std::string_view sep = ", ");
std::string coloured_severity(const Style& st, incidents::Severity severity);
// low green, medium yellow, high red (bold); anything else as it is.
std::string coloured_risk(const Style& st, std::string_view risk);
// 8.00G, 15.00M, 3.5k, 0.3: short numbers for tables.
std::string short_number(double v);
// Pads `plain` to `width` columns, then colours it (escape codes have no width).
std::string padded(std::string_view plain, size_t width, const std::string& coloured);

void print_scenario_details(const incidents::IncidentScenario& scenario, const Style& st);
// `with_evidence`: each hypothesis' evidence beneath it.
void print_hypotheses(const std::vector<incidents::Hypothesis>& hypotheses, const Style& st,
                      bool with_evidence = true);
void print_actions(const std::vector<incidents::Action>& actions, const Style& st);

}  // namespace trafficsim::cli
