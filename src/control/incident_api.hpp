#pragma once
// The incidents' REST face (docs/control-api.md, "Incidents"): GET /api/v1/incidents (filters
// status, service, since; a bare JSON array, as in the seed), GET /api/v1/incidents/{id},
// POST /api/v1/incidents/{id}/acknowledge and /resolve, and POST /api/v1/alerts/webhook
// (Alertmanager's v4 notifications: a firing alert opens an incident, or adds to the one its
// fingerprint already opened; a resolved one resolves it), GET /api/v1/simulator/scenarios
// (filters tag, difficulty, severity) and /{id} (seed 004's catalogue), POST .../{id}/start,
// GET /api/v1/simulator/simulations[/{id}], POST .../{id}/stop (simulator_api.cpp), and
// POST /api/v1/incidents (the seed's quick incident, analyzed). Every route is behind the key
// rule; POSTs need application/json. Also the bridge from monitor transitions to incidents,
// with the live analysis that explains them.
#include <functional>
#include <optional>
#include <string>

#include "control/request_guard.hpp"
#include "http/server.hpp"
#include "incidents/analyzer.hpp"
#include "incidents/incident_store.hpp"
#include "incidents/simulation.hpp"
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

  // Simulations (POST .../start and the /simulations routes); without a runner they answer 503.
  void set_simulations(incidents::SimulationRunner* runner) { simulations_ = runner; }
  // Explains an incident a monitor (or Alertmanager, as the monitor its alertname names) opened:
  // called once per new incident, on the caller's thread; nullopt leaves it unexplained.
  using LiveAnalyzer =
      std::function<std::optional<incidents::Analysis>(const monitors::MonitorEvent&)>;
  void set_live_analyzer(LiveAnalyzer analyzer) { live_analyzer_ = std::move(analyzer); }
  // Told of every incident opened (resolved = false) or resolved (true): notifications.
  using Notifier = std::function<void(const incidents::Incident&, bool resolved)>;
  void set_notifier(Notifier notifier) { notifier_ = std::move(notifier); }

 private:
  void scenarios(const http::ServerRequest& request, const http::Reply& reply,
                 const RequestGuard& guard);
  void simulations(const http::ServerRequest& request, const http::Reply& reply,
                   const RequestGuard& guard);
  void quick_incident(const http::ServerRequest& request, const http::Reply& reply,
                      const RequestGuard& guard);
  // Runs the live analyzer on a newly opened incident and stores what it concluded.
  incidents::Incident explain(incidents::Incident incident, const monitors::MonitorEvent& event);
  void tell(const incidents::Incident& incident, bool resolved) const;

  incidents::IncidentStore& store_;
  std::string dashboard_url_;
  incidents::SimulationRunner* simulations_ = nullptr;
  LiveAnalyzer live_analyzer_;
  Notifier notifier_;
};

}  // namespace trafficsim::control
