#pragma once
// What `demo` and `serve` add to their incident API: the simulation runner (with metric
// injection into the in-process target's registry, when there is one), the live analyzer that
// explains monitor and Alertmanager incidents from the target's traces, pools and faults, the
// optional LLM analysis of simulations and quick incidents (LLM_BASE_URL, falling back to the
// rules), and the optional PagerDuty notifications (--notify-pagerduty, PAGERDUTY_ROUTING_KEY).
#include <memory>
#include <string>

#include "control/incident_api.hpp"
#include "incidents/pagerduty.hpp"
#include "incidents/simulation.hpp"
#include "jobs/monitor_runner.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::cli {

struct IncidentWiring {
  std::unique_ptr<incidents::PagerDutyNotifier> pagerduty;  // before simulations: outlives them
  std::unique_ptr<incidents::SimulationRunner> simulations;
  std::string llm_model;  // "" when the rules analyze alone
};

struct IncidentWiringOptions {
  telemetry::Registry* registry = nullptr;  // the in-process target's (demo); nullptr for serve
  std::string dashboard_url;
  std::string target_url, admin_key;  // what the live analyzer reads
  const jobs::MonitorRunner* monitors = nullptr;  // runbooks and windows (may be null)
  double time_scale = 1;
  std::string pagerduty_url;  // --notify-pagerduty
};

// Throws std::invalid_argument naming the flag or variable at fault (a bad LLM_* or PagerDuty
// setting): the command exits 2 with it.
IncidentWiring wire_incidents(control::IncidentApi& api, incidents::IncidentStore& store,
                              const IncidentWiringOptions& options);

}  // namespace trafficsim::cli
