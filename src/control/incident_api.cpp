#include "control/incident_api.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "control/responses.hpp"
#include "http/query_string.hpp"
#include "incidents/alertmanager_webhook.hpp"
#include "incidents/builtin.hpp"
#include "incidents/scenario_json.hpp"

namespace trafficsim::control {

namespace json = boost::json;
using http::ApiError;

namespace {

constexpr std::string_view kIncidents = "/api/v1/incidents";
constexpr std::string_view kWebhook = "/api/v1/alerts/webhook";
constexpr std::string_view kScenarios = "/api/v1/simulator/scenarios";
constexpr std::string_view kSimulations = "/api/v1/simulator/simulations";

std::string severity_of_monitor(const std::string& s) {
  return s == "page" ? "critical" : s == "ticket" ? "medium" : s == "warning" ? "low" : s;
}

std::string label_or(const incidents::LabelMap& m, std::string_view key, std::string fallback) {
  auto it = m.find(key);
  return it != m.end() && !it->second.empty() ? it->second : std::move(fallback);
}

// An optional {"note": "..."} body; 400 naming the field otherwise.
std::variant<std::string, ApiError> note_of(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string{};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return ApiError{400, "invalid_json", "body", "the body is not valid JSON: " + ec.message()};
  if (!v.is_object()) return ApiError{400, "invalid_type", "body", "the body must be a JSON object"};
  for (const auto& kv : v.as_object())
    if (kv.key() != "note")
      return ApiError{400, "unknown_field", std::string(kv.key()),
                      fmt::format("unknown field '{}': expected note", std::string(kv.key()))};
  if (auto* n = v.as_object().if_contains("note")) {
    if (!n->is_string()) return ApiError{400, "invalid_type", "note", "note must be a string"};
    return std::string(n->as_string());
  }
  return std::string{};
}

}  // namespace

IncidentApi::IncidentApi(incidents::IncidentStore& store, std::string dashboard_url)
    : store_(store), dashboard_url_(std::move(dashboard_url)) {
  while (!dashboard_url_.empty() && dashboard_url_.back() == '/') dashboard_url_.pop_back();
}

bool IncidentApi::is_incident_path(std::string_view path) {
  return path == kIncidents || path.starts_with(std::string(kIncidents) + "/") ||
         path.starts_with("/api/v1/alerts") || path == kScenarios ||
         path.starts_with(std::string(kScenarios) + "/") || path == kSimulations ||
         path.starts_with(std::string(kSimulations) + "/");
}

// GET /api/v1/simulator/scenarios[?tag=&difficulty=&severity=] and /{id}: the catalogue.
void IncidentApi::scenarios(const http::ServerRequest& req, const http::Reply& reply,
                            const RequestGuard& guard) {
  const std::string_view path = req.path();
  if (path.ends_with("/start") && path.size() > kScenarios.size() + 7)
    return simulations(req, reply, guard);
  if (req.method != "GET" && req.method != "HEAD") return reply.send(method_not_allowed(req, "GET"));
  if (path == kScenarios) {
    const std::string_view q = req.query();
    auto tag = http::query_param(q, "tag");
    std::optional<incidents::Difficulty> difficulty;
    std::optional<incidents::Severity> severity;
    if (auto d = http::query_param(q, "difficulty"); d && !d->empty()) {
      difficulty = incidents::parse_difficulty(*d);
      if (!difficulty)
        return reply.send(error_response(ApiError{
            400, "invalid_value", "difficulty", "difficulty must be beginner, intermediate or advanced"}));
    }
    if (auto v = http::query_param(q, "severity"); v && !v->empty()) {
      severity = incidents::parse_severity(*v);
      if (!severity)
        return reply.send(error_response(ApiError{
            400, "invalid_value", "severity", "severity must be critical, high, medium or low"}));
    }
    json::array out;
    for (const auto& sc : incidents::builtin_incident_scenarios()) {
      if (tag && !tag->empty() && std::find(sc.tags.begin(), sc.tags.end(), *tag) == sc.tags.end()) continue;
      if (difficulty && sc.difficulty != *difficulty) continue;
      if (severity && sc.severity != *severity) continue;
      out.emplace_back(incidents::scenario_summary_json(sc));
    }
    return reply.send(json_response(200, out));
  }
  std::string_view id = path.substr(kScenarios.size() + 1);
  if (id.find('/') != std::string_view::npos)
    return reply.send(not_found(fmt::format("no route for {} {}", req.method, path)));
  const auto* sc = incidents::find_incident_scenario(id);
  if (!sc) return reply.send(not_found(fmt::format("no incident scenario '{}'", id)));
  return reply.send(json_response(200, incidents::scenario_details_json(*sc)));
}

void IncidentApi::route(const http::ServerRequest& req, const http::Reply& reply,
                        const RequestGuard& guard) {
  const std::string_view path = req.path();
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  if (path == kWebhook) {
    if (!post) return reply.send(method_not_allowed(req, "POST"));
    if (auto e = guard.check_mutation(req)) return reply.send(error_response(*e));
    auto parsed = incidents::parse_alertmanager_webhook(req.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) return reply.send(error_response(*e));
    const auto& n = std::get<incidents::AlertmanagerNotification>(parsed);
    json::array opened, resolved;
    for (const auto& a : n.alerts) {
      const std::string key = "alertmanager:" + a.fingerprint;
      if (a.status == incidents::AlertStatus::resolved) {
        if (auto inc = store_.resolve_by_dedup_key(key, "resolved by Alertmanager")) {
          resolved.emplace_back(inc->id);
          tell(*inc, true);
        }
        continue;
      }
      incidents::Incident draft;
      std::string name = label_or(a.labels, "alertname", "alert");
      draft.title = label_or(a.annotations, "summary", name);
      draft.severity = label_or(a.labels, "severity", "high");
      draft.service = label_or(a.labels, "service", label_or(a.labels, "job", "unknown"));
      draft.source = incidents::IncidentSource::alertmanager;
      draft.dedup_key = key;
      draft.monitor_id = label_or(a.labels, "monitor", "");
      draft.labels = a.labels;
      if (!dashboard_url_.empty()) draft.dashboard_url = dashboard_url_ + "/#incident={id}";
      draft.timeline.push_back(
          {a.starts_at.unix_s.value_or(0), "alert",
           label_or(a.annotations, "description", fmt::format("{} firing (Alertmanager)", name))});
      auto inc = store_.open_or_update(draft);
      const bool fresh = inc.timeline.size() == draft.timeline.size() + 1;  // + "opened"
      if (fresh && live_analyzer_) {
        // A new incident: explain it as the monitor its alert stands for.
        monitors::MonitorEvent e;
        e.monitor_id = draft.monitor_id.empty() ? name : draft.monitor_id;
        e.monitor_name = name;
        e.service = draft.service;
        e.severity = draft.severity;
        e.to = monitors::MonitorState::alert;
        e.t_unix = a.starts_at.unix_s.value_or(0);
        e.reason = label_or(a.annotations, "description", name);
        inc = explain(std::move(inc), e);
      }
      if (fresh) tell(inc, false);
      opened.emplace_back(inc.id);
    }
    return reply.send(json_response(
        200, json::object{{"received", n.alerts.size()}, {"incidents", std::move(opened)},
                          {"resolved", std::move(resolved)}}));
  }
  if (auto e = guard.check_key(req)) return reply.send(error_response(*e));
  if (path.starts_with(kScenarios)) return scenarios(req, reply, guard);
  if (path.starts_with(kSimulations)) return simulations(req, reply, guard);
  if (path == kIncidents) {
    if (post) return quick_incident(req, reply, guard);
    if (!get) return reply.send(method_not_allowed(req, "GET, POST"));
    incidents::IncidentFilter f;
    const std::string_view q = req.query();
    if (auto s = http::query_param(q, "status"); s && !s->empty()) {
      f.status = incidents::parse_incident_status(*s);
      if (!f.status)
        return reply.send(error_response(ApiError{400, "invalid_value", "status",
                                                  "status must be open, acknowledged or resolved"}));
    }
    if (auto s = http::query_param(q, "service"); s && !s->empty()) f.service = *s;
    if (auto s = http::query_param(q, "since"); s && !s->empty()) {
      auto t = incidents::parse_rfc3339_unix_s(*s);
      if (!t) {
        char* end = nullptr;
        double v = std::strtod(s->c_str(), &end);
        if (end && *end == '\0' && v >= 0) t = v;
      }
      if (!t)
        return reply.send(error_response(ApiError{400, "invalid_value", "since",
                                                  "since must be RFC 3339 or Unix seconds"}));
      f.since_unix_s = t;
    }
    json::array out;
    for (const auto& inc : store_.list(f)) out.emplace_back(incidents::to_json(inc));
    return reply.send(json_response(200, out));
  }
  std::string_view rest = path.substr(kIncidents.size() + 1);
  std::string_view id = rest.substr(0, rest.find('/'));
  std::string_view action = rest.size() > id.size() ? rest.substr(id.size() + 1) : std::string_view{};
  if (id.empty() || (!action.empty() && action != "acknowledge" && action != "resolve"))
    return reply.send(not_found(fmt::format("no route for {} {}", req.method, path)));
  if (action.empty()) {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    auto inc = store_.get(id);
    if (!inc) return reply.send(not_found(fmt::format("no incident '{}'", id)));
    return reply.send(json_response(200, incidents::to_json(*inc)));
  }
  if (!post) return reply.send(method_not_allowed(req, "POST"));
  if (auto e = guard.check_mutation(req)) return reply.send(error_response(*e));
  auto note = note_of(req.body);
  if (auto* e = std::get_if<ApiError>(&note)) return reply.send(error_response(*e));
  const std::string& text = std::get<std::string>(note);
  auto inc = action == "acknowledge" ? store_.acknowledge(id, text) : store_.resolve(id, text);
  if (!inc) return reply.send(not_found(fmt::format("no incident '{}'", id)));
  if (action == "resolve") tell(*inc, true);
  return reply.send(json_response(200, incidents::to_json(*inc)));
}

std::optional<incidents::Incident> IncidentApi::on_monitor_event(const monitors::MonitorEvent& e) {
  const std::string key = "monitor:" + e.monitor_id;
  if (e.to == monitors::MonitorState::ok && e.from == monitors::MonitorState::alert) {
    auto inc =
        store_.resolve_by_dedup_key(key, fmt::format("{} recovered: {}", e.monitor_name, e.reason));
    if (inc) tell(*inc, true);
    return inc;
  }
  if (e.to != monitors::MonitorState::alert) return std::nullopt;
  incidents::Incident draft;
  draft.title = e.monitor_name;
  draft.severity = severity_of_monitor(e.severity);
  draft.service = e.service.empty() ? "trafficsim-target" : e.service;
  draft.source = incidents::IncidentSource::monitor;
  draft.dedup_key = key;
  draft.monitor_id = e.monitor_id;
  draft.dashboard_url = dashboard_url_.empty() ? "" : dashboard_url_ + "/#incident={id}";
  draft.timeline.push_back({e.t_unix, "alert", fmt::format("{} alerted: {}", e.monitor_name, e.reason)});
  if (e.value) {
    incidents::MetricEvidence m;
    m.name = e.monitor_id;
    m.value = *e.value;
    m.baseline = e.baseline.value_or(e.threshold);
    m.unit = e.unit;
    draft.evidence.metrics.push_back(m);
  }
  auto inc = store_.open_or_update(draft);
  if (inc.timeline.size() != draft.timeline.size() + 1) return inc;  // a repeat: "repeated"
  inc = explain(std::move(inc), e);
  tell(inc, false);
  return inc;
}

incidents::Incident IncidentApi::explain(incidents::Incident inc, const monitors::MonitorEvent& e) {
  if (!live_analyzer_) return inc;
  try {
    auto a = live_analyzer_(e);
    if (!a) return inc;
    incidents::Evidence ev = a->evidence;
    // Keep what the alert itself said (its value) beside what the analysis found.
    for (const auto& m : inc.evidence.metrics)
      if (std::none_of(ev.metrics.begin(), ev.metrics.end(),
                       [&](const auto& x) { return x.name == m.name; }))
        ev.metrics.insert(ev.metrics.begin(), m);
    if (auto stored = store_.set_analysis(inc.id, a->hypotheses, a->actions, ev)) inc = *stored;
    if (!a->summary.empty())
      if (auto stored = store_.add_timeline(inc.id, {0, "analysis", a->summary})) inc = *stored;
  } catch (const std::exception& ex) {
    store_.add_timeline(inc.id, {0, "note", std::string("analysis failed: ") + ex.what()});
  }
  return inc;
}

void IncidentApi::tell(const incidents::Incident& inc, bool resolved) const {
  if (!notifier_) return;
  try {
    notifier_(inc, resolved);
  } catch (const std::exception&) {
  }
}

}  // namespace trafficsim::control
