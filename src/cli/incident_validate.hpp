#pragma once
// `trafficsim incident validate`: incidents::validate_analyzer over the built-in scenarios (or
// the given files) as a table per scenario — expected cause, as written top-1, variants top-1 /
// top-3 / actions, controls and false incidents — then the totals against the bars and the
// misses. Exit codes: 0 the bars are met, 1 below them, 2 bad flags or a bad file.
#include <CLI/CLI.hpp>

#include "cli/incident_command.hpp"

namespace trafficsim::cli {

void add_incident_validate_command(CLI::App& incident, IncidentValidateOptions& options);
int run_incident_validate(const IncidentValidateOptions& options);

}  // namespace trafficsim::cli
