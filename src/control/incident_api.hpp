#pragma once
// The incidents' REST face (docs/control-api.md, "Incidents"): GET /api/v1/incidents (filters
// status, service, since; a bare JSON array, as in the seed), GET /api/v1/incidents/{id},
// POST /api/v1/incidents/{id}/acknowledge and /resolve, and POST /api/v1/alerts/webhook
// (Alertmanager's v4 notifications: a firing alert opens an incident, or adds to the one its
// fingerprint already opened; a resolved one resolves it), GET /api/v1/simulator/scenarios
// (filters tag, difficulty, severity) and /{id} (seed 004's catalogue). Every route is behind the key rule;
// POSTs need application/json. Also the bridge from monitor transitions to incidents.
#include <optional>
#include <string>

#include "control/request_guard.hpp"
#include "http/server.hpp"
#include "incidents/incident_store.hpp"
#include "monitors/monitor_set.hpp"

namespace trafficsim::control {

class IncidentApi {
 public:
  // `dashboard_url`: the page's base URL, for each incident's dashboard link.
  IncidentApi(incidents::IncidentStore& store, std::string dashboard_url);

  static bool is_incident_path(std::string_view path);
  // Answers a request under /api/v1/incidents or /api/v1/alerts (after the Host check).
  void route(const http::ServerRequest& request, const http::Reply& reply,
             const RequestGuard& guard);

  // A monitor that alerts opens (or adds to) its incident; one back to OK from ALERT resolves
  // it. Returns the incident touched, if any.
  std::optional<incidents::Incident> on_monitor_event(const monitors::MonitorEvent& event);

  incidents::IncidentStore& store() { return store_; }

 private:
  void scenarios(const http::ServerRequest& request, const http::Reply& reply);
  incidents::IncidentStore& store_;
  std::string dashboard_url_;
};

}  // namespace trafficsim::control
