// A demo script as a sequence of traffic jobs: phases in order, each announced, every phase's
// result kept, a stop that ends the current phase and skips the rest.
#include "jobs/demo_script_job.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "support/test_server.hpp"

namespace trafficsim::jobs {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;

scenarios::DemoScript script_of(const std::string& yaml) {
  return scenarios::load_demo_script(scenarios::Source{"script.yaml", yaml, false});
}

const char* kTwoPhases =
    "name: two\nphases:\n"
    "  - title: Healthy baseline with a title long enough to need wrapping in a table\n"
    "    mode: normal_traffic\n    rate: 20\n    duration: 1s\n"
    "  - title: Errors\n    mode: error_injection\n    rate: 20\n    duration: 1s\n";

struct Recorder : DemoScriptObserver {
  std::vector<std::string> events;
  std::atomic<int> snapshots{0};
  void phase_started(const PhaseSummary& row, const scenarios::Phase&, const TrafficJob& job) override {
    events.push_back("start " + std::to_string(row.index) + " " + job.plan().streams[0].name);
  }
  void snapshot(const PhaseSummary&, const TrafficSnapshot&) override { ++snapshots; }
  void phase_ended(const PhaseSummary& row, const TrafficResult&) override {
    events.push_back("end " + std::to_string(row.index));
  }
};

TEST(DemoScriptJobTest, RunsThePhasesInOrderAndSummarisesEach) {
  TestServer server;
  auto script = script_of(kTwoPhases);
  auto phases = load_phases(script);
  DemoScriptSettings s;
  s.url = server.url("");
  s.time_scale = 2;  // each phase lasts 0.5 s
  DemoScriptJob job(script, phases, s);
  EXPECT_DOUBLE_EQ(job.total_s(), 1.0);
  Recorder rec;
  job.set_observer(&rec);
  DemoScriptResult r = job.run();
  ASSERT_EQ(rec.events.size(), 4u);
  EXPECT_EQ(rec.events[0].rfind("start 0 ", 0), 0u);
  EXPECT_EQ(rec.events[1], "end 0");
  EXPECT_EQ(rec.events[2].rfind("start 1 ", 0), 0u);
  EXPECT_EQ(rec.events[3], "end 1");
  ASSERT_EQ(r.phases.size(), 2u);
  EXPECT_TRUE(r.phases[0].ran && r.phases[1].ran);
  EXPECT_EQ(r.phases[0].requests, 10u);  // 20/s for 0.5 s
  EXPECT_EQ(r.phases[0].traffic, "normal_traffic @ 20/s");
  EXPECT_DOUBLE_EQ(r.phases[0].duration_s, 0.5);
  ASSERT_EQ(r.reports.size(), 2u);
  EXPECT_EQ(r.reports[1].at("phase").as_object().at("title").as_string(), "Errors");
  EXPECT_FALSE(r.stopped);
  EXPECT_FALSE(r.failed_phase);
}

TEST(DemoScriptJobTest, StopEndsTheCurrentPhaseKeepsItsResultAndSkipsTheRest) {
  TestServer server;
  auto script = script_of(
      "phases:\n  - mode: normal_traffic\n    rate: 50\n    duration: 60s\n"
      "  - mode: normal_traffic\n    rate: 50\n    duration: 60s\n");
  DemoScriptSettings s;
  s.url = server.url("");
  DemoScriptJob job(script, load_phases(script), s);
  job.start();
  ASSERT_TRUE(server.wait_for_requests(10, 20s));
  job.stop();
  DemoScriptResult r = job.wait();
  EXPECT_TRUE(r.stopped);
  ASSERT_EQ(r.phases.size(), 2u);
  EXPECT_TRUE(r.phases[0].ran);
  EXPECT_GE(r.phases[0].requests, 10u);
  EXPECT_FALSE(r.phases[1].ran);
  EXPECT_EQ(r.reports.size(), 1u);
}

TEST(DemoScriptJobTest, APhaseParameterTheScenarioNeverReadsIsRefusedBeforeAnythingRuns) {
  auto script = script_of("phases:\n  - scenario: peak\n    rate: 5\n    duration: 1s\n");
  try {
    load_phases(script);
    FAIL() << "expected a ScenarioError";
  } catch (const scenarios::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("script.yaml:2: phases[0]: 'rate' has no effect"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace trafficsim::jobs
