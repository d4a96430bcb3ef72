// The simulator's REST face (docs/control-api.md, "Simulations"): POST
// /api/v1/simulator/scenarios/{id}/start, GET /api/v1/simulator/simulations[/{id}], POST
// /api/v1/simulator/simulations/{id}/stop, and POST /api/v1/incidents (the quick incident).
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "control/incident_api.hpp"
#include "control/responses.hpp"
#include "incidents/builtin.hpp"
#include "incidents/quick_incident.hpp"

namespace trafficsim::control {

namespace json = boost::json;
using http::ApiError;

namespace {

constexpr std::string_view kScenarios = "/api/v1/simulator/scenarios";
constexpr std::string_view kSimulations = "/api/v1/simulator/simulations";

// {"auto_analyze": bool, "execution_mode": "demo"|"realtime", "seed": n}, all optional.
std::variant<incidents::SimulationRequest, ApiError> start_request(const std::string& body) {
  incidents::SimulationRequest r;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return r;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return ApiError{400, "invalid_json", "body", "the body is not valid JSON: " + ec.message()};
  if (!v.is_object()) return ApiError{400, "invalid_type", "body", "the body must be a JSON object"};
  for (const auto& kv : v.as_object()) {
    const std::string key(kv.key());
    const json::value& x = kv.value();
    if (key == "auto_analyze") {
      if (!x.is_bool()) return ApiError{400, "invalid_type", key, "auto_analyze must be true or false"};
      r.auto_analyze = x.as_bool();
    } else if (key == "execution_mode") {
      auto m = x.is_string() ? incidents::parse_execution_mode(x.as_string()) : std::nullopt;
      if (!m)
        return ApiError{400, "invalid_value", key, "execution_mode must be \"demo\" or \"realtime\""};
      r.mode = *m;
    } else if (key == "seed") {
      if (!x.is_uint64() && !(x.is_int64() && x.as_int64() >= 0))
        return ApiError{400, "invalid_type", key, "seed must be a non-negative integer"};
      r.seed = x.to_number<uint64_t>();
    } else {
      return ApiError{400, "unknown_field", key,
                      fmt::format("unknown field '{}': expected auto_analyze, execution_mode, seed", key)};
    }
  }
  return r;
}

}  // namespace

void IncidentApi::simulations(const http::ServerRequest& req, const http::Reply& reply,
                              const RequestGuard& guard) {
  const std::string_view path = req.path();
  const bool post = req.method == "POST";
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path.starts_with(kScenarios)) {  // .../scenarios/{id}/start
    if (!post) return reply.send(method_not_allowed(req, "POST"));
    if (auto e = guard.check_mutation(req)) return reply.send(error_response(*e));
    std::string_view id = path.substr(kScenarios.size() + 1);
    id.remove_suffix(std::string_view("/start").size());
    const auto* sc = incidents::find_incident_scenario(id);
    if (!sc) return reply.send(not_found(fmt::format("no incident scenario '{}'", id)));
    auto parsed = start_request(req.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) return reply.send(error_response(*e));
    if (!simulations_)
      return reply.send(error_response(
          ApiError{503, "unavailable", "path", "simulations are off on this server"}));
    try {
      simulations_->start_async(*sc, std::get<incidents::SimulationRequest>(parsed), {},
                                [reply](const incidents::SimulationRecord& r) {
                                  reply.send(json_response(200, r.to_json()));
                                });
    } catch (const incidents::SimulationError& e) {
      auto r = error_response(ApiError{e.status, "too_many_simulations", "path", e.what()});
      if (e.status == 429) r.headers.emplace_back("Retry-After", "5");
      return reply.send(std::move(r));
    } catch (const std::exception& e) {
      return reply.send(error_response(ApiError{500, "internal_error", "", e.what()}));
    }
    return;
  }
  if (!simulations_)
    return reply.send(error_response(
        ApiError{503, "unavailable", "path", "simulations are off on this server"}));
  if (path == kSimulations) {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    json::array out;
    for (const auto& r : simulations_->list()) out.emplace_back(r.to_json());
    return reply.send(json_response(200, out));
  }
  std::string_view rest = path.substr(kSimulations.size() + 1);
  std::string_view id = rest.substr(0, rest.find('/'));
  std::string_view action = rest.size() > id.size() ? rest.substr(id.size() + 1) : std::string_view{};
  if (id.empty() || (!action.empty() && action != "stop"))
    return reply.send(not_found(fmt::format("no route for {} {}", req.method, path)));
  if (action.empty()) {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    auto r = simulations_->get(std::string(id));
    if (!r) return reply.send(not_found(fmt::format("no simulation '{}'", id)));
    return reply.send(json_response(200, r->to_json()));
  }
  if (!post) return reply.send(method_not_allowed(req, "POST"));
  if (auto e = guard.check_mutation(req)) return reply.send(error_response(*e));
  auto r = simulations_->stop(std::string(id));
  if (!r) return reply.send(not_found(fmt::format("no simulation '{}'", id)));
  return reply.send(json_response(200, r->to_json()));
}

// POST /api/v1/incidents: the quick incident — opened, analyzed and returned (201).
void IncidentApi::quick_incident(const http::ServerRequest& req, const http::Reply& reply,
                                 const RequestGuard& guard) {
  if (auto e = guard.check_mutation(req)) return reply.send(error_response(*e));
  auto parsed = incidents::parse_quick_incident(req.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return reply.send(error_response(*e));
  const auto& q = std::get<incidents::QuickIncident>(parsed);
  incidents::Analysis a = incidents::analyze(q.input);
  incidents::Incident draft;
  draft.title = q.title;
  draft.severity = q.severity;
  draft.service = q.input.service;
  draft.source = incidents::IncidentSource::simulation;
  if (!dashboard_url_.empty()) draft.dashboard_url = dashboard_url_ + "/#incident={id}";
  draft.labels = {{"origin", "quick_incident"}};
  draft.timeline.push_back({0, "note", fmt::format("Quick incident with {} metrics",
                                                   q.input.metrics.size())});
  try {
    auto inc = store_.open_or_update(draft);
    if (auto s = store_.set_analysis(inc.id, a.hypotheses, a.actions, a.evidence)) inc = *s;
    if (auto s = store_.add_timeline(inc.id, {0, "analysis", a.summary})) inc = *s;
    tell(inc, false);
    return reply.send(json_response(201, incidents::to_json(inc)));
  } catch (const std::exception& e) {
    return reply.send(error_response(ApiError{500, "store_error", "", e.what()}));
  }
}

}  // namespace trafficsim::control
