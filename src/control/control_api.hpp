#pragma once
// The control plane's HTTP face (docs/control-api.md): the dashboard at / and /assets/*, the
// REST routes under /traffic/*, the SSE stream, /admin/traffic-stats — each behind the request
// guard. `trafficsim demo` mounts it in front of the demo target (TargetOptions::front_handler:
// what it does not claim goes to the target, unmeasured either way); `trafficsim serve` runs it
// on a server of its own.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "control/incident_api.hpp"
#include "control/job_manager.hpp"
#include "control/request_guard.hpp"
#include "control/telemetry_api.hpp"
#include "http/server.hpp"

namespace trafficsim::control {

// The built-in target's figures for the dashboard's target panel, from its own metrics
// exposition: LLM latency p95, error rate, tokens per request.
boost::json::object target_panel_json(const std::string& exposition);

class ControlApi {
 public:
  // `exposition`, when given, returns the built-in target's /metrics text (the target panel).
  ControlApi(JobManager& manager, RequestGuard guard,
             std::function<std::string()> exposition = {});
  // Answers the request when it is a control or dashboard route and returns true; otherwise
  // returns false without touching the reply (the demo target's route), unless `claim_all`, in
  // which case every other path is answered 404.
  bool handle(const std::shared_ptr<const http::ServerRequest>& request, const http::Reply& reply,
              bool claim_all = false);
  static bool is_control_path(std::string_view path);
  // GET /api/v1/monitors answers what `fn` returns (the monitors' states, values, events); set
  // before the API serves. Without it the route answers 404 (monitors are off).
  void set_monitors(std::function<boost::json::object()> fn) { monitors_ = std::move(fn); }
  // The incident routes (/api/v1/incidents*, /api/v1/alerts/webhook); without, they answer 404.
  void set_incidents(IncidentApi* incidents) { incidents_ = incidents; }
  // The Traces, Logs and Metrics pages' routes (/api/v1/traces*, /api/v1/logs,
  // /api/v1/telemetry/metrics); without, they answer 404.
  void set_telemetry(TelemetryApi* telemetry) { telemetry_ = telemetry; }

 private:
  void route(const http::ServerRequest& request, const http::Reply& reply);
  JobManager& manager_;
  RequestGuard guard_;
  std::function<std::string()> exposition_;
  std::function<boost::json::object()> monitors_;
  IncidentApi* incidents_ = nullptr;
  TelemetryApi* telemetry_ = nullptr;
};

}  // namespace trafficsim::control
