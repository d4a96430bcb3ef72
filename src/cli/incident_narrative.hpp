#pragma once
// `trafficsim incident ID --narrative`: seed 004's storytelling demos (demo_memory_leak.py,
// demo_cpu_spike.py, demo_latency_spike.py) for presentations, and the same for the other two
// scenarios. Four acts — the calm (the service and its baseline), something is wrong (the
// metrics bend, the incident opens: the simulation runs here), the diagnosis (the analysis, its
// hypotheses and why), the fix (actions, risk, blast radius) — each told with the scenario's own
// numbers and context. A custom scenario gets a story built from its own fields.
#include <string>

#include "cli/incident_run.hpp"
#include "cli/terminal.hpp"
#include "incidents/incident_scenario.hpp"

namespace trafficsim::cli {

// The words of a story; the numbers in them are the scenario's (a built-in id whose file lacks a
// metric the story quotes falls back to the generic story).
struct IncidentStory {
  std::string title;
  std::string calm;       // act 1
  std::string wrong;      // act 2, before the run
  std::string diagnosis;  // act 3, before the hypotheses
  std::string fix;        // act 4, before the actions
  std::string moral;      // the closing line
};

IncidentStory incident_story(const incidents::IncidentScenario& scenario);

// Tells the story and runs the scenario inside act 2. `pause`: "Press Enter to continue" between
// acts (read from stdin). Returns the exit code (0, 1 a failed or impossible run).
int tell_incident_story(const incidents::IncidentScenario& scenario,
                        const IncidentRunOptions& options, const Style& style, bool pause);

}  // namespace trafficsim::cli
