// The incident routes: Alertmanager's webhook opens, deduplicates and resolves incidents; the
// list, get, acknowledge and resolve routes with their errors; the key rule; monitor transitions
// as incidents.
#include <gtest/gtest.h>

#include "control/incident_api.hpp"
#include "control_test_support.hpp"

namespace {

using namespace control_test;
namespace incidents = trafficsim::incidents;

std::string webhook(const std::string& status, const std::string& fingerprint) {
  return R"({"version":"4","groupKey":"{}:{alertname=\"LLMLatencySpike\"}","status":")" + status +
         R"(","receiver":"trafficsim","groupLabels":{"alertname":"LLMLatencySpike"},
  "commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","truncatedAlerts":0,
  "alerts":[{"status":")" + status + R"(","labels":{"alertname":"LLMLatencySpike","service":"llm-classifier",
  "severity":"page","monitor":"llm_latency_spike"},"annotations":{"summary":"LLM latency spike",
  "description":"p95 above 3 s"},"startsAt":"2026-12-02T01:00:00Z","endsAt":")" +
         (status == "resolved" ? "2026-12-02T01:05:00Z" : "0001-01-01T00:00:00Z") +
         R"(","generatorURL":"","fingerprint":")" + fingerprint + R"("}]})";
}

struct IncidentStack {
  explicit IncidentStack(std::string key = {})
      : store(dir.path() / "incidents.sqlite"),
        api(store, "http://127.0.0.1:8000/"),
        stack({}, std::move(key), {}, false,
              [this](trafficsim::control::ControlApi& a) { a.set_incidents(&api); }) {}
  trafficsim::testing::TempDir dir;
  incidents::IncidentStore store;
  trafficsim::control::IncidentApi api;
  DemoStack stack;
};

