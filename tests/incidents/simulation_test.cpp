// The simulation runner: demo mode plays compressed and answers analyzed; realtime answers while
// running with its incident already committed and stops on request; metrics land as gauges on a
// registry (labels service, scenario) or, without one, metrics_injected is false; many at once.
#include "incidents/simulation.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "incidents/builtin.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "telemetry/exposition_parser.hpp"

namespace trafficsim::incidents {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  trafficsim::testing::TempDir dir;
  IncidentStore store{dir.path() / "incidents.sqlite"};
  telemetry::Registry registry;
};

SimulationOptions options(Fixture& f, bool with_registry, double demo_s = 0.3) {
  SimulationOptions o;
  o.store = &f.store;
  o.registry = with_registry ? &f.registry : nullptr;
  o.dashboard_url = "http://127.0.0.1:8000/";
  o.demo_wall_seconds = demo_s;
  o.realtime_tick_seconds = 0.05;
  return o;
}

TEST(SimulationTest, DemoModeAnswersCompletedWithItsIncidentAnalyzed) {
  Fixture f;
  SimulationRunner runner(options(f, true));
  const auto& sc = *find_incident_scenario("latency_spike_database");
  std::vector<std::string> phases;
  std::mutex mu;
  auto r = runner.start(sc, {true, ExecutionMode::demo, 7}, [&](const SimulationRecord& p) {
    std::lock_guard l(mu);
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  });
  EXPECT_EQ(r.status, SimulationStatus::completed);
  EXPECT_TRUE(r.simulation_id.starts_with("sim_")) << r.simulation_id;
  EXPECT_EQ(r.scenario_id, "latency_spike_database");
  EXPECT_TRUE(r.metrics_injected);
  EXPECT_GE(r.hypotheses_count, 1u);
  EXPECT_GE(r.actions_count, 2u);
  EXPECT_DOUBLE_EQ(r.progress, 1.0);
  {
    std::lock_guard l(mu);
    ASSERT_GE(phases.size(), 3u);
    EXPECT_EQ(phases.front(), "injecting");
    EXPECT_EQ(phases.back(), "done");
  }
  auto inc = f.store.get(r.incident_id);
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->source, IncidentSource::simulation);
  EXPECT_EQ(inc->service, "order-service");
  EXPECT_EQ(inc->severity, "high");
  EXPECT_EQ(inc->dashboard_url, "http://127.0.0.1:8000/#incident=" + inc->id);
  ASSERT_FALSE(inc->hypotheses.empty());
  EXPECT_EQ(inc->hypotheses[0].category, "database");
  bool index = false;
  for (const auto& a : inc->actions) index |= a.type == "create_index";
  EXPECT_TRUE(index);
  EXPECT_FALSE(inc->evidence.metrics.empty());
  auto j = r.to_json();
  for (const char* k : {"simulation_id", "scenario_id", "incident_id", "status", "started_at",
                        "hypotheses_count", "actions_count", "metrics_injected"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j.at("status").as_string(), "completed");
}

TEST(SimulationTest, InjectedMetricsAreGaugesWithServiceAndScenarioLabels) {
  Fixture f;
  SimulationRunner runner(options(f, true));
  runner.start(*find_incident_scenario("memory_leak_gradual"), {false, ExecutionMode::demo, 3});
  auto page = telemetry::parse_exposition(f.registry.expose());
  bool found = false;
  for (const auto& s : page.samples) {
    if (s.name != "memory_usage_bytes") continue;
    found = true;
    ASSERT_TRUE(s.label("service"));
    EXPECT_EQ(*s.label("service"), "payment-service");
    EXPECT_EQ(*s.label("scenario"), "memory_leak_gradual");
    EXPECT_GT(s.value, 6e9);  // the end of a gradual climb to 8 GB
  }
  EXPECT_TRUE(found) << f.registry.expose();
  EXPECT_NE(f.registry.expose().find("# TYPE memory_usage_bytes gauge"), std::string::npos);
}

TEST(SimulationTest, WithoutATargetItStillCompletesOnSimulatedValues) {
  Fixture f;
  SimulationRunner runner(options(f, false));
  auto r = runner.start(*find_incident_scenario("pod_crash_loop"), {true, ExecutionMode::demo, 1});
  EXPECT_EQ(r.status, SimulationStatus::completed);
  EXPECT_FALSE(r.metrics_injected);
  EXPECT_EQ(f.store.get(r.incident_id)->hypotheses.at(0).category, "bad_deployment");
}

TEST(SimulationTest, RealtimeAnswersRunningWithTheIncidentCommittedAndStops) {
  Fixture f;
  SimulationRunner runner(options(f, true));
  auto r = runner.start(*find_incident_scenario("dependency_failure_timeout"),
                        {true, ExecutionMode::realtime, 5});
  EXPECT_EQ(r.status, SimulationStatus::running);
  EXPECT_EQ(r.mode, ExecutionMode::realtime);
  ASSERT_TRUE(f.store.get(r.incident_id)) << "the incident exists before the start answers";
  EXPECT_EQ(runner.running(), 1u);
  ASSERT_TRUE(trafficsim::testing::eventually(
      [&] { return runner.get(r.simulation_id)->progress > 0; }, 5s));
  auto stopped = runner.stop(r.simulation_id);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->status, SimulationStatus::stopped);
  EXPECT_LT(stopped->progress, 0.5);
  EXPECT_EQ(runner.running(), 0u);
  auto inc = f.store.get(r.incident_id);
  bool stop_event = false;
  for (const auto& e : inc->timeline) stop_event |= e.message.find("stopped") != std::string::npos;
  EXPECT_TRUE(stop_event);
  EXPECT_FALSE(runner.stop("sim_nope"));
  EXPECT_FALSE(runner.get("sim_nope"));
  EXPECT_EQ(runner.stop(r.simulation_id)->status, SimulationStatus::stopped);  // idempotent
}

TEST(SimulationTest, EightOfTheSameScenarioRunAtOnceAndTooManyAreRefused) {
  Fixture f;
  auto o = options(f, true, 1.0);
  o.max_running = 10;
  SimulationRunner runner(o);
  const auto& sc = *find_incident_scenario("cpu_spike_traffic_surge");
  std::vector<std::future<SimulationRecord>> all;
  for (int i = 0; i < 8; ++i)
    all.push_back(std::async(std::launch::async, [&, i] {
      return runner.start(sc, {true, ExecutionMode::demo, static_cast<uint64_t>(i + 1)});
    }));
  std::set<std::string> ids, incidents;
  for (auto& fut : all) {
    auto r = fut.get();
    EXPECT_EQ(r.status, SimulationStatus::completed);
    ids.insert(r.simulation_id);
    incidents.insert(r.incident_id);
    EXPECT_EQ(f.store.get(r.incident_id)->hypotheses.at(0).category, "capacity");
  }
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(incidents.size(), 8u);  // one incident each, never deduplicated together
  EXPECT_EQ(runner.list().size(), 8u);

  o.max_running = 1;
  SimulationRunner small(o);
  auto first = small.start(sc, {true, ExecutionMode::realtime, 1});
  try {
    small.start(sc, {true, ExecutionMode::realtime, 2});
    ADD_FAILURE() << "a second simulation started past max_running";
  } catch (const SimulationError& e) {
    EXPECT_EQ(e.status, 429);
  }
  small.stop(first.simulation_id);
}

}  // namespace
}  // namespace trafficsim::incidents
