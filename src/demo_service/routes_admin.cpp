// Health, /metrics, recent traces and the fault administration API (/admin/faults).
#include <cmath>

#include <boost/json/parse.hpp>

#include "demo_service/service_impl.hpp"

#ifndef TRAFFICSIM_VERSION
#define TRAFFICSIM_VERSION "dev"
#endif

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

void TargetService::Impl::add_admin_routes() {
  router.add("GET", "/health", bind(&Impl::health));
  router.add("GET", "/health/live", Handler([this](const ExchangePtr& ex) {
               respond(ex, ServerResponse{200, "application/json", "{\"status\":\"alive\"}"});
             }));
  router.add("GET", "/health/ready", Handler([this](const ExchangePtr& ex) {
               bool ready = catalog != nullptr;
               respond(ex, json_response(ready ? 200 : 503,
                                         json::object{{"status", ready ? "ready" : "starting"},
                                                      {"catalog_rows", catalog_info.rows}}));
             }));
  router.add("GET", "/metrics", Handler([this](const ExchangePtr& ex) {
               respond(ex, ServerResponse{200, std::string(telemetry::kPrometheusContentType),
                                          registry.expose()});
             }));
  router.add("GET", "/debug/traces", bind(&Impl::debug_traces));
  router.add("GET", "/admin/faults", bind(&Impl::faults_list));
  router.add("POST", "/admin/faults", bind(&Impl::faults_put));
  router.add("DELETE", "/admin/faults", bind(&Impl::faults_clear));
  router.add("POST", "/admin/faults/reset", bind(&Impl::faults_clear));
  router.add("DELETE", "/admin/faults/{name}", bind(&Impl::faults_delete));
  router.add("GET", "/admin/demo", bind(&Impl::demo_get));
  router.add("POST", "/admin/demo", bind(&Impl::demo_start));
  router.add("DELETE", "/admin/demo", bind(&Impl::demo_stop));
}

void TargetService::Impl::health(const ExchangePtr& ex) {
  double uptime = std::chrono::duration<double>(Clock::now() - started_at).count();
  respond(ex, json_response(
                  200, json::object{{"status", "healthy"},
                                    {"service", "trafficsim-target"},
                                    {"version", TRAFFICSIM_VERSION},
                                    {"uptime_seconds", std::round(uptime * 10) / 10},
                                    {"demo", clock.to_json()},
                                    {"catalog", json::object{{"rows", catalog_info.rows},
                                                             {"path", catalog_info.path.string()}}},
                                    {"faults_active", faults.list().size()}}));
}

void TargetService::Impl::debug_traces(const ExchangePtr& ex) {
  auto limit = int_param(ex->request->query(), "limit", 50, 1, 5000);
  if (auto* e = std::get_if<ApiError>(&limit)) return respond(ex, error_response(*e));
  json::array items;
  for (const auto& s : spans.recent(static_cast<size_t>(std::get<int64_t>(limit))))
    items.push_back(telemetry::span_to_otlp_json(s));
  respond(ex, json_response(
                  200, json::object{{"spans", std::move(items)}, {"total", spans.total_added()}}));
}

void TargetService::Impl::faults_list(const ExchangePtr& ex) {
  json::array items;
  double t = now();
  for (const auto& f : faults.list()) items.push_back(fault_to_json(f, t));
  respond(ex, json_response(200, json::object{{"faults", std::move(items)}}));
}

void TargetService::Impl::faults_put(const ExchangePtr& ex) {
  double t = now();
  auto parsed = parse_fault(ex->request->body, t);
  if (auto* e = std::get_if<ApiError>(&parsed)) return respond(ex, error_response(*e));
  Fault fault = std::get<Fault>(parsed);
  auto body = fault_to_json(fault, t);
  auto put = faults.put(std::move(fault));
  if (auto* e = std::get_if<ApiError>(&put)) return respond(ex, error_response(*e));
  bool created = std::get<FaultRegistry::PutOutcome>(put) == FaultRegistry::PutOutcome::created;
  respond(ex, json_response(created ? 201 : 200, body));
}

void TargetService::Impl::faults_delete(const ExchangePtr& ex) {
  if (!faults.remove(ex->id_param))
    return respond(ex, error_response(ApiError{404, "not_found", "name",
                                               "no fault named '" + ex->id_param + "'"}));
  respond(ex, ServerResponse{204, "application/json", ""});
}

void TargetService::Impl::faults_clear(const ExchangePtr& ex) {
  size_t n = faults.list().size();
  faults.clear();
  respond(ex, json_response(200, json::object{{"removed", n}}));
}

void TargetService::Impl::demo_get(const ExchangePtr& ex) {
  respond(ex, json_response(200, clock.to_json()));
}

// POST /admin/demo {time_scale?, start_timestamp?, duration_minutes?}: the Black Friday story
// starts over (minute 0 now, or at start_timestamp). An empty body takes the defaults.
void TargetService::Impl::demo_start(const ExchangePtr& ex) {
  core::DemoClockSpec spec{now(), 1, 30};
  const std::string& body = ex->request->body;
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    json::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec)
      return respond(ex, error_response(ApiError{400, "invalid_json", "",
                                                 "The request body is not valid JSON (" +
                                                     ec.message() + ")."}));
    if (!doc.is_object())
      return respond(ex, error_response(ApiError{400, "invalid_type", "body",
                                                 "The request body must be a JSON object."}));
    for (const auto& [key, value] : doc.as_object()) {
      double* field = key == "time_scale"         ? &spec.time_scale
                      : key == "start_timestamp"  ? &spec.start_unix
                      : key == "duration_minutes" ? &spec.duration_minutes
                                                  : nullptr;
      std::string name(key);
      if (!field)
        return respond(ex, error_response(ApiError{
                               400, "invalid_field", name,
                               "The field \"" + name +
                                   "\" is not part of the demo clock (time_scale, "
                                   "start_timestamp, duration_minutes)."}));
      if (!value.is_number())
        return respond(ex, error_response(ApiError{400, "invalid_type", name,
                                                   "The field \"" + name + "\" must be a number."}));
      *field = value.to_number<double>();
    }
  }
  try {
    clock.start(spec);
  } catch (const std::invalid_argument& e) {
    std::string message = e.what();
    return respond(ex, error_response(ApiError{400, "invalid_value",
                                               message.substr(0, message.find(' ')), message}));
  }
  respond(ex, json_response(200, clock.to_json()));
}

void TargetService::Impl::demo_stop(const ExchangePtr& ex) {
  clock.stop();
  respond(ex, json_response(200, clock.to_json()));
}

}  // namespace trafficsim::demo_service
