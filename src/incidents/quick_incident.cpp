#include "incidents/quick_incident.hpp"

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace trafficsim::incidents {

namespace json = boost::json;
using http::ApiError;

namespace {

struct Bad {
  ApiError error;
};

[[noreturn]] void fail(std::string field, std::string message) {
  throw Bad{ApiError{400, "invalid_field", std::move(field), std::move(message)}};
}

void only_keys(const json::object& o, const std::string& at, std::set<std::string_view> keys) {
  for (const auto& kv : o)
    if (!keys.count(kv.key())) {
      std::string field = at.empty() ? std::string(kv.key()) : at + "." + std::string(kv.key());
      throw Bad{ApiError{400, "unknown_field", field, fmt::format("unknown field '{}'", field)}};
    }
}

std::string text(const json::object& o, const std::string& at, std::string_view key, bool required,
                 size_t max = 500) {
  const std::string field = at.empty() ? std::string(key) : at + "." + std::string(key);
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) fail(field, field + " is required");
    return {};
  }
  if (!v->is_string()) fail(field, field + " must be a string");
  std::string s(v->as_string());
  if (required && s.empty()) fail(field, field + " must not be empty");
  if (s.size() > max) fail(field, fmt::format("{} is longer than {} characters", field, max));
  return s;
}

std::optional<double> number(const json::object& o, const std::string& at, std::string_view key,
                             bool required) {
  const std::string field = at + "." + std::string(key);
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) fail(field, field + " is required");
    return std::nullopt;
  }
  if (!v->is_number()) fail(field, field + " must be a number");
  double d = v->to_number<double>();
  if (!std::isfinite(d)) fail(field, field + " must be finite");
  return d;
}

std::vector<std::string> strings(const json::object& o, const std::string& at, std::string_view key) {
  const std::string field = at + "." + std::string(key);
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) fail(field, field + " must be an array of strings");
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const auto& e = v->as_array()[i];
    if (!e.is_string()) fail(fmt::format("{}[{}]", field, i), "must be a string");
    out.emplace_back(e.as_string());
    if (out.size() > 50) fail(field, field + " has more than 50 entries");
  }
  return out;
}

}  // namespace

std::variant<QuickIncident, ApiError> parse_quick_incident(std::string_view body) {
  if (body.size() > kMaxQuickIncidentBytes)
    return ApiError{413, "too_large", "body",
                    fmt::format("the body is over {} bytes", kMaxQuickIncidentBytes)};
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec) return ApiError{400, "invalid_json", "body", "the body is not valid JSON: " + ec.message()};
  if (!root.is_object()) return ApiError{400, "invalid_type", "body", "the body must be a JSON object"};
  try {
    const auto& o = root.as_object();
    only_keys(o, "", {"service", "service_name", "title", "severity", "metrics", "context"});
    QuickIncident q;
    q.input.service = o.contains("service_name") && !o.contains("service")
                          ? text(o, "", "service_name", true, 200)
                          : text(o, "", "service", true, 200);
    q.title = text(o, "", "title", true);
    q.input.title = q.title;
    q.severity = text(o, "", "severity", false);
    if (q.severity.empty()) q.severity = "high";
    if (!parse_severity(q.severity)) fail("severity", "severity must be critical, high, medium or low");
    const json::value* metrics = o.if_contains("metrics");
    if (!metrics || !metrics->is_array() || metrics->as_array().empty())
      fail("metrics", "metrics must be a non-empty array of {name, value, baseline, sigma}");
    if (metrics->as_array().size() > kMaxQuickIncidentMetrics)
      fail("metrics", fmt::format("at most {} metrics", kMaxQuickIncidentMetrics));
    for (size_t i = 0; i < metrics->as_array().size(); ++i) {
      const std::string at = fmt::format("metrics[{}]", i);
      const auto& mv = metrics->as_array()[i];
      if (!mv.is_object()) fail(at, at + " must be an object");
      const auto& m = mv.as_object();
      only_keys(m, at, {"name", "value", "baseline", "sigma", "deviation_sigma", "unit", "description"});
      Observation ob;
      ob.name = text(m, at, "name", true, 200);
      ob.unit = text(m, at, "unit", false, 50);
      ob.value = *number(m, at, "value", true);
      ob.baseline = *number(m, at, "baseline", true);
      auto sigma = number(m, at, "sigma", false);
      auto dev = number(m, at, "deviation_sigma", false);
      if (sigma && dev) fail(at + ".sigma", "give either sigma or deviation_sigma, not both");
      if (sigma) {
        if (!(*sigma > 0)) fail(at + ".sigma", "sigma must be greater than 0");
        ob.sigma = *sigma;
      } else if (dev) {
        if (!(*dev > 0)) fail(at + ".deviation_sigma", "deviation_sigma must be greater than 0");
        ob.sigma = std::abs(ob.value - ob.baseline) / *dev;
        if (!(ob.sigma > 0)) fail(at + ".deviation_sigma", "value equals baseline: no deviation to scale");
      }
      ob.shape = ob.value < ob.baseline ? Shape::drop : Shape::spike;
      q.input.metrics.push_back(std::move(ob));
    }
    if (const json::value* c = o.if_contains("context"); c && !c->is_null()) {
      if (!c->is_object()) fail("context", "context must be an object");
      const auto& co = c->as_object();
      only_keys(co, "context", {"recent_deployments", "dependencies", "notes"});
      q.input.context.dependencies = strings(co, "context", "dependencies");
      q.input.context.notes = strings(co, "context", "notes");
      if (const json::value* d = co.if_contains("recent_deployments"); d && !d->is_null()) {
        if (!d->is_array()) fail("context.recent_deployments", "must be an array");
        for (size_t i = 0; i < d->as_array().size(); ++i) {
          const std::string at = fmt::format("context.recent_deployments[{}]", i);
          const auto& dv = d->as_array()[i];
          if (!dv.is_object()) fail(at, at + " must be an object");
          const auto& dobj = dv.as_object();
          only_keys(dobj, at, {"service", "version", "minutes_ago", "change"});
          Deployment dep;
          dep.service = text(dobj, at, "service", false, 200);
          dep.version = text(dobj, at, "version", false, 100);
          dep.minutes_ago = number(dobj, at, "minutes_ago", false).value_or(0);
          if (dep.minutes_ago < 0) fail(at + ".minutes_ago", "must not be negative");
          dep.change = text(dobj, at, "change", false);
          q.input.context.recent_deployments.push_back(std::move(dep));
        }
      }
    }
    return q;
  } catch (const Bad& b) {
    return b.error;
  }
}

}  // namespace trafficsim::incidents
