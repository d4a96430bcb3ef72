// POST /api/v1/incidents' body: the seed's quick incident parsed into the analyzer's input, and
// every bad field named.
#include "incidents/quick_incident.hpp"

#include <gtest/gtest.h>

namespace trafficsim::incidents {
namespace {

TEST(QuickIncidentTest, ParsesMetricsAndContextAndTheAnalyzerExplainsThem) {
  auto parsed = parse_quick_incident(R"({
    "service": "order-service", "title": "Orders are slow", "severity": "high",
    "metrics": [
      {"name": "db_query_duration_seconds", "value": 7.2, "baseline": 0.05, "deviation_sigma": 7},
      {"name": "db_connections_active", "value": 98, "baseline": 15, "sigma": 15, "unit": "connections"},
      {"name": "cpu_usage_percent", "value": 41, "baseline": 40, "sigma": 3}
    ],
    "context": {"recent_deployments": [{"service": "order-service", "version": "v3.1.0",
                "minutes_ago": 30, "change": "a new query without an index"}],
                "dependencies": ["postgres"], "notes": ["campaign"]}})");
  ASSERT_TRUE(std::holds_alternative<QuickIncident>(parsed)) << std::get<http::ApiError>(parsed).message;
  const auto& q = std::get<QuickIncident>(parsed);
  EXPECT_EQ(q.input.service, "order-service");
  ASSERT_EQ(q.input.metrics.size(), 3u);
  EXPECT_NEAR(q.input.metrics[0].deviation(), 7, 1e-9);
  EXPECT_EQ(q.input.context.recent_deployments.at(0).version, "v3.1.0");
  Analysis a = analyze(q.input);
  ASSERT_TRUE(a.anomalous);
  EXPECT_EQ(a.hypotheses.at(0).category, "database");
  EXPECT_EQ(a.evidence.metrics.size(), 2u);  // cpu did not deviate
}

TEST(QuickIncidentTest, EveryBadFieldIsNamed) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"title":"t","metrics":[{"name":"x","value":1,"baseline":0,"sigma":1}]})", "service"},
      {R"({"service":"s","metrics":[{"name":"x","value":1,"baseline":0,"sigma":1}]})", "title"},
      {R"({"service":"s","title":"t"})", "metrics"},
      {R"({"service":"s","title":"t","metrics":[]})", "metrics"},
      {R"({"service":"s","title":"t","metrics":[{"value":1,"baseline":0}]})", "metrics[0].name"},
      {R"({"service":"s","title":"t","metrics":[{"name":"x","value":"high","baseline":0}]})",
       "metrics[0].value"},
      {R"({"service":"s","title":"t","metrics":[{"name":"x","value":1,"baseline":0,"sigma":-1}]})",
       "metrics[0].sigma"},
      {R"({"service":"s","title":"t","metrics":[{"name":"x","value":1,"baseline":0,"sigma":1,"deviation_sigma":2}]})",
       "metrics[0].sigma"},
      {R"({"service":"s","title":"t","metrics":[{"name":"x","value":1,"baseline":0,"colour":1}]})",
       "metrics[0].colour"},
      {R"({"service":"s","title":"t","severity":"apocalyptic","metrics":[{"name":"x","value":1,"baseline":0}]})",
       "severity"},
      {R"({"service":"s","title":"t","metrics":[{"name":"x","value":1,"baseline":0}],"context":{"recent_deployments":[{"minutes_ago":-3}]}})",
       "context.recent_deployments[0].minutes_ago"},
      {R"({"service":"s","title":"t","metrics":[{"name":"x","value":1,"baseline":0}],"context":{"dependencies":[1]}})",
       "context.dependencies[0]"},
      {R"({"service":"s","title":"t","extra":1,"metrics":[{"name":"x","value":1,"baseline":0}]})", "extra"},
      {R"([1,2])", "body"},
      {R"({"service":)", "body"},
  };
  for (const auto& c : cases) {
    auto r = parse_quick_incident(c.body);
    ASSERT_TRUE(std::holds_alternative<http::ApiError>(r)) << c.body;
    const auto& e = std::get<http::ApiError>(r);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.field, c.field) << c.body << ": " << e.message;
  }
  EXPECT_EQ(std::get<http::ApiError>(parse_quick_incident(std::string(300 << 10, ' '))).status, 413);
}

}  // namespace
}  // namespace trafficsim::incidents
