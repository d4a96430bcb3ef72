#pragma once
// What `demo` and `serve` add to their incident API: the simulation runner (with metric
// injection into the in-process target's registry, when there is one), the live analyzer that
// explains monitor and Alertmanager incidents from the target's traces, pools and faults.
#include <memory>
#include <string>

#include "control/incident_api.hpp"
#include "incidents/simulation.hpp"
#include "jobs/monitor_runner.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::cli {

struct IncidentWiring {
  std::unique_ptr<incidents::SimulationRunner> simulations;
};

// `registry`: the in-process target's (demo), nullptr for serve; `target_url` and `admin_key`
// for the live analyzer's reads; `monitors` (may be null) for runbooks.
IncidentWiring wire_incidents(control::IncidentApi& api, incidents::IncidentStore& store,
                              telemetry::Registry* registry, const std::string& dashboard_url,
                              const std::string& target_url, const std::string& admin_key,
                              const jobs::MonitorRunner* monitors, double time_scale = 1);

}  // namespace trafficsim::cli
