#include "scenarios/run_report.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace trafficsim::scenarios {

namespace json = boost::json;

namespace {

const json::object* find_stream(const json::object& report, const std::string& name) {
  auto it = report.find("streams");
  if (it == report.end() || !it->value().is_array()) return nullptr;
  for (const auto& s : it->value().as_array()) {
    if (!s.is_object()) continue;
    const auto& o = s.as_object();
    if (auto n = o.find("name"); n != o.end() && n->value().is_string() &&
                                 n->value().as_string() == name)
      return &o;
  }
  return nullptr;
}

uint64_t count(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  const auto& v = it->value();
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64()) return static_cast<uint64_t>(std::max<int64_t>(0, v.as_int64()));
  if (v.is_double()) return static_cast<uint64_t>(std::max(0.0, v.as_double()));
  return 0;
}

uint64_t errors_of(const json::object& o) {
  return count(o, "unexpected_failures");
}

}  // namespace

std::string percent_text(double ratio) {
  return fmt::format("{:.1f}%", ratio * 100.0);
}

std::vector<ThresholdResult> evaluate_thresholds(const Scenario& scenario,
                                                 const json::object& report) {
  std::vector<ThresholdResult> out;
  for (const auto& spec : scenario.streams) {
    const json::object* stats = find_stream(report, spec.name);
    for (const auto& t : spec.thresholds) {
      if (stats) {
        out.push_back(evaluate_threshold(t, *stats, spec.name));
      } else {
        ThresholdResult r;
        r.threshold = t;
        r.stream = spec.name;
        r.actual_text = "stream did not run";
        out.push_back(r);
      }
    }
  }
  for (const auto& t : scenario.thresholds) out.push_back(evaluate_threshold(t, report, ""));
  return out;
}

std::vector<ThresholdResult> reevaluate_thresholds(const json::object& carrier,
                                                   const json::object& report) {
  std::vector<ThresholdResult> out;
  auto th = carrier.find("thresholds");
  if (th == carrier.end() || !th->value().is_object()) return out;
  auto results = th->value().as_object().find("results");
  if (results == th->value().as_object().end() || !results->value().is_array())
    throw std::runtime_error("thresholds.results must be an array");
  for (const auto& v : results->value().as_array()) {
    const json::object* o = v.if_object();
    const json::value* stream = o ? o->if_contains("stream") : nullptr;
    const json::value* cond = o ? o->if_contains("condition") : nullptr;
    if (!stream || !stream->is_string() || !cond || !cond->is_string())
      throw std::runtime_error(
          "thresholds.results[]: each result needs a string 'stream' and 'condition'");
    Threshold t;
    try {
      t = parse_threshold(cond->as_string());
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("thresholds.results[].condition: {}", e.what()));
    }
    std::string name(stream->as_string());
    if (name.empty()) {
      out.push_back(evaluate_threshold(t, report, ""));
    } else if (const json::object* stats = find_stream(report, name)) {
      out.push_back(evaluate_threshold(t, *stats, name));
    } else {
      ThresholdResult r;
      r.threshold = t;
      r.stream = name;
      r.actual_text = "stream did not run";
      out.push_back(r);
    }
  }
  return out;
}

json::object thresholds_to_json(const std::vector<ThresholdResult>& thresholds) {
  json::array th;
  bool all = true;
  for (const auto& r : thresholds) {
    all = all && r.passed;
    th.push_back(json::object{{"stream", r.stream},
                              {"condition", r.threshold.text},
                              {"actual", r.actual},
                              {"actual_text", r.actual_text},
                              {"passed", r.passed}});
  }
  return json::object{{"passed", all}, {"results", std::move(th)}};
}

json::object traffic_stats(const load::Plan& plan, const Scenario& scenario,
                           const json::object& report, const DemoClockSpec* clock,
                           double end_unix) {
  json::object out;
  double elapsed = 0;
  if (auto it = report.find("duration_s"); it != report.end() && it->value().is_number())
    elapsed = it->value().to_number<double>();
  for (size_t i = 0; i < plan.streams.size() && i < scenario.streams.size(); ++i) {
    const auto& st = plan.streams[i];
    const auto& spec = scenario.streams[i];
    const json::object* stats = find_stream(report, st.name);
    uint64_t requests = stats ? count(*stats, "requests") : 0;
    uint64_t errors = stats ? errors_of(*stats) : 0;
    uint64_t completed = requests;  // every request ends in a response or an error
    double ratio = completed ? static_cast<double>(errors) / static_cast<double>(completed) : 0;
    json::object s;
    double rpm_now = st.profile.rate_at(std::max(0.0, std::min(elapsed, st.profile.duration_s()) -
                                                          1e-9)) * 60.0;
    if (spec.rate.kind == RateSpec::Kind::demo_minutes && clock) {
      s["current_rpm"] = std::round(rpm_now);
      s["demo_minute"] = std::floor(demo_minute(*clock, end_unix) * 10.0) / 10.0;
    } else {
      s["rpm"] = std::round(rpm_now * 10.0) / 10.0;
    }
    s["requests"] = requests;
    s["errors"] = errors;
    s["error_rate"] = percent_text(ratio);
    s["error_ratio"] = ratio;
    out[st.name] = std::move(s);
  }
  return out;
}

void annotate_report(json::object& report, const Scenario& scenario,
                     const std::map<std::string, std::string>& params,
                     const std::vector<ThresholdResult>& thresholds, const DemoClockSpec* clock,
                     const json::object* stats) {
  json::object sc;
  sc["name"] = scenario.name;
  sc["source"] = scenario.source.path;
  sc["builtin"] = scenario.source.builtin;
  if (!scenario.description.empty()) sc["description"] = scenario.description;
  json::object vars;
  for (const auto& [k, v] : params) vars[k] = v;
  sc["variables"] = std::move(vars);
  if (clock)
    sc["demo_clock"] = json::object{{"start_timestamp", clock->start_unix},
                                    {"time_scale", clock->time_scale},
                                    {"duration_minutes", clock->duration_minutes}};
  report["scenario"] = std::move(sc);
  report["thresholds"] = thresholds_to_json(thresholds);
  if (stats) report["traffic_stats"] = *stats;
}

}  // namespace trafficsim::scenarios