TEST(IncidentApi, TheWebhookOpensDeduplicatesAndResolvesByFingerprint) {
  IncidentStack s;
  auto first = s.stack.post("/api/v1/alerts/webhook", webhook("firing", "abc123"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(body_of(first).at("received").to_number<int>(), 1);
  auto again = s.stack.post("/api/v1/alerts/webhook", webhook("firing", "abc123"));
  ASSERT_EQ(again.status, 200);
  auto list = json::parse(s.stack.get("/api/v1/incidents").body).as_array();  // a bare array
  ASSERT_EQ(list.size(), 1u);  // the same alert twice is one incident
  const auto& inc = list[0].as_object();
  EXPECT_EQ(inc.at("source").as_string(), "alertmanager");
  EXPECT_EQ(inc.at("title").as_string(), "LLM latency spike");
  EXPECT_EQ(inc.at("service").as_string(), "llm-classifier");
  EXPECT_EQ(inc.at("monitor_id").as_string(), "llm_latency_spike");
  EXPECT_GE(inc.at("timeline").as_array().size(), 2u);
  EXPECT_EQ(inc.at("dashboard_url").as_string(),
            "http://127.0.0.1:8000/#incident=" + std::string(inc.at("id").as_string()));
  auto done = s.stack.post("/api/v1/alerts/webhook", webhook("resolved", "abc123"));
  ASSERT_EQ(done.status, 200);
  EXPECT_EQ(body_of(done).at("resolved").as_array().size(), 1u);
  auto id = std::string(inc.at("id").as_string());
  EXPECT_EQ(body_of(s.stack.get("/api/v1/incidents/" + id)).at("status").as_string(), "resolved");
  // A new firing after the resolution is a new incident.
  s.stack.post("/api/v1/alerts/webhook", webhook("firing", "abc123"));
  EXPECT_EQ(json::parse(s.stack.get("/api/v1/incidents?status=open").body).as_array().size(), 1u);
  EXPECT_EQ(json::parse(s.stack.get("/api/v1/incidents").body).as_array().size(), 2u);
}

TEST(IncidentApi, BadBodiesAndQueriesName400TheFieldUnknownIds404) {
  IncidentStack s;
  auto bad = s.stack.post("/api/v1/alerts/webhook", R"({"version":"3"})");
  EXPECT_EQ(bad.status, 400);
  auto wrong_status = s.stack.post("/api/v1/alerts/webhook", webhook("exploded", "f"));
  EXPECT_EQ(wrong_status.status, 400);
  EXPECT_NE(body_of(wrong_status).at("field").as_string().find("status"), std::string::npos) << wrong_status.body;
  EXPECT_EQ(s.stack.post("/api/v1/alerts/webhook", webhook("firing", "f"), {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(s.stack.get("/api/v1/alerts/webhook").status, 405);
  auto q = s.stack.get("/api/v1/incidents?status=bogus");
  EXPECT_EQ(q.status, 400);
  EXPECT_EQ(body_of(q).at("field").as_string(), "status");
  EXPECT_EQ(body_of(s.stack.get("/api/v1/incidents?since=yesterday")).at("field").as_string(), "since");
  EXPECT_EQ(s.stack.get("/api/v1/incidents/inc-nope").status, 404);
  EXPECT_EQ(s.stack.post("/api/v1/incidents/inc-nope/resolve", "").status, 404);
  EXPECT_EQ(s.stack.post("/api/v1/incidents/x/explode", "").status, 404);
  s.stack.post("/api/v1/alerts/webhook", webhook("firing", "zz"));
  auto id = std::string(json::parse(s.stack.get("/api/v1/incidents").body).at(0).at("id").as_string());
  auto note = s.stack.post("/api/v1/incidents/" + id + "/acknowledge", R"({"note":7})");
  EXPECT_EQ(note.status, 400);
  EXPECT_EQ(body_of(note).at("field").as_string(), "note");
  auto ack = s.stack.post("/api/v1/incidents/" + id + "/acknowledge", R"({"note":"on it"})");
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(body_of(ack).at("status").as_string(), "acknowledged");
  auto res = s.stack.post("/api/v1/incidents/" + id + "/resolve", "");  // no body: fine
  EXPECT_EQ(body_of(res).at("status").as_string(), "resolved");
  EXPECT_EQ(s.stack.post("/api/v1/incidents", "{}").status, 400);  // the quick incident: no service
  EXPECT_EQ(trafficsim::testing::http_call(s.stack.port(), "DELETE", "/api/v1/incidents").status, 405);
}

TEST(IncidentApi, WithAKeyEveryIncidentRouteNeedsIt) {
  IncidentStack s("k3y");
  EXPECT_EQ(s.stack.get("/api/v1/incidents").status, 401);
  EXPECT_EQ(s.stack.post("/api/v1/alerts/webhook", webhook("firing", "a")).status, 401);
  // Alertmanager sends the key as Authorization: Bearer.
  auto ok = s.stack.post("/api/v1/alerts/webhook", webhook("firing", "a"),
                         {{"Content-Type", "application/json"}, {"Authorization", "Bearer k3y"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(s.stack.get("/api/v1/incidents", {{"X-API-Key", "k3y"}}).status, 200);
  DemoStack off;
  EXPECT_EQ(off.get("/api/v1/incidents").status, 404);  // incidents are off
}

TEST(IncidentApi, AMonitorThatAlertsOpensAnIncidentAndItsRecoveryResolvesIt) {
  IncidentStack s;
  trafficsim::monitors::MonitorEvent alert{"llm_latency_spike", "LLM latency spike", "page",
                                           "llm-classifier", trafficsim::monitors::MonitorState::pending,
                                           trafficsim::monitors::MonitorState::alert, 1.8e9, 4400.0,
                                           3000, std::nullopt, "4400 ms over 1m above 3000 ms"};
  auto opened = s.api.on_monitor_event(alert);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->severity, "critical");
  EXPECT_EQ(opened->source, incidents::IncidentSource::monitor);
  ASSERT_EQ(opened->evidence.metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(opened->evidence.metrics[0].value, 4400);
  auto pending = alert;
  pending.to = trafficsim::monitors::MonitorState::pending;
  pending.from = trafficsim::monitors::MonitorState::ok;
  EXPECT_FALSE(s.api.on_monitor_event(pending));
  auto ok = alert;
  ok.from = trafficsim::monitors::MonitorState::alert;
  ok.to = trafficsim::monitors::MonitorState::ok;
  auto resolved = s.api.on_monitor_event(ok);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->id, opened->id);
  EXPECT_EQ(resolved->status, incidents::IncidentStatus::resolved);
}

TEST(IncidentApi, TheSimulatorCatalogueListsFiltersAndDetailsTheSeedsScenarios) {
  IncidentStack s;
  auto all = json::parse(s.stack.get("/api/v1/simulator/scenarios").body).as_array();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].at("id").as_string(), "memory_leak_gradual");
  for (const char* k : {"id", "name", "description", "service", "severity", "difficulty", "tags",
                        "duration_seconds", "metric_count"})
    EXPECT_TRUE(all[0].as_object().contains(k)) << k;
  auto beginners = json::parse(s.stack.get("/api/v1/simulator/scenarios?difficulty=beginner").body).as_array();
  EXPECT_EQ(beginners.size(), 2u);  // memory leak, CPU spike
  auto critical = json::parse(s.stack.get("/api/v1/simulator/scenarios?severity=critical").body).as_array();
  for (const auto& c : critical) EXPECT_EQ(c.at("severity").as_string(), "critical");
  EXPECT_FALSE(critical.empty());
  EXPECT_EQ(body_of(s.stack.get("/api/v1/simulator/scenarios?difficulty=expert")).at("field").as_string(), "difficulty");
  auto one = body_of(s.stack.get("/api/v1/simulator/scenarios/latency_spike_database"));
  EXPECT_EQ(one.at("expected_outcomes").at("root_cause").as_string(), "database");
  EXPECT_FALSE(one.at("metrics").as_array().empty());
  EXPECT_GT(one.at("metrics").at(0).at("deviation_sigma").to_number<double>(), 4);
  EXPECT_EQ(s.stack.get("/api/v1/simulator/scenarios/nope").status, 404);
  EXPECT_EQ(s.stack.post("/api/v1/simulator/scenarios", "{}").status, 405);
}

}  // namespace
