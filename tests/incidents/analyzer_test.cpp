// The deterministic analyzer: series read as observations, each built-in scenario explained as
// seed 004 expects, and the validation bars (top-1 on the built-ins, >= 90 % on variants, no
// false incident on controls).
#include "incidents/analyzer.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "incidents/builtin.hpp"
#include "incidents/metric_pattern.hpp"
#include "incidents/simulation.hpp"
#include "incidents/validation.hpp"

namespace trafficsim::incidents {
namespace {

std::vector<double> noisy(double base, double sigma, size_t n, uint64_t seed) {
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i)
    v.push_back(base + sigma * standard_noise(seed, "x", static_cast<int64_t>(i)));
  return v;
}

TEST(AnalyzerTest, SeriesBaselineLevelAndShape) {
  auto flat = noisy(100, 5, 300, 1);
  auto o = observe_series("queue_depth", "", flat);
  EXPECT_NEAR(o.baseline, 100, 3);
  EXPECT_NEAR(o.sigma, 5, 2);
  EXPECT_LT(std::abs(o.deviation()), kAnomalySigma);
  EXPECT_EQ(o.shape, Shape::steady);

  auto climb = flat;
  for (size_t i = 60; i < climb.size(); ++i) climb[i] += 100.0 * double(i - 60) / 240.0;
  o = observe_series("memory_usage_bytes", "bytes", climb);
  EXPECT_GT(o.deviation(), 10);
  EXPECT_EQ(o.shape, Shape::gradual);

  auto jump = flat;
  for (size_t i = 100; i < jump.size(); ++i) jump[i] += 80;
  EXPECT_EQ(observe_series("x", "", jump).shape, Shape::step);

  auto down = flat;
  for (size_t i = 100; i < down.size(); ++i) down[i] -= 60;
  o = observe_series("x", "", down);
  EXPECT_EQ(o.shape, Shape::drop);
  EXPECT_LT(o.deviation(), -kAnomalySigma);

  auto flap = flat;
  for (size_t i = 60; i < flap.size(); ++i)
    if ((i - 60) / 5 % 2 == 0) flap[i] += 90;
  EXPECT_EQ(observe_series("x", "", flap).shape, Shape::flapping);
}

TEST(AnalyzerTest, MetricNamesMapToSignals) {
  EXPECT_EQ(classify_metric("memory_usage_bytes"), Signal::memory);
  EXPECT_EQ(classify_metric("gc_collections_total"), Signal::gc);
  EXPECT_EQ(classify_metric("oom_kills_total"), Signal::oom);
  EXPECT_EQ(classify_metric("cpu_usage_percent"), Signal::cpu);
  EXPECT_EQ(classify_metric("http_requests_per_second"), Signal::traffic);
  EXPECT_EQ(classify_metric("http_request_duration_p95_seconds"), Signal::latency);
  EXPECT_EQ(classify_metric("db_query_duration_seconds"), Signal::db_latency);
  EXPECT_EQ(classify_metric("db_connections_active"), Signal::db_connections);
  EXPECT_EQ(classify_metric("kube_pod_container_restarts_total"), Signal::restarts);
  EXPECT_EQ(classify_metric("kube_pod_ready_count"), Signal::readiness);
  EXPECT_EQ(classify_metric("external_api_call_duration_seconds"), Signal::dependency_latency);
  EXPECT_EQ(classify_metric("circuit_breaker_open"), Signal::circuit_open);
  EXPECT_EQ(classify_metric("http_500_errors"), Signal::errors);
}

TEST(AnalyzerTest, EveryBuiltinScenarioLeadsWithItsExpectedCauseAndActions) {
  for (const auto& s : builtin_incident_scenarios()) {
    for (uint64_t seed : {1u, 42u, 2026u}) {
      Analysis a = analyze_scenario(s, seed);
      ASSERT_TRUE(a.anomalous) << s.id;
      ASSERT_FALSE(a.hypotheses.empty()) << s.id;
      EXPECT_EQ(a.hypotheses[0].category, s.expected_root_cause) << s.id << " seed " << seed
                                                                 << ": " << a.summary;
      EXPECT_GT(a.hypotheses[0].confidence, 0.4) << s.id;
      EXPECT_LE(a.hypotheses[0].confidence, 1.0);
      EXPECT_FALSE(a.hypotheses[0].evidence.empty()) << s.id;
      for (size_t i = 1; i < a.hypotheses.size(); ++i)
        EXPECT_LE(a.hypotheses[i].confidence, a.hypotheses[i - 1].confidence);
      for (const auto& type : s.expected_action_types) {
        bool proposed = false;
        for (const auto& act : a.actions) proposed |= act.type == type;
        EXPECT_TRUE(proposed) << s.id << " proposes no " << type;
      }
      for (const auto& act : a.actions) {
        EXPECT_FALSE(act.steps.empty()) << act.type;
        EXPECT_FALSE(act.runbook.empty()) << act.type;
        EXPECT_TRUE(act.risk == "low" || act.risk == "medium" || act.risk == "high");
      }
      ASSERT_FALSE(a.evidence.metrics.empty());
    }
  }
}

TEST(AnalyzerTest, NothingDeviatingIsNoIncident) {
  const auto& s = builtin_incident_scenarios()[0];
  for (int i = 0; i < 20; ++i) {
    Analysis a = analyze_scenario(make_control(s, 7, i), 100 + i);
    EXPECT_FALSE(a.anomalous) << a.summary;
    EXPECT_TRUE(a.hypotheses.empty());
  }
}

TEST(AnalyzerTest, VariantsChangeMagnitudeServiceTimingAndAddDistractors) {
  const auto& base = builtin_incident_scenarios()[2];
  auto v1 = make_variant(base, 5, 1), v1again = make_variant(base, 5, 1), v2 = make_variant(base, 5, 2);
  EXPECT_EQ(v1.metrics.size(), v1again.metrics.size());
  EXPECT_EQ(v1.service, v1again.service);
  EXPECT_DOUBLE_EQ(v1.metrics[0].value, v1again.metrics[0].value);  // from (seed, index) alone
  EXPECT_NE(v1.metrics[0].value, v2.metrics[0].value);
  EXPECT_GT(v1.metrics.size(), base.metrics.size());  // distractors
  EXPECT_NE(v1.service, base.service);
  for (size_t i = 0; i < base.metrics.size(); ++i)
    EXPECT_GE(std::abs(v1.metrics[i].value - v1.metrics[i].baseline) / v1.metrics[i].sigma, 4.5);
}

TEST(AnalyzerTest, ValidationMeetsItsBars) {
  auto report = validate_analyzer(builtin_incident_scenarios(), 50, 1);
  for (const auto& s : report.scenarios) {
    EXPECT_TRUE(s.builtin_top1) << s.scenario_id << ": " << s.builtin_top;
    EXPECT_GE(s.top1_rate(), 0.9) << s.scenario_id;
    EXPECT_EQ(s.controls_false, 0) << s.scenario_id;
    EXPECT_EQ(s.variants, 50);
    for (const auto& m : s.misses) ADD_FAILURE() << s.scenario_id << " " << m;
  }
  EXPECT_TRUE(report.passed());
  auto j = report.to_json();
  EXPECT_TRUE(j.at("passed").as_bool());
  EXPECT_EQ(j.at("scenarios").as_array().size(), 5u);
}

}  // namespace
}  // namespace trafficsim::incidents
