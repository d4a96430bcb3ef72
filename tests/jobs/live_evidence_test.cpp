// Live incidents explain themselves: spans as the demo service records them (OTLP JSON), its
// /metrics and /admin/faults, reduced to findings and ranked — the four examples.
#include "jobs/live_evidence.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "telemetry/span.hpp"

namespace trafficsim::jobs {
namespace {

namespace json = boost::json;

constexpr double kNow = 1'800'000'000;

json::value span(const std::string& route, int status, double ms, json::object attrs,
                 double end_unix = kNow) {
  telemetry::Span s;
  s.trace_id[0] = 0xab;
  s.span_id[0] = 1;
  s.name = "GET " + route;
  s.end_unix_nano = static_cast<uint64_t>(end_unix * 1e9);
  s.start_unix_nano = s.end_unix_nano - static_cast<uint64_t>(ms * 1e6);
  s.attributes = std::move(attrs);
  s.attributes["http.route"] = route;
  s.attributes["http.response.status_code"] = status;
  return telemetry::span_to_otlp_json(s);
}

monitors::MonitorEvent event(std::string id, std::string name, double value,
                             std::optional<double> baseline = std::nullopt) {
  monitors::MonitorEvent e;
  e.monitor_id = std::move(id);
  e.monitor_name = std::move(name);
  e.to = monitors::MonitorState::alert;
  e.value = value;
  e.baseline = baseline;
  e.t_unix = kNow;
  return e;
}

incidents::Analysis explain(const json::array& spans, const monitors::MonitorEvent& e,
                            std::string_view metrics = "", const json::array& faults = {},
                            double since = 0) {
  auto f = findings_from(spans, metrics, faults, since);
  f.monitor_id = e.monitor_id;
  f.monitor_name = e.monitor_name;
  f.value = e.value;
  f.baseline = e.baseline;
  return incidents::analyze_live(f, "the monitor's runbook");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(LiveEvidence, LatencyInjectionIsTheFaultHintsWithModelTimeNormal) {
  json::array spans;
  for (int i = 0; i < 100; ++i) {
    json::object a{{"llm.model_latency_ms", 400}, {"gen_ai.usage.input_tokens", 215},
                   {"gen_ai.usage.output_tokens", 28}};
    if (i % 10 < 3) a["fault.delay_ms"] = 3500;
    spans.push_back(span("/hackathon/classify", 200, i % 10 < 3 ? 3900 : 400, a));
  }
  auto a = explain(spans, event("llm_latency_spike", "LLM latency spike", 3900));
  ASSERT_FALSE(a.hypotheses.empty());
  const auto& top = a.hypotheses[0];
  EXPECT_EQ(top.category, "latency_injection");
  EXPECT_TRUE(contains(top.description, "~30 % of classify requests")) << top.description;
  EXPECT_TRUE(contains(top.description, "model time normal")) << top.description;
  EXPECT_EQ(a.actions.at(0).type, "remove_fault");
  EXPECT_TRUE(contains(a.actions[0].runbook, "the monitor's runbook"));
  EXPECT_FALSE(a.evidence.trace_ids.empty());  // the slow ones
  EXPECT_EQ(a.evidence.trace_ids[0].size(), 32u);
}

TEST(LiveEvidence, TokenBloatIsTheCallersPromptsNotTheModel) {
  json::array spans;
  for (int i = 0; i < 50; ++i)  // before the window: the baseline
    spans.push_back(span("/hackathon/classify", 200, 300,
                         {{"gen_ai.usage.input_tokens", 215}, {"gen_ai.usage.output_tokens", 28}},
                         kNow - 60));
  for (int i = 0; i < 50; ++i)
    spans.push_back(span("/hackathon/classify", 200, 300,
                         {{"gen_ai.usage.input_tokens", 5000}, {"gen_ai.usage.output_tokens", 28}}));
  auto a = explain(spans, event("cost_anomaly", "Cost anomaly", 5028, 243), "", {}, kNow - 10);
  const auto& top = a.hypotheses.at(0);
  EXPECT_EQ(top.category, "token_bloat");
  EXPECT_TRUE(contains(top.description, "prompt size grew ~23×")) << top.description;
  EXPECT_TRUE(contains(top.description, "tokens per request 5028")) << top.description;
  EXPECT_TRUE(contains(top.description, "not a model change")) << top.description;
  EXPECT_EQ(a.actions.at(0).type, "limit_prompt_size");
}

TEST(LiveEvidence, ErrorInjectionIsMalformedRequestsByErrorCode) {
  json::array spans;
  for (int i = 0; i < 100; ++i) {
    if (i % 2 == 0)
      spans.push_back(span("/hackathon/classify", 200, 300, {}));
    else
      spans.push_back(span("/hackathon/classify", 400, 2,
                           {{"error.type", i % 4 == 1 ? "invalid_json" : "missing_field"}}));
  }
  auto a = explain(spans, event("llm_error_burst", "LLM error burst", 0.5));
  const auto& top = a.hypotheses.at(0);
  EXPECT_EQ(top.category, "error_injection");
  EXPECT_TRUE(contains(top.description, "LLM error burst: 50 %")) << top.description;
  EXPECT_TRUE(contains(top.description, "400s from malformed requests")) << top.description;
  EXPECT_TRUE(contains(top.description, "invalid_json 25")) << top.description;
  EXPECT_TRUE(contains(top.description, "missing_field 25")) << top.description;
}

TEST(LiveEvidence, BlackFridayIsTheMissingCompositeIndexWithCheckoutLinked) {
  json::array spans;
  for (int i = 0; i < 40; ++i)
    spans.push_back(span("/products/recommendations", i % 5 ? 503 : 200, 4800,
                         {{"db.index_used", "NONE"}, {"db.full_table_scan", true},
                          {"db.rows_scanned", 487000}, {"traffic.type", "demo"},
                          {"demo.minute", 22.4}, {"demo.phase", "critical"}}));
  for (int i = 0; i < 40; ++i)
    spans.push_back(span("/products", 200, 3,
                         {{"db.index_used", "idx_products_category_active"},
                          {"db.full_table_scan", false}, {"traffic.type", "baseline"}}));
  for (int i = 0; i < 10; ++i)
    spans.push_back(span("/checkout", 502, 5000,
                         {{"checkout.failure_reason", "product-recommendations-timeout"}}));
  std::string metrics =
      "db_pool_queued{pool=\"scan\"} 16\ndb_pool_busy{pool=\"scan\"} 1\n"
      "db_queries_total{pool=\"scan\",outcome=\"rejected\"} 120\n"
      "db_queries_total{pool=\"scan\",outcome=\"timed_out\"} 30\n"
      "db_queries_total{pool=\"indexed\",outcome=\"rejected\"} 999\n"
      "demo_minute 22.4\ndemo_phase{phase=\"critical\"} 1\ndemo_phase{phase=\"calm\"} 0\n";
  auto a = explain(spans, event("recommendations_degraded", "Recommendations degraded", 0.8),
                   metrics);
  const auto& top = a.hypotheses.at(0);
  EXPECT_EQ(top.category, "missing_index");
  for (const char* part : {"full table scan (487 k rows, index NONE)", "scan pool saturated",
                           "baseline /products healthy on the same database",
                           "missing composite index on (category, active, price, popularity)",
                           "checkout failures are recommendations timeouts"})
    EXPECT_TRUE(contains(top.description, part)) << part << " in: " << top.description;
  std::string ev;
  for (const auto& e : top.evidence) ev += e + "\n";
  EXPECT_TRUE(contains(ev, "120 rejected")) << ev;  // the scan pool only, not the indexed one
  EXPECT_TRUE(contains(ev, "demo minute 22.4, phase critical")) << ev;
  EXPECT_TRUE(contains(ev, "10 of 10 checkouts failed calling recommendations")) << ev;
  ASSERT_FALSE(a.actions.empty());
  EXPECT_EQ(a.actions[0].type, "create_index");
  bool sql = false;
  for (const auto& s : a.actions[0].steps) sql |= contains(s, "CREATE INDEX");
  EXPECT_TRUE(sql);
}

TEST(LiveEvidence, FaultsFromAdminFaultsAreEvidenceAndAServerSideDelayIsInjectedLatency) {
  json::array faults{json::object{{"name", "slow-llm"}, {"route", "/hackathon/classify"},
                                  {"probability", 0.5}, {"hits", 42},
                                  {"delay", json::object{{"mean_ms", 2500}, {"jitter_ms", 0}}}}};
  json::array spans;
  for (int i = 0; i < 20; ++i) spans.push_back(span("/hackathon/classify", 200, 2900, {}));
  auto a = explain(spans, event("llm_latency_spike", "LLM latency spike", 2900), "", faults);
  EXPECT_EQ(a.hypotheses.at(0).category, "latency_injection");
  EXPECT_TRUE(contains(a.hypotheses[0].description, "fault 'slow-llm'")) << a.hypotheses[0].description;
  ASSERT_EQ(a.evidence.active_faults.size(), 1u);
  EXPECT_TRUE(contains(a.evidence.active_faults[0], "slow-llm: delay 2500 ms"));
}

TEST(LiveEvidence, NothingKnownIsOneUnknownHypothesisSayingWhatWasRead) {
  json::array spans;
  for (int i = 0; i < 10; ++i) spans.push_back(span("/hackathon/classify", 200, 3500, {}));
  auto f = findings_from(spans, "", {});
  f.monitor_name = "LLM latency spike";
  f.gaps.push_back("/admin/faults: status 401");
  auto a = incidents::analyze_live(f);
  ASSERT_EQ(a.hypotheses.size(), 1u);
  EXPECT_EQ(a.hypotheses[0].category, "unknown");
  std::string ev;
  for (const auto& e : a.hypotheses[0].evidence) ev += e;
  EXPECT_TRUE(contains(ev, "10 classify")) << ev;
  EXPECT_TRUE(contains(ev, "/admin/faults: status 401")) << ev;
}

TEST(LiveEvidence, AnUnreachableTargetIsGapsNotAFailure) {
  LiveProbeOptions o;
  o.target_url = "http://127.0.0.1:9";
  o.timeout = std::chrono::milliseconds(300);
  auto f = gather_live_findings(o, event("llm_latency_spike", "LLM latency spike", 4000));
  EXPECT_EQ(f.gaps.size(), 3u);
  EXPECT_EQ(incidents::analyze_live(f).hypotheses.at(0).category, "unknown");
}

}  // namespace
}  // namespace trafficsim::jobs
