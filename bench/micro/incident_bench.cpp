// Costs of issue 12's budgets: 50 monitors evaluated once (a 1 s tick: expose, parse, observe),
// the live analysis of 1 000 recent spans, an incident opened with its analysis in the store
// (SQLite, synchronous=FULL), and one scenario analyzed as `incident validate` does.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include <boost/json.hpp>

#include "demo_service/service_metrics.hpp"
#include "incidents/builtin.hpp"
#include "incidents/incident_store.hpp"
#include "incidents/live_analysis.hpp"
#include "incidents/simulation.hpp"
#include "incidents/validation.hpp"
#include "jobs/live_evidence.hpp"
#include "monitors/monitor_set.hpp"
#include "monitors/monitor_spec.hpp"
#include "telemetry/exposition_parser.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/span.hpp"

namespace {

using namespace trafficsim;

// The demo target's families with the series a demo run has (routes x statuses x streams).
struct Target {
  telemetry::Registry registry;
  std::unique_ptr<demo_service::ServiceMetrics> m = demo_service::ServiceMetrics::register_in(registry);
  void step(int t) {
    const char* routes[] = {"/hackathon/classify", "/products", "/products/recommendations",
                            "/checkout", "/users", "/users/{id}"};
    const char* statuses[] = {"200", "400", "503"};
    const char* streams[] = {"demo", "baseline", "load"};
    for (auto* r : routes)
      for (auto* st : statuses)
        for (auto* tt : streams) m->http_requests.with({r, "GET", st, tt}).inc(1 + t % 3);
    for (auto* r : routes)
      for (auto* tt : streams) m->http_duration.with({r, "GET", tt}).observe(0.05 * (1 + t % 7));
    for (auto* tt : streams) {
      m->llm_duration.with({"trafficsim-classifier-1", tt}).observe(0.3 + 0.5 * (t % 9));
      m->llm_requests.with({tt}).inc(20);
      m->llm_errors.with({tt, "400"}).inc(t % 2);
      m->llm_tokens_per_request.with({tt}).observe(240 + t % 50);
    }
  }
};

std::vector<monitors::MonitorSpec> fifty_monitors() {
  std::vector<monitors::MonitorSpec> out;
  const auto& b = monitors::builtin_monitors();
  for (int i = 0; out.size() < 50; ++i) {
    auto m = b[static_cast<size_t>(i) % b.size()];
    m.id += "_" + std::to_string(i);
    out.push_back(std::move(m));
  }
  return out;
}

// One tick of the monitor runner for 50 monitors at 1 s resolution: the share of one core is
// this time divided by 1 s.
void BM_FiftyMonitorsOneTick(benchmark::State& state) {
  Target target;
  monitors::MonitorSet set(fifty_monitors());
  int t = 0;
  for (; t < 600; ++t) {  // ten minutes of history first (the cost baseline's window)
    target.step(t);
    set.observe(telemetry::parse_exposition(target.registry.expose()), 1e9 + t);
  }
  for (auto _ : state) {
    target.step(t);
    auto events = set.observe(telemetry::parse_exposition(target.registry.expose()), 1e9 + t);
    benchmark::DoNotOptimize(events);
    ++t;
  }
}
BENCHMARK(BM_FiftyMonitorsOneTick)->Unit(benchmark::kMicrosecond);

boost::json::array recent_spans() {
  boost::json::array spans;
  for (int i = 0; i < 1000; ++i) {
    telemetry::Span s;
    s.trace_id[0] = static_cast<uint8_t>(i);
    s.end_unix_nano = static_cast<uint64_t>(1.8e18) + static_cast<uint64_t>(i) * 1'000'000;
    s.start_unix_nano = s.end_unix_nano - 400'000'000;
    s.attributes = {{"http.route", i % 3 ? "/hackathon/classify" : "/products/recommendations"},
                    {"http.response.status_code", i % 5 ? 200 : 503},
                    {"traffic.type", "demo"},
                    {"gen_ai.usage.input_tokens", 215},
                    {"gen_ai.usage.output_tokens", 28},
                    {"llm.model_latency_ms", 380},
                    {"db.index_used", "NONE"},
                    {"db.full_table_scan", true},
                    {"db.rows_scanned", 487000}};
    if (i % 10 < 3) s.attributes["fault.delay_ms"] = 3500;
    spans.push_back(telemetry::span_to_otlp_json(s));
  }
  return spans;
}

// What the live analyzer does once the three answers are in (the HTTP reads are measured end
// to end by bench/incident_bench.py).
void BM_LiveAnalysisOf1000Spans(benchmark::State& state) {
  auto spans = recent_spans();
  const std::string text = boost::json::serialize(boost::json::object{{"spans", spans}});
  for (auto _ : state) {
    auto parsed = boost::json::parse(text);
    auto f = jobs::findings_from(parsed.at("spans").as_array(), "", {});
    f.monitor_id = "llm_latency_spike";
    f.monitor_name = "LLM latency spike";
    auto a = incidents::analyze_live(f, "runbook");
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_LiveAnalysisOf1000Spans)->Unit(benchmark::kMillisecond);

// open_or_update + set_analysis + a timeline entry: three commits with synchronous=FULL.
void BM_OpenIncidentWithAnalysis(benchmark::State& state) {
  auto dir = std::filesystem::temp_directory_path() / ("ts-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    incidents::IncidentStore store(dir / "incidents.sqlite");
    auto f = jobs::findings_from(recent_spans(), "", {});
    f.monitor_name = "LLM latency spike";
    auto a = incidents::analyze_live(f);
    int i = 0;
    for (auto _ : state) {
      incidents::Incident d;
      d.title = "LLM latency spike";
      d.severity = "critical";
      d.service = "llm-classifier";
      d.dedup_key = "bench:" + std::to_string(i++);
      d.timeline.push_back({0, "alert", "p95 above 3000 ms"});
      auto inc = store.open_or_update(d);
      store.set_analysis(inc.id, a.hypotheses, a.actions, a.evidence);
      store.add_timeline(inc.id, {0, "analysis", a.summary});
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_OpenIncidentWithAnalysis)->Unit(benchmark::kMillisecond);

// One variant of one scenario, as `incident validate` plays and analyzes it (5 x 50 variants
// and the controls are ~275 of these).
void BM_ValidateOneVariant(benchmark::State& state) {
  const auto& base = incidents::builtin_incident_scenarios()[0];
  int i = 0;
  for (auto _ : state) {
    auto v = incidents::make_variant(base, 1, i);
    auto a = incidents::analyze_scenario(v, static_cast<uint64_t>(++i));
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_ValidateOneVariant)->Unit(benchmark::kMicrosecond);

}  // namespace
