#include "incidents/scenario_json.hpp"

#include <cmath>

#include <boost/json/array.hpp>

#include "incidents/metric_pattern.hpp"

namespace trafficsim::incidents {

namespace json = boost::json;

namespace {

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::value number(double v) {
  if (!std::isfinite(v)) return nullptr;
  if (v == std::floor(v) && std::abs(v) < 9e15) return static_cast<int64_t>(v);
  return v;
}

}  // namespace

json::object scenario_summary_json(const IncidentScenario& s) {
  return json::object{{"id", s.id},
                      {"name", s.name},
                      {"description", s.description},
                      {"service", s.service},
                      {"severity", to_string(s.severity)},
                      {"difficulty", to_string(s.difficulty)},
                      {"tags", strings(s.tags)},
                      {"duration_seconds", number(s.duration_seconds)},
                      {"metric_count", s.metrics.size()}};
}

json::object scenario_details_json(const IncidentScenario& s) {
  json::object o = scenario_summary_json(s);
  json::array metrics;
  for (const auto& m : s.metrics)
    metrics.push_back(json::object{{"name", m.name},
                                   {"description", m.description},
                                   {"unit", m.unit},
                                   {"baseline", number(m.baseline)},
                                   {"value", number(m.value)},
                                   {"sigma", number(m.sigma)},
                                   {"deviation_sigma",
                                    std::round(deviation_sigma(m.value, m.baseline, m.sigma) * 10) / 10},
                                   {"pattern", to_string(m.pattern)},
                                   {"onset", number(m.onset)}});
  o["metrics"] = std::move(metrics);
  json::array deployments;
  for (const auto& d : s.context.recent_deployments)
    deployments.push_back(json::object{{"service", d.service},
                                       {"version", d.version},
                                       {"minutes_ago", number(d.minutes_ago)},
                                       {"change", d.change}});
  o["context"] = json::object{{"recent_deployments", std::move(deployments)},
                              {"dependencies", strings(s.context.dependencies)},
                              {"notes", strings(s.context.notes)}};
  o["expected_outcomes"] = json::object{{"root_cause", s.expected_root_cause},
                                        {"action_types", strings(s.expected_action_types)}};
  return o;
}

}  // namespace trafficsim::incidents
