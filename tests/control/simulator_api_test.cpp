// The simulator's REST routes (the seed's shapes): start in demo mode answers completed after the
// analysis, realtime answers running, the simulation's status and stop, metrics injected on the
// target's /metrics, the quick incident; every error (400 naming the field, 404, 405, 401, 429).
#include <gtest/gtest.h>

#include "control/incident_api.hpp"
#include "control_test_support.hpp"
#include "incidents/simulation.hpp"

namespace {

using namespace control_test;
namespace incidents = trafficsim::incidents;

struct SimStack {
  explicit SimStack(std::string key = {}, size_t max_running = 32)
      : store(dir.path() / "incidents.sqlite"),
        api(store, "http://127.0.0.1:8000"),
        stack({}, key, {}, false, [this, max_running](trafficsim::control::ControlApi& a) {
          incidents::SimulationOptions o;
          o.store = &store;
          o.registry = &stack_registry();
          o.dashboard_url = "http://127.0.0.1:8000";
          o.demo_wall_seconds = 0.3;
          o.max_running = max_running;
          runner = std::make_unique<incidents::SimulationRunner>(o);
          api.set_simulations(runner.get());
          a.set_incidents(&api);
        }) {}
  ~SimStack() { runner.reset(); }
  trafficsim::telemetry::Registry& stack_registry() { return stack.service->registry(); }
  trafficsim::testing::TempDir dir;
  incidents::IncidentStore store;
  trafficsim::control::IncidentApi api;
  std::unique_ptr<incidents::SimulationRunner> runner;
  DemoStack stack;
};

TEST(SimulatorApi, StartInDemoModeAnswersCompletedWithTheSeedsFields) {
  SimStack s;
  auto r = s.stack.post("/api/v1/simulator/scenarios/memory_leak_gradual/start",
                        R"({"auto_analyze": true, "execution_mode": "demo"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = body_of(r);
  EXPECT_TRUE(std::string(b.at("simulation_id").as_string()).starts_with("sim_"));
  EXPECT_EQ(b.at("scenario_id").as_string(), "memory_leak_gradual");
  EXPECT_EQ(b.at("status").as_string(), "completed");
  EXPECT_TRUE(b.at("metrics_injected").as_bool());
  EXPECT_GE(b.at("hypotheses_count").to_number<int>(), 1);
  EXPECT_GE(b.at("actions_count").to_number<int>(), 2);
  EXPECT_TRUE(b.contains("started_at"));
  // Its incident is readable at once, analyzed.
  auto inc = body_of(s.stack.get("/api/v1/incidents/" + std::string(b.at("incident_id").as_string())));
  EXPECT_EQ(inc.at("source").as_string(), "simulation");
  EXPECT_EQ(inc.at("hypotheses").as_array().at(0).at("category").as_string(), "memory_leak");
  // The injected series are on the target's /metrics.
  auto metrics = s.stack.get("/metrics");
  EXPECT_NE(metrics.body.find(
                "memory_usage_bytes{service=\"payment-service\",scenario=\"memory_leak_gradual\"}"),
            std::string::npos)
      << metrics.body.substr(0, 400);
  // An empty body is the defaults (demo, analyzed).
  auto d = s.stack.post("/api/v1/simulator/scenarios/pod_crash_loop/start", "");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(body_of(d).at("execution_mode").as_string(), "demo");
}

TEST(SimulatorApi, RealtimeRunsUntilStoppedAndListsSimulations) {
  SimStack s;
  auto r = s.stack.post("/api/v1/simulator/scenarios/cpu_spike_traffic_surge/start",
                        R"({"execution_mode": "realtime"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = body_of(r);
  EXPECT_EQ(b.at("status").as_string(), "running");
  std::string id(b.at("simulation_id").as_string());
  auto got = body_of(s.stack.get("/api/v1/simulator/simulations/" + id));
  EXPECT_EQ(got.at("status").as_string(), "running");
  auto list = json::parse(s.stack.get("/api/v1/simulator/simulations").body);
  ASSERT_TRUE(list.is_array());
  EXPECT_EQ(list.as_array().size(), 1u);
  auto stop = s.stack.post("/api/v1/simulator/simulations/" + id + "/stop", "");
  ASSERT_EQ(stop.status, 200) << stop.body;
  EXPECT_EQ(body_of(stop).at("status").as_string(), "stopped");
  EXPECT_EQ(body_of(s.stack.get("/api/v1/simulator/simulations/" + id)).at("status").as_string(),
            "stopped");
}

TEST(SimulatorApi, BadRequestsNameTheFieldUnknownIds404) {
  SimStack s;
  auto field = [&](const HttpResult& r) { return std::string(body_of(r).at("field").as_string()); };
  const std::string start = "/api/v1/simulator/scenarios/memory_leak_gradual/start";
  auto mode = s.stack.post(start, R"({"execution_mode": "fast"})");
  EXPECT_EQ(mode.status, 400);
  EXPECT_EQ(field(mode), "execution_mode");
  auto aa = s.stack.post(start, R"({"auto_analyze": "yes"})");
  EXPECT_EQ(aa.status, 400);
  EXPECT_EQ(field(aa), "auto_analyze");
  auto unknown = s.stack.post(start, R"({"speed": 2})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(field(unknown), "speed");
  EXPECT_EQ(field(s.stack.post(start, "{nope")), "body");
  EXPECT_EQ(s.stack.post(start, "{}", {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(s.stack.get(start).status, 405);
  EXPECT_EQ(s.stack.post("/api/v1/simulator/scenarios/nope/start", "{}").status, 404);
  EXPECT_EQ(s.stack.get("/api/v1/simulator/simulations/sim_nope").status, 404);
  EXPECT_EQ(s.stack.post("/api/v1/simulator/simulations/sim_nope/stop", "").status, 404);
  EXPECT_EQ(s.stack.post("/api/v1/simulator/simulations/sim_nope/explode", "").status, 404);
  EXPECT_EQ(s.stack.post("/api/v1/simulator/simulations", "{}").status, 405);
}

TEST(SimulatorApi, TooManyRunningIs429WithRetryAfter) {
  SimStack s({}, 1);
  const std::string body = R"({"execution_mode": "realtime"})";
  ASSERT_EQ(s.stack.post("/api/v1/simulator/scenarios/memory_leak_gradual/start", body).status, 200);
  auto second = s.stack.post("/api/v1/simulator/scenarios/memory_leak_gradual/start", body);
  EXPECT_EQ(second.status, 429) << second.body;
}

TEST(SimulatorApi, EveryRouteNeedsTheKey) {
  SimStack s("k3y");
  EXPECT_EQ(s.stack.post("/api/v1/simulator/scenarios/memory_leak_gradual/start", "{}").status, 401);
  EXPECT_EQ(s.stack.get("/api/v1/simulator/simulations").status, 401);
  EXPECT_EQ(s.stack.post("/api/v1/incidents", "{}").status, 401);
  auto ok = s.stack.post("/api/v1/simulator/scenarios/memory_leak_gradual/start", "{}",
                         {{"Content-Type", "application/json"}, {"Authorization", "Bearer k3y"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(SimulatorApi, TheQuickIncidentIsOpenedAnalyzedAndReturned) {
  SimStack s;
  auto r = s.stack.post("/api/v1/incidents", R"({
    "service": "checkout-service", "title": "Payments time out",
    "metrics": [
      {"name": "external_api_call_duration_seconds", "value": 30, "baseline": 0.5, "deviation_sigma": 8},
      {"name": "http_500_errors", "value": 850, "baseline": 5, "deviation_sigma": 7.5}],
    "context": {"dependencies": ["payment-gateway"]}})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto b = body_of(r);
  EXPECT_EQ(b.at("status").as_string(), "open");
  EXPECT_EQ(b.at("service").as_string(), "checkout-service");
  EXPECT_EQ(b.at("hypotheses").as_array().at(0).at("category").as_string(), "dependency");
  EXPECT_FALSE(b.at("actions").as_array().empty());
  EXPECT_EQ(b.at("dashboard_url").as_string(),
            "http://127.0.0.1:8000/#incident=" + std::string(b.at("id").as_string()));
  auto bad = s.stack.post("/api/v1/incidents", R"({"service": "s", "title": "t", "metrics": [{"name": "x"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body_of(bad).at("field").as_string(), "metrics[0].value");
}

}  // namespace
