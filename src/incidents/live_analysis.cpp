// The live rules: each cause a finding pattern, a score and a sentence with the numbers in it.
#include "incidents/live_analysis.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace trafficsim::incidents {

namespace {

bool has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string codes(const std::map<std::string, int64_t>& m) {
  std::vector<std::pair<std::string, int64_t>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
  std::string out;
  for (size_t i = 0; i < v.size() && i < 6; ++i)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", v[i].first, v[i].second);
  return out;
}

std::string kilo(double rows) {
  return rows >= 1000 ? fmt::format("{:.0f} k", rows / 1000) : fmt::format("{:.0f}", rows);
}

}  // namespace

Analysis analyze_live(const LiveFindings& f, const std::string& runbook) {
  Analysis a;
  a.anomalous = true;
  std::vector<Hypothesis> hs;
  std::vector<double> scores;
  auto add = [&](std::string cat, std::string text, double score, std::vector<std::string> ev) {
    if (!(score > 0)) return;
    hs.push_back({std::move(cat), std::move(text), 0, std::move(ev)});
    scores.push_back(score);
  };
  const std::string mon = f.monitor_id + " " + f.monitor_name;
  const bool latency_monitor = has(mon, "latency");
  const bool error_monitor = has(mon, "error");
  const bool cost_monitor = has(mon, "cost") || has(mon, "token");
  const bool flow_monitor = has(mon, "recommendations") || has(mon, "degraded");
  const auto& c = f.classify;

  // Injected latency: hints on a share of classify requests, or a delay fault on the route,
  // while the model's own time is normal.
  {
    double share = c.spans ? double(f.classify_with_hint) / double(c.spans) : 0;
    const FaultFinding* delay = nullptr;
    for (const auto& x : f.faults)
      if (x.kind == "delay" && (has(x.route, "classify") || x.route == "/*" || x.route == "*"))
        delay = &x;
    double score = 0;
    std::vector<std::string> ev;
    if (share >= 0.05) {
      score += 1.5 + 2 * share;
      ev.push_back(fmt::format("{} of {} classify requests ({:.0f} %) carry X-Fault-Delay-Ms, mean "
                               "{:.0f} ms",
                               f.classify_with_hint, c.spans, share * 100, f.mean_hint_ms));
    }
    if (delay) {
      score += 1.5;
      ev.push_back(fmt::format("fault '{}' delays {} by {:.0f} ms on {:.0f} % of requests ({} hits)",
                               delay->name, delay->route, delay->delay_ms,
                               delay->probability * 100, delay->hits));
    }
    if (score > 0) {
      if (f.mean_model_ms > 0)
        ev.push_back(fmt::format("model time normal: mean {:.0f} ms", f.mean_model_ms));
      if (c.spans) ev.push_back(fmt::format("classify p95 {:.0f} ms", c.p95_ms));
      if (latency_monitor) score += 1.0;
      add("latency_injection",
          share >= 0.05
              ? fmt::format("latency is injected on ~{:.0f} % of classify requests (fault hints, "
                            "~{:.0f} ms each); model time normal ({:.0f} ms)",
                            share * 100, f.mean_hint_ms, f.mean_model_ms)
              : fmt::format("fault '{}' injects {:.0f} ms on {}; model time normal", delay->name,
                            delay->delay_ms, delay->route),
          score, std::move(ev));
    }
  }
  // Token bloat: tokens per request far above the baseline, from the input side.
  {
    double per_request = f.mean_input_tokens + f.mean_output_tokens;
    double base = cost_monitor && f.baseline ? *f.baseline : 0;
    double ratio = base > 0 ? per_request / base : 0;
    if (per_request > 0 && (ratio >= 3 || (cost_monitor && per_request >= 2000))) {
      double input_share = per_request > 0 ? f.mean_input_tokens / per_request : 0;
      // Prompt growth: input tokens now against the spans before the window when there are
      // some, else against the monitor's baseline.
      double growth = f.baseline_input_tokens > 0 ? f.mean_input_tokens / f.baseline_input_tokens
                                                  : ratio;
      std::vector<std::string> ev{
          fmt::format("tokens per request {:.0f} (input {:.0f}, output {:.0f})", per_request,
                      f.mean_input_tokens, f.mean_output_tokens)};
      if (base > 0) ev.push_back(fmt::format("baseline {:.0f} tokens per request: {:.1f}×", base, ratio));
      if (f.baseline_input_tokens > 0)
        ev.push_back(fmt::format("prompt (input) tokens {:.0f} against {:.0f} before: {:.1f}×",
                                 f.mean_input_tokens, f.baseline_input_tokens, growth));
      ev.push_back("model unchanged (trafficsim-classifier-1); output size normal");
      add("token_bloat",
          fmt::format("prompt size grew ~{:.0f}×, tokens per request {:.0f}: a cost anomaly of "
                      "the callers' input ({:.0f} % input), not a model change",
                      growth > 0 ? growth : per_request / 250.0, per_request, input_share * 100),
          (cost_monitor ? 2.0 : 0.5) + std::min(2.0, ratio / 5) + input_share, std::move(ev));
    }
  }
  // Error injection: classify answering 4xx to malformed requests, by error code.
  {
    int64_t client = 0;
    for (const auto& [status, n] : c.statuses)
      if (!status.empty() && status[0] == '4') client += n;
    double rate = c.error_rate();
    if (c.errors > 0 && rate >= 0.05) {
      double share4xx = c.errors ? double(client) / double(c.errors) : 0;
      std::vector<std::string> ev{
          fmt::format("{} of {} classify requests failed ({:.0f} %)", c.errors, c.spans, rate * 100),
          "by status: " + codes(c.statuses)};
      if (!c.error_types.empty()) ev.push_back("by error code: " + codes(c.error_types));
      const FaultFinding* abort = nullptr;
      for (const auto& x : f.faults)
        if (x.kind == "abort" && has(x.route, "classify")) abort = &x;
      if (abort)
        ev.push_back(fmt::format("fault '{}' aborts {} with {} on {:.0f} %", abort->name,
                                 abort->route, abort->abort_status, abort->probability * 100));
      add("error_injection",
          fmt::format("LLM error burst: {:.0f} % of classify requests fail{}, by error code: {}",
                      rate * 100,
                      share4xx >= 0.8 ? fmt::format(" — {:.0f} % of them 400s from malformed requests",
                                                    share4xx * 100)
                                      : abort ? " — injected aborts" : "",
                      c.error_types.empty() ? codes(c.statuses) : codes(c.error_types)),
          (error_monitor ? 2.0 : 0.5) + 2 * rate + share4xx + (abort ? 1 : 0), std::move(ev));
    }
  }
  // Missing index (seed 002): recommendations scan the table while /products, on the same
  // database, stays fast through its index; the scan pool saturates; checkout fails with it.
  {
    const auto& r = f.recommendations;
    double scan_share = r.spans ? double(f.rec_full_scans) / double(r.spans) : 0;
    if (f.rec_full_scans > 0 && scan_share >= 0.3) {
      std::vector<std::string> ev{
          fmt::format("recommendations: {} of {} spans do a full table scan ({} rows scanned on "
                      "average, db.index_used {})",
                      f.rec_full_scans, r.spans, kilo(f.rec_rows_scanned),
                      f.rec_index_used.empty() ? "NONE" : f.rec_index_used),
          fmt::format("recommendations error rate {:.0f} %, mean {:.0f} ms", r.error_rate() * 100,
                      r.mean_ms)};
      bool pool = f.scan_pool_queued > 0 || f.scan_rejections > 0 || f.scan_timeouts > 0;
      if (pool)
        ev.push_back(fmt::format("scan pool saturated: {:.0f} queued, {:.0f} busy, {:.0f} rejected, "
                                 "{:.0f} timed out",
                                 f.scan_pool_queued, f.scan_pool_busy, f.scan_rejections,
                                 f.scan_timeouts));
      bool healthy = f.products.spans > 0 && f.products.error_rate() < 0.05;
      if (f.products.spans > 0)
        ev.push_back(fmt::format("baseline /products {} on the same database: {:.0f} % errors, "
                                 "mean {:.1f} ms, index {}",
                                 healthy ? "healthy" : "also degraded",
                                 f.products.error_rate() * 100, f.products.mean_ms,
                                 f.products_index.empty() ? "?" : f.products_index));
      if (f.demo_active)
        ev.push_back(fmt::format("demo minute {:.1f}, phase {}", f.demo_minute, f.demo_phase));
      int64_t linked = 0;
      for (const auto& [reason, n] : f.checkout_reasons)
        if (has(reason, "recommendations")) linked += n;
      if (linked > 0)
        ev.push_back(fmt::format("checkout failures linked: {} of {} checkouts failed calling "
                                 "recommendations ({})",
                                 linked, f.checkout.spans, codes(f.checkout_reasons)));
      add("missing_index",
          fmt::format("recommendations does a full table scan ({} rows, index {}){}{} → missing "
                      "composite index on (category, active, price, popularity){}",
                      kilo(f.rec_rows_scanned),
                      f.rec_index_used.empty() ? "NONE" : f.rec_index_used,
                      pool ? ", scan pool saturated" : "",
                      healthy ? ", baseline /products healthy on the same database" : "",
                      linked > 0 ? "; checkout failures are recommendations timeouts" : ""),
          (flow_monitor ? 2.0 : 0.5) + 2 * scan_share + (pool ? 0.5 : 0) + (healthy ? 0.5 : 0),
          std::move(ev));
    }
  }
  rank_and_normalise(hs, scores);
  if (hs.empty()) {
    std::vector<std::string> ev;
    if (f.value)
      ev.push_back(fmt::format("{} = {:.4g}{} (threshold {:.4g})", f.monitor_name, *f.value,
                               f.unit.empty() ? "" : " " + f.unit, f.threshold));
    ev.push_back(fmt::format("looked at {} classify, {} recommendations, {} products, {} checkout "
                             "spans and {} active faults",
                             c.spans, f.recommendations.spans, f.products.spans, f.checkout.spans,
                             f.faults.size()));
    for (const auto& g : f.gaps) ev.push_back("not read: " + g);
    hs.push_back({"unknown",
                  fmt::format("{} alerted without an injected fault, a scan or a token change in "
                              "the recent traces: load or the service itself",
                              f.monitor_name),
                  0.3, std::move(ev)});
  }
  a.hypotheses = std::move(hs);
  IncidentContext none;
  for (size_t i = 0; i < a.hypotheses.size() && i < 2; ++i) {
    if (i == 1 && a.hypotheses[1].confidence < 0.5 * a.hypotheses[0].confidence) break;
    for (auto& act : actions_for(a.hypotheses[i].category, f.service, none)) {
      if (a.hypotheses[i].category == "missing_index" && act.type == "create_index") {
        act.blast_radius = "products table writes while the index builds (seconds)";
        act.steps = {"EXPLAIN QUERY PLAN the recommendations query: SCAN products (no index)",
                     "CREATE INDEX idx_products_category_active_price_popularity ON "
                     "products(category, active, price, popularity DESC)",
                     "Re-run EXPLAIN: SEARCH products USING INDEX; watch the scan pool drain",
                     "Checkout recovers with recommendations (same trace)"};
      }
      if (!runbook.empty()) act.runbook = runbook + " (" + act.runbook + ")";
      if (std::none_of(a.actions.begin(), a.actions.end(),
                       [&](const Action& x) { return x.type == act.type; }))
        a.actions.push_back(std::move(act));
    }
  }
  if (f.value)
    a.evidence.metrics.push_back({f.monitor_id, *f.value, f.baseline.value_or(f.threshold), 0, f.unit});
  if (c.spans)
    a.evidence.metrics.push_back({"classify_p95_ms", c.p95_ms, 0, 0, "ms"});
  if (f.recommendations.spans)
    a.evidence.metrics.push_back(
        {"recommendations_error_rate", f.recommendations.error_rate(), 0, 0, ""});
  for (const auto& x : f.faults)
    a.evidence.active_faults.push_back(
        x.kind == "delay" ? fmt::format("{}: delay {:.0f} ms on {} ({:.0f} %)", x.name, x.delay_ms,
                                        x.route, x.probability * 100)
                          : fmt::format("{}: abort {} on {} ({:.0f} %)", x.name, x.abort_status,
                                        x.route, x.probability * 100));
  a.evidence.trace_ids = f.trace_ids;
  a.evidence.slow_queries = f.slow_queries;
  a.summary = fmt::format("{} ({:.0f} %): {}", a.hypotheses[0].category,
                          a.hypotheses[0].confidence * 100, a.hypotheses[0].description);
  return a;
}

}  // namespace trafficsim::incidents
