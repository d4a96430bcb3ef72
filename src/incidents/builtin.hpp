#pragma once
// The built-in incident scenarios: seed 004's five, as the files under incidents/ in the source
// tree, compiled into the binary (cmake/embed_files.cmake) so that a machine with only the
// binary has them. A copy of one of these files is a custom incident file like any other.
#include <string_view>
#include <utility>
#include <vector>

#include "incidents/incident_scenario.hpp"

namespace trafficsim::incidents {

// Every embedded file as {path relative to incidents/, contents}; generated at build time.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_incident_files();

// The seed's five in the seed's order (memory_leak_gradual, cpu_spike_traffic_surge,
// latency_spike_database, pod_crash_loop, dependency_failure_timeout), then any other file of
// incidents/ by name. Parsed once, on first use; thread-safe. A broken built-in file is a build
// mistake: the first call throws its IncidentError (the tests load every one).
const std::vector<IncidentScenario>& builtin_incident_scenarios();

// The built-in scenario with this id, or nullptr.
const IncidentScenario* find_incident_scenario(std::string_view id);

}  // namespace trafficsim::incidents
