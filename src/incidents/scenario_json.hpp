#pragma once
// Incident scenarios in the seed's API shapes: the list entry of GET /api/v1/simulator/scenarios
// ({id, name, description, service, severity, difficulty, tags, duration_seconds, metric_count})
// and the details of GET /api/v1/simulator/scenarios/{id} (plus metrics with their baseline,
// value, σ and deviation in σ, context, expected outcomes).
#include <boost/json/object.hpp>

#include "incidents/incident_scenario.hpp"

namespace trafficsim::incidents {

boost::json::object scenario_summary_json(const IncidentScenario& s);
boost::json::object scenario_details_json(const IncidentScenario& s);

}  // namespace trafficsim::incidents
