// The built-in catalogue as seed 004 states it: five scenarios in the seed's order, with the
// seed's ids, severities, difficulties and figures (each metric's value and baseline, and σ such
// that the value lies the seed's "Nσ" from the baseline).
#include "incidents/builtin.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "incidents/metric_pattern.hpp"

namespace trafficsim::incidents {
namespace {

const MetricSpec& metric(const IncidentScenario& s, const std::string& name) {
  for (const auto& m : s.metrics)
    if (m.name == name) return m;
  ADD_FAILURE() << s.id << " has no metric " << name;
  static const MetricSpec none;
  return none;
}

// value, baseline and the seed's deviation in σ (rounded to one decimal in the seed).
void expect_figures(const MetricSpec& m, double value, double baseline, double sigmas) {
  EXPECT_DOUBLE_EQ(m.value, value) << m.name;
  EXPECT_DOUBLE_EQ(m.baseline, baseline) << m.name;
  EXPECT_NEAR(deviation_sigma(m.value, m.baseline, m.sigma), sigmas, 0.05) << m.name;
}

TEST(IncidentBuiltinTest, TheSeedsFiveScenariosComeInTheSeedsOrder) {
  const auto& all = builtin_incident_scenarios();
  std::vector<std::string> ids;
  for (const auto& s : all) ids.push_back(s.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"memory_leak_gradual", "cpu_spike_traffic_surge",
                                           "latency_spike_database", "pod_crash_loop",
                                           "dependency_failure_timeout"}));
}

TEST(IncidentBuiltinTest, SeveritiesAndDifficultiesAreTheSeeds) {
  struct Row {
    const char* id;
    Severity severity;
    Difficulty difficulty;
  };
  for (const Row& r : {Row{"memory_leak_gradual", Severity::critical, Difficulty::beginner},
                       Row{"cpu_spike_traffic_surge", Severity::high, Difficulty::beginner},
                       Row{"latency_spike_database", Severity::high, Difficulty::intermediate},
                       Row{"pod_crash_loop", Severity::critical, Difficulty::intermediate},
                       Row{"dependency_failure_timeout", Severity::high, Difficulty::advanced}}) {
    const IncidentScenario* s = find_incident_scenario(r.id);
    ASSERT_NE(s, nullptr) << r.id;
    EXPECT_EQ(s->severity, r.severity) << r.id;
    EXPECT_EQ(s->difficulty, r.difficulty) << r.id;
    EXPECT_FALSE(s->name.empty());
    EXPECT_FALSE(s->description.empty());
    EXPECT_FALSE(s->tags.empty()) << r.id;
    EXPECT_GE(s->duration_seconds, 60) << r.id << ": a few minutes";
    EXPECT_LE(s->duration_seconds, 600) << r.id << ": a few minutes";
  }
}

TEST(IncidentBuiltinTest, MemoryLeakIsEightGigabytesAgainstTwoAtFivePointTwoSigma) {
  const IncidentScenario& s = *find_incident_scenario("memory_leak_gradual");
  EXPECT_EQ(s.service, "payment-service");
  EXPECT_EQ(s.duration_seconds, 300);
  EXPECT_EQ(s.tags, (std::vector<std::string>{"resource", "availability"}));
  EXPECT_EQ(s.metrics.size(), 4u) << "the seed's metric_count";
  const MetricSpec& mem = metric(s, "memory_usage_bytes");
  expect_figures(mem, 8e9, 2e9, 5.2);
  EXPECT_EQ(mem.pattern, MetricPattern::gradual);
  expect_figures(metric(s, "heap_allocations"), 15e6, 2e6, 4.8);
  expect_figures(metric(s, "gc_collections_total"), 5000, 500, 4.5);
  EXPECT_EQ(s.expected_root_cause, "memory_leak");
  EXPECT_EQ(s.expected_action_types, (std::vector<std::string>{"restart", "rollback"}));
  ASSERT_EQ(s.context.recent_deployments.size(), 1u) << "the deployment to correlate with";
  EXPECT_EQ(s.context.recent_deployments[0].service, "payment-service");
}

TEST(IncidentBuiltinTest, CpuSpikeFiguresAndCapacityOutcome) {
  const IncidentScenario& s = *find_incident_scenario("cpu_spike_traffic_surge");
  expect_figures(metric(s, "cpu_usage_percent"), 98.5, 45, 6.0);
  expect_figures(metric(s, "http_requests_per_second"), 3500, 800, 5.5);
  expect_figures(metric(s, "http_request_duration_p95_seconds"), 4.2, 0.3, 5.0);
  EXPECT_EQ(metric(s, "cpu_usage_percent").pattern, MetricPattern::spike);
  EXPECT_EQ(metric(s, "cpu_usage_percent").max, 100);
  EXPECT_EQ(s.expected_root_cause, "capacity");
  EXPECT_EQ(s.expected_action_types, (std::vector<std::string>{"scale_out"}));
  EXPECT_TRUE(s.context.recent_deployments.empty()) << "a surge, not a change";
}

