#include "cli/incident_wiring.hpp"

#include "jobs/live_evidence.hpp"
#include "monitors/monitor_spec.hpp"

namespace trafficsim::cli {

IncidentWiring wire_incidents(control::IncidentApi& api, incidents::IncidentStore& store,
                              telemetry::Registry* registry, const std::string& dashboard_url,
                              const std::string& target_url, const std::string& admin_key,
                              const jobs::MonitorRunner* monitors, double time_scale) {
  IncidentWiring w;
  incidents::SimulationOptions so;
  so.store = &store;
  so.registry = registry;
  so.dashboard_url = dashboard_url;
  w.simulations = std::make_unique<incidents::SimulationRunner>(std::move(so));
  api.set_simulations(w.simulations.get());
  jobs::LiveProbeOptions probe;
  probe.target_url = target_url;
  probe.admin_key = admin_key;
  probe.time_scale = time_scale;
  api.set_live_analyzer(jobs::live_analyzer(
      std::move(probe), monitors ? monitors->specs() : monitors::builtin_monitors()));
  return w;
}

}  // namespace trafficsim::cli
