#include "control/stats_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include <boost/json/array.hpp>

namespace trafficsim::control {

namespace json = boost::json;

namespace {

json::value num_json(double v) {
  if (v == std::floor(v) && std::abs(v) < 9e15) return json::value(static_cast<int64_t>(v));
  return json::value(v);
}
json::value ms(double us) { return num_json(std::round(us / 10.0) / 100.0); }  // 2 decimals
json::value round3(double v) { return num_json(std::round(v * 1000.0) / 1000.0); }

// The stream's interval rates and error ratio over this interval and the one before it.
load::StreamSnapshot folded(load::StreamSnapshot s, double seconds, const load::StreamSnapshot& p,
                            double prev_seconds) {
  double total_s = seconds + prev_seconds;
  if (total_s <= 0) return s;
  double done = s.interval_rps * seconds, prev_done = p.interval_rps * prev_seconds;
  double all = done + prev_done;
  double errors = s.interval_error_ratio * done + p.interval_error_ratio * prev_done;
  double expected = s.interval_expected_failure_ratio * done +
                    p.interval_expected_failure_ratio * prev_done;
  s.interval_rps = all / total_s;
  s.interval_sent_rps =
      (s.interval_sent_rps * seconds + p.interval_sent_rps * prev_seconds) / total_s;
  s.interval_error_ratio = all > 0 ? errors / all : 0;
  s.interval_expected_failure_ratio = all > 0 ? expected / all : 0;
  return s;
}

json::object stream_json(const load::StreamSnapshot& s) {
  uint64_t failed = s.errors + s.expected_failures;
  uint64_t successful = s.completed > failed ? s.completed - failed : 0;
  json::object o;
  o["name"] = s.name;
  o["totalRequests"] = s.completed;
  o["successfulRequests"] = successful;
  o["failedRequests"] = failed;
  o["avgLatency"] = ms(s.interval_mean_us);
  o["p50Latency"] = ms(static_cast<double>(s.interval_p50_us));
  o["p90Latency"] = ms(static_cast<double>(s.interval_p90_us));
  o["p95Latency"] = ms(static_cast<double>(s.interval_p95_us));
  o["p99Latency"] = ms(static_cast<double>(s.interval_p99_us));
  o["p999Latency"] = ms(static_cast<double>(s.interval_p999_us));
  o["currentRps"] = round3(s.interval_rps);
  o["sentRps"] = round3(s.interval_sent_rps);
  o["targetRps"] = round3(s.target_rps);
  o["errorRatio"] =
      round3(std::min(1.0, s.interval_error_ratio + s.interval_expected_failure_ratio));
  o["inFlight"] = s.in_flight;
  o["dropped"] = s.dropped;
  return o;
}

double num(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_double()) return it->value().get_double();
  if (it->value().is_int64()) return static_cast<double>(it->value().get_int64());
  if (it->value().is_uint64()) return static_cast<double>(it->value().get_uint64());
  return 0;
}

const json::object* obj(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

// A report's (or a report stream's) totals in the Stats shape.
json::object totals_json(const json::object& r) {
  json::object o;
  double requests = num(r, "requests");
  double unexpected = num(r, "unexpected_failures");
  double expected = num(r, "expected_failures");
  double dropped = num(r, "dropped");
  double completed = std::max(0.0, requests - dropped);
  if (const auto* lat = obj(r, "latency"))
    if (const auto* c = obj(*lat, "corrected")) completed = num(*c, "count") + 0.0;
  double failed = unexpected + expected;
  o["totalRequests"] = num_json(completed);
  o["successfulRequests"] = num_json(std::max(0.0, completed - failed));
  o["failedRequests"] = num_json(failed);
  o["dropped"] = num_json(dropped);
  o["currentRps"] = round3(num(r, "achieved_rps"));
  o["errorRatio"] = completed > 0 ? round3(failed / completed) : json::value(0);
  if (const auto* lat = obj(r, "latency"))
    if (const auto* c = obj(*lat, "corrected")) {
      o["avgLatency"] = ms(num(*c, "mean_us"));
      o["p50Latency"] = ms(num(*c, "p50_us"));
      o["p90Latency"] = ms(num(*c, "p90_us"));
      o["p95Latency"] = ms(num(*c, "p95_us"));
      o["p99Latency"] = ms(num(*c, "p99_us"));
      o["p999Latency"] = ms(num(*c, "p999_us"));
    }
  return o;
}

}  // namespace

std::string percent_text(double ratio) { return fmt::format("{:.1f}%", ratio * 100.0); }

json::object stats_json(const jobs::TrafficSnapshot& snapshot, double t_unix,
                        const std::optional<PhaseInfo>& phase,
                        const jobs::TrafficSnapshot* previous) {
  const load::Snapshot& e = snapshot.engine;
  const load::Snapshot* p = previous ? &previous->engine : nullptr;
  bool fold = p && e.interval_s < kShortIntervalS && p->elapsed_s < e.elapsed_s &&
              p->streams.size() == e.streams.size();
  auto view = [&](const load::StreamSnapshot& s, const load::StreamSnapshot& ps) {
    return fold ? folded(s, e.interval_s, ps, p->interval_s) : s;
  };
  json::object o = stream_json(fold ? view(e.total, p->total) : e.total);
  o.erase("name");
  o["t"] = round3(t_unix);
  o["elapsed"] = round3(e.elapsed_s);
  o["status"] = e.draining ? "draining" : "running";
  o["saturated"] = e.saturated;
  if (snapshot.demo_minute) o["demoMinute"] = num_json(std::round(*snapshot.demo_minute * 100.0) / 100.0);
  if (phase) {
    json::object po{{"index", phase->index}, {"count", phase->count}, {"title", phase->title}};
    if (phase->elapsed_s) po["elapsed"] = round3(*phase->elapsed_s);
    o["phase"] = std::move(po);
  }
  json::array streams;
  for (size_t i = 0; i < e.streams.size(); ++i)
    streams.emplace_back(stream_json(fold ? view(e.streams[i], p->streams[i]) : e.streams[i]));
  o["streams"] = std::move(streams);
  return o;
}

json::object final_stats_json(const json::object& report) {
  json::object o = totals_json(report);
  if (auto it = report.find("streams"); it != report.end() && it->value().is_array()) {
    json::array streams;
    for (const auto& s : it->value().get_array()) {
      if (!s.is_object()) continue;
      json::object so = totals_json(s.get_object());
      if (auto n = s.get_object().find("name"); n != s.get_object().end()) so["name"] = n->value();
      streams.emplace_back(std::move(so));
    }
    o["streams"] = std::move(streams);
  }
  return o;
}

json::object traffic_stats_json(const jobs::TrafficSnapshot& snapshot) {
  json::object out;
  for (const auto& s : snapshot.engine.streams) {
    uint64_t errors = s.errors + s.expected_failures;
    double ratio = s.completed ? static_cast<double>(errors) / static_cast<double>(s.completed) : 0;
    json::object o;
    if (s.name == "demo") {
      o["current_rpm"] = num_json(std::round(s.target_rps * 60.0));
      if (snapshot.demo_minute) o["demo_minute"] = static_cast<int64_t>(*snapshot.demo_minute);
    } else {
      o["rpm"] = num_json(std::round(s.target_rps * 60.0));
    }
    o["requests"] = s.completed;
    o["errors"] = errors;
    o["error_rate"] = percent_text(ratio);
    out[s.name] = std::move(o);
  }
  return out;
}

}  // namespace trafficsim::control
