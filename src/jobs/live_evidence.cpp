#include "jobs/live_evidence.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json/parse.hpp>

#include "http/simple_get.hpp"
#include "http/url.hpp"
#include "telemetry/exposition_parser.hpp"

namespace trafficsim::jobs {

namespace json = boost::json;

namespace {

// An OTLP attribute list as {key -> value}: strings, integers (decimal strings), doubles, bools.
std::map<std::string, json::value, std::less<>> attributes_of(const json::object& span) {
  std::map<std::string, json::value, std::less<>> out;
  const json::value* attrs = span.if_contains("attributes");
  if (!attrs || !attrs->is_array()) return out;
  for (const auto& a : attrs->as_array()) {
    if (!a.is_object()) continue;
    const auto* key = a.as_object().if_contains("key");
    const auto* val = a.as_object().if_contains("value");
    if (!key || !key->is_string() || !val || !val->is_object()) continue;
    const auto& v = val->as_object();
    json::value x;
    if (auto* s = v.if_contains("stringValue")) x = *s;
    else if (auto* i = v.if_contains("intValue")) {
      if (i->is_string()) x = std::strtod(std::string(i->as_string()).c_str(), nullptr);
      else if (i->is_number()) x = i->to_number<double>();
    } else if (auto* d = v.if_contains("doubleValue")) {
      if (d->is_number()) x = d->to_number<double>();
    } else if (auto* b = v.if_contains("boolValue")) x = *b;
    out[std::string(key->as_string())] = std::move(x);
  }
  return out;
}

double num(const std::map<std::string, json::value, std::less<>>& m, std::string_view k,
           double fallback = 0) {
  auto it = m.find(k);
  if (it == m.end()) return fallback;
  if (it->second.is_number()) return it->second.to_number<double>();
  if (it->second.is_bool()) return it->second.as_bool() ? 1 : 0;
  return fallback;
}

std::string str(const std::map<std::string, json::value, std::less<>>& m, std::string_view k) {
  auto it = m.find(k);
  if (it == m.end()) return {};
  if (it->second.is_string()) return std::string(it->second.as_string());
  if (it->second.is_number()) return std::to_string(static_cast<int64_t>(it->second.to_number<double>()));
  return {};
}

double nanos(const json::object& span, std::string_view key) {
  const json::value* v = span.if_contains(key);
  if (!v) return 0;
  if (v->is_string()) return std::strtod(std::string(v->as_string()).c_str(), nullptr);
  if (v->is_number()) return v->to_number<double>();
  return 0;
}

struct RouteAcc {
  incidents::RouteFindings* out;
  std::vector<double> ms;
  void add(double duration_ms, int status, bool is_error, const std::string& type) {
    ++out->spans;
    ms.push_back(duration_ms);
    out->statuses[std::to_string(status)]++;
    if (is_error) {
      ++out->errors;
      if (!type.empty()) out->error_types[type]++;
    }
  }
  void finish() {
    if (ms.empty()) return;
    double sum = 0;
    for (double x : ms) sum += x;
    out->mean_ms = sum / double(ms.size());
    std::sort(ms.begin(), ms.end());
    out->p95_ms = ms[std::min(ms.size() - 1, static_cast<size_t>(std::ceil(0.95 * double(ms.size()))) - 1)];
  }
};

}  // namespace

incidents::LiveFindings findings_from(const json::array& spans, std::string_view metrics,
                                      const json::array& faults, double since_unix_s) {
  incidents::LiveFindings f;
  RouteAcc classify{&f.classify}, rec{&f.recommendations}, prod{&f.products}, checkout{&f.checkout};
  double hint_sum = 0, model_sum = 0, in_sum = 0, out_sum = 0, rows_sum = 0;
  int64_t model_n = 0, tokens_n = 0;
  std::vector<std::pair<double, std::string>> notable;  // (duration, trace id) of slow or failing
  double before_in_sum = 0;
  int64_t before_n = 0;
  double rec_scan_ms_sum = 0;
  int64_t rec_scan_n = 0;
  std::string rec_sql;
  for (const auto& sv : spans) {
    if (!sv.is_object()) continue;
    const auto& span = sv.as_object();
    auto attrs = attributes_of(span);
    const double ms = (nanos(span, "endTimeUnixNano") - nanos(span, "startTimeUnixNano")) / 1e6;
    const std::string route = str(attrs, "http.route");
    const int status = static_cast<int>(num(attrs, "http.response.status_code"));
    if (since_unix_s > 0 && nanos(span, "endTimeUnixNano") / 1e9 < since_unix_s) {
      if (str(attrs, "http.route") == "/hackathon/classify" &&
          attrs.count("gen_ai.usage.input_tokens")) {
        before_in_sum += num(attrs, "gen_ai.usage.input_tokens");
        ++before_n;
      }
      continue;
    }
    const std::string trace = span.if_contains("traceId") && span.at("traceId").is_string()
                                  ? std::string(span.at("traceId").as_string())
                                  : std::string();
    if (route.empty()) {
      // A database child span: the statement and its time, for slow-query evidence.
      if (num(attrs, "db.full_table_scan") > 0) {
        rec_scan_ms_sum += ms;
        ++rec_scan_n;
        if (rec_sql.empty()) rec_sql = str(attrs, "db.query.text");
      }
      continue;
    }
    const std::string type = str(attrs, "error.type");
    if (route == "/hackathon/classify") {
      classify.add(ms, status, status >= 400, type);
      if (double hint = num(attrs, "fault.delay_ms"); hint > 0) {
        ++f.classify_with_hint;
        hint_sum += hint;
      }
      if (attrs.count("llm.model_latency_ms")) {
        model_sum += num(attrs, "llm.model_latency_ms");
        ++model_n;
      }
      if (attrs.count("gen_ai.usage.input_tokens")) {
        in_sum += num(attrs, "gen_ai.usage.input_tokens");
        out_sum += num(attrs, "gen_ai.usage.output_tokens");
        ++tokens_n;
      }
    } else if (route == "/products/recommendations") {
      rec.add(ms, status, status >= 500, str(attrs, "db.index_used"));
      if (str(attrs, "traffic.type") == "demo") ++f.demo_spans;
      if (num(attrs, "db.full_table_scan") > 0) {
        ++f.rec_full_scans;
        rows_sum += num(attrs, "db.rows_scanned");
        f.rec_index_used = str(attrs, "db.index_used");
      }
      if (attrs.count("demo.minute")) {
        f.demo_active = true;
        f.demo_minute = std::max(f.demo_minute, num(attrs, "demo.minute"));
        f.demo_phase = str(attrs, "demo.phase");
      }
    } else if (route == "/products") {
      prod.add(ms, status, status >= 500, "");
      if (auto ix = str(attrs, "db.index_used"); !ix.empty()) f.products_index = ix;
    } else if (route == "/checkout") {
      checkout.add(ms, status, status >= 500, "");
      if (auto r = str(attrs, "checkout.failure_reason"); !r.empty()) f.checkout_reasons[r]++;
    } else {
      continue;
    }
    if (!trace.empty() && (status >= 500 || ms >= 1000)) notable.emplace_back(ms, trace);
  }
  classify.finish(), rec.finish(), prod.finish(), checkout.finish();
  if (f.classify_with_hint) f.mean_hint_ms = hint_sum / double(f.classify_with_hint);
  if (model_n) f.mean_model_ms = model_sum / double(model_n);
  if (tokens_n) {
    f.mean_input_tokens = in_sum / double(tokens_n);
    f.mean_output_tokens = out_sum / double(tokens_n);
  }
  if (before_n) f.baseline_input_tokens = before_in_sum / double(before_n);
  if (f.rec_full_scans) f.rec_rows_scanned = rows_sum / double(f.rec_full_scans);
  if (rec_scan_n)
    f.slow_queries.push_back({rec_sql.empty() ? "recommendations query" : rec_sql,
                              rec_scan_ms_sum / double(rec_scan_n), rec_scan_n});
  std::sort(notable.begin(), notable.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < notable.size() && f.trace_ids.size() < 5; ++i)
    if (std::find(f.trace_ids.begin(), f.trace_ids.end(), notable[i].second) == f.trace_ids.end())
      f.trace_ids.push_back(notable[i].second);

  for (const auto& s : telemetry::parse_exposition(metrics).samples) {
    const std::string* pool = s.label("pool");
    const bool scan = pool && *pool == "scan";
    if (s.name == "db_pool_queued" && scan) f.scan_pool_queued = s.value;
    else if (s.name == "db_pool_busy" && scan) f.scan_pool_busy = s.value;
    else if (s.name == "db_queries_total" && scan) {
      const std::string* outcome = s.label("outcome");
      if (outcome && *outcome == "rejected") f.scan_rejections += s.value;
      if (outcome && (*outcome == "timed_out" || *outcome == "timeout")) f.scan_timeouts += s.value;
    } else if (s.name == "demo_minute" && s.value > 0) {
      f.demo_active = true;
      f.demo_minute = s.value;
    } else if (s.name == "demo_phase" && s.value == 1) {
      if (const std::string* p = s.label("phase")) f.demo_phase = *p;
    }
  }

  for (const auto& fv : faults) {
    if (!fv.is_object()) continue;
    const auto& o = fv.as_object();
    incidents::FaultFinding x;
    auto s = [&](std::string_view k) {
      auto* v = o.if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    x.name = s("name");
    x.route = s("route");
    if (auto* p = o.if_contains("probability"); p && p->is_number()) x.probability = p->to_number<double>();
    if (auto* h = o.if_contains("hits"); h && h->is_number()) x.hits = h->to_number<int64_t>();
    if (auto* d = o.if_contains("delay"); d && d->is_object()) {
      x.kind = "delay";
      if (auto* m = d->as_object().if_contains("mean_ms"); m && m->is_number()) x.delay_ms = m->to_number<double>();
    }
    if (auto* a = o.if_contains("abort"); a && a->is_object()) {
      if (x.kind.empty()) x.kind = "abort";
      if (auto* st = a->as_object().if_contains("status"); st && st->is_number())
        x.abort_status = st->to_number<int>();
    }
    f.faults.push_back(std::move(x));
  }
  return f;
}

incidents::LiveFindings gather_live_findings(const LiveProbeOptions& o,
                                             const monitors::MonitorEvent& e, double window_s) {
  json::array spans, faults;
  std::string metrics;
  std::vector<std::string> gaps;
  auto fetch = [&](const std::string& path, bool admin) -> std::optional<std::string> {
    std::string error;
    auto url = http::parse_url(o.target_url + path, &error);
    if (!url) {
      gaps.push_back(path + ": " + error);
      return std::nullopt;
    }
    http::HeaderList headers;
    if (admin && !o.admin_key.empty()) headers.emplace_back("X-API-Key", o.admin_key);
    auto r = http::simple_request("GET", *url, headers, "", o.timeout, &error, 32 << 20);
    if (!r) {
      gaps.push_back(path + ": " + error);
      return std::nullopt;
    }
    if (r->status != 200) {
      gaps.push_back(path + ": status " + std::to_string(r->status));
      return std::nullopt;
    }
    return std::move(r->body);
  };
  if (auto body = fetch("/debug/traces?limit=" + std::to_string(o.spans), false)) {
    boost::system::error_code ec;
    auto v = json::parse(*body, ec);
    if (!ec && v.is_object() && v.as_object().contains("spans") && v.at("spans").is_array())
      spans = v.at("spans").as_array();
    else
      gaps.push_back("/debug/traces: not the expected JSON");
  }
  if (auto body = fetch("/metrics", false)) metrics = std::move(*body);
  if (auto body = fetch("/admin/faults", true)) {
    boost::system::error_code ec;
    auto v = json::parse(*body, ec);
    if (!ec && v.is_object() && v.as_object().contains("faults") && v.at("faults").is_array())
      faults = v.at("faults").as_array();
  }
  const double since = window_s > 0 && e.t_unix > 0 ? e.t_unix - window_s : 0;
  incidents::LiveFindings f = findings_from(spans, metrics, faults, since);
  f.monitor_id = e.monitor_id;
  f.monitor_name = e.monitor_name;
  f.service = e.service;
  f.unit = e.unit;
  f.value = e.value;
  f.baseline = e.baseline;
  f.threshold = e.threshold;
  f.gaps = std::move(gaps);
  return f;
}

std::function<std::optional<incidents::Analysis>(const monitors::MonitorEvent&)> live_analyzer(
    LiveProbeOptions options, std::vector<monitors::MonitorSpec> monitors) {
  return [options = std::move(options), monitors = std::move(monitors)](
             const monitors::MonitorEvent& e) -> std::optional<incidents::Analysis> {
    std::string runbook;
    double window_s = 60, for_s = 0;
    for (const auto& m : monitors)
      if (m.id == e.monitor_id || m.name == e.monitor_name) {
        runbook = m.runbook;
        window_s = std::chrono::duration<double>(m.window).count();
        for_s = std::chrono::duration<double>(m.for_duration).count();
      }
    while (!runbook.empty() && (runbook.back() == '\n' || runbook.back() == ' ')) runbook.pop_back();
    // The spans since the monitor went PENDING (its `for`), or the last few seconds of its
    // window when it has no `for`: what the traffic looks like while the condition holds, not
    // the healthy minutes before it.
    const double scale = options.time_scale > 0 ? options.time_scale : 1;
    window_s = std::max(for_s / scale, std::min(window_s / scale, 5.0));
    return incidents::analyze_live(gather_live_findings(options, e, window_s), runbook);
  };
}

}  // namespace trafficsim::jobs