TEST(IncidentBuiltinTest, DatabaseLatencyFiguresAndIndexOutcome) {
  const IncidentScenario& s = *find_incident_scenario("latency_spike_database");
  expect_figures(metric(s, "http_request_duration_p95_seconds"), 8.5, 0.4, 6.5);
  expect_figures(metric(s, "db_query_duration_seconds"), 7.2, 0.05, 7.0);
  expect_figures(metric(s, "db_connections_active"), 98, 15, 5.5);
  EXPECT_EQ(metric(s, "db_connections_active").max, 100) << "98 of 100";
  EXPECT_EQ(s.expected_root_cause, "database");
  ASSERT_FALSE(s.expected_action_types.empty());
  EXPECT_EQ(s.expected_action_types[0], "create_index");
}

TEST(IncidentBuiltinTest, CrashLoopRestartsClimbWhileReadyPodsAndTrafficDrop) {
  const IncidentScenario& s = *find_incident_scenario("pod_crash_loop");
  expect_figures(metric(s, "kube_pod_container_restarts_total"), 45, 0, 8.0);
  const MetricSpec& ready = metric(s, "kube_pod_ready_count");
  EXPECT_EQ(ready.baseline, 3);
  EXPECT_EQ(ready.value, 1);
  EXPECT_EQ(ready.pattern, MetricPattern::drop);
  const MetricSpec& rps = metric(s, "http_requests_per_second");
  EXPECT_EQ(rps.baseline, 800);
  EXPECT_EQ(rps.value, 50);
  EXPECT_EQ(rps.pattern, MetricPattern::drop);
  EXPECT_LT(deviation_sigma(rps.value, rps.baseline, rps.sigma), 0) << "a drop is below";
  EXPECT_EQ(s.expected_root_cause, "bad_deployment");
  EXPECT_EQ(s.expected_action_types, (std::vector<std::string>{"rollback"}));
  ASSERT_FALSE(s.context.recent_deployments.empty());
}

TEST(IncidentBuiltinTest, DependencyFailureFiguresAndCircuitBreakerOutcome) {
  const IncidentScenario& s = *find_incident_scenario("dependency_failure_timeout");
  expect_figures(metric(s, "external_api_call_duration_seconds"), 30, 0.5, 8.0);
  expect_figures(metric(s, "http_500_errors"), 850, 5, 7.5);
  const MetricSpec& breaker = metric(s, "circuit_breaker_open");
  EXPECT_EQ(breaker.value, 1) << "open";
  EXPECT_EQ(s.expected_root_cause, "dependency");
  ASSERT_FALSE(s.expected_action_types.empty());
  EXPECT_EQ(s.expected_action_types[0], "circuit_breaker");
  EXPECT_FALSE(s.context.dependencies.empty());
}

TEST(IncidentBuiltinTest, UnknownIdIsNotFound) {
  EXPECT_EQ(find_incident_scenario("no_such_incident"), nullptr);
  EXPECT_EQ(find_incident_scenario(""), nullptr);
}

TEST(IncidentBuiltinTest, EveryBuiltinMetricShowsItsAnomalyAboveTheNoise) {
  // The catalogue as the generator plays it: each metric starts at its baseline and ends at its
  // value (flapping: is at its value right after the onset), the value lies inside its clamps,
  // and the change is at least 4σ, so that a built-in whose σ drowned the anomaly, or whose
  // clamp hid it, would fail here.
  for (const auto& s : builtin_incident_scenarios()) {
    for (const auto& m : s.metrics) {
      const std::string where = s.id + " " + m.name;
      EXPECT_DOUBLE_EQ(pattern_level(m, 0, s.duration_seconds), m.baseline) << where;
      if (m.pattern == MetricPattern::baseline) continue;
      double at =
          m.pattern == MetricPattern::flapping ? m.onset * s.duration_seconds : s.duration_seconds;
      EXPECT_DOUBLE_EQ(pattern_level(m, at, s.duration_seconds), m.value) << where;
      EXPECT_GE(m.value, m.min) << where;
      EXPECT_LE(m.value, m.max) << where;
      EXPECT_GE(std::abs(deviation_sigma(m.value, m.baseline, m.sigma)), 4.0) << where;
    }
  }
}

TEST(IncidentBuiltinTest, ParsedOnceTheSameObjectsEachCall) {
  EXPECT_EQ(&builtin_incident_scenarios(), &builtin_incident_scenarios());
  EXPECT_EQ(find_incident_scenario("pod_crash_loop"), &builtin_incident_scenarios()[3]);
}

}  // namespace
}  // namespace trafficsim::incidents
