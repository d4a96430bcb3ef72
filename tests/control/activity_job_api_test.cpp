// POST /traffic/start {"scenario": "activity"}: seed 003's demo activity as a job of the control
// plane — started, listed, stopped like traffic jobs, its spans and logs in the manager's buffers.
#include <gtest/gtest.h>

#include "control_test_support.hpp"
#include "support/eventually.hpp"
#include "telemetry/log_buffer.hpp"
#include "telemetry/span.hpp"

namespace {

using namespace control_test;
using trafficsim::testing::eventually;
using namespace std::chrono_literals;

TEST(ActivityJobApi, StartsAsAJobFillsTheDashboardsBuffersAndStops) {
  DemoStack s;
  auto r = s.post("/traffic/start", R"({"scenario":"activity","duration":"1h"})");
  ASSERT_EQ(r.status, 202) << r.body;
  auto o = body_of(r);
  EXPECT_EQ(o.at("status").as_string(), "starting");
  EXPECT_EQ(o.at("kind").as_string(), "activity");
  EXPECT_EQ(o.at("scenario").as_string(), "activity");
  const std::string id(o.at("jobId").as_string());
  // The first tick comes at once: 3-6 activities, their spans and logs in the buffers.
  const auto& opts = s.manager->options();
  ASSERT_TRUE(eventually([&] { return opts.activity_spans->total_added() >= 3; }, 10s));
  EXPECT_GE(opts.activity_logs->last_seq(), 3u);
  EXPECT_EQ(opts.activity_spans->recent(1).at(0).attributes.at("traffic.type").as_string(),
            "activity");
  EXPECT_EQ(body_of(s.get("/traffic/status/" + id)).at("status").as_string(), "running");
  EXPECT_EQ(s.get("/traffic/report/" + id).status, 409) << "no report while it runs";

  auto stop = s.post("/traffic/stop/" + id, "");
  ASSERT_EQ(stop.status, 200) << stop.body;
  ASSERT_TRUE(eventually(
      [&] { return body_of(s.get("/traffic/status/" + id)).at("status") == "cancelled"; }, 10s));
  auto rep = s.get("/traffic/report/" + id);
  ASSERT_EQ(rep.status, 200) << rep.body;
  auto report = body_of(rep);
  EXPECT_EQ(report.at("kind").as_string(), "activity");
  EXPECT_TRUE(report.at("stopped").as_bool());
  EXPECT_EQ(report.at("spans").to_number<uint64_t>(), opts.activity_spans->total_added());
}

TEST(ActivityJobApi, RunsToItsDurationAndIsListedAmongTheScenarios) {
  DemoStack s;
  const auto scenarios = body_of(s.get("/traffic/scenarios")).at("scenarios").as_array();
  EXPECT_TRUE(std::any_of(scenarios.begin(), scenarios.end(), [](const json::value& v) {
    return v.at("name") == "activity" && !v.at("card").as_bool();
  }));
  const std::string id = s.start(R"({"scenario":"activity","duration":1})");
  ASSERT_TRUE(eventually(
      [&] { return body_of(s.get("/traffic/status/" + id)).at("status") == "completed"; }, 15s));
  auto report = body_of(s.get("/traffic/report/" + id));
  EXPECT_EQ(report.at("ticks").to_number<uint64_t>(), 1u) << "one tick in 1 s of 2 s ticks";
  EXPECT_FALSE(report.at("stopped").as_bool());
  EXPECT_EQ(s.get("/traffic/report/" + id + "?format=html").status, 400) << "JSON only";
}

TEST(ActivityJobApi, FieldsOfTrafficJobsAreRefusedNamingTheField) {
  DemoStack s;
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"scenario":"activity","maxRps":10})", "maxRps"},
           {R"({"scenario":"activity","endpoints":["get"]})", "endpoints"},
           {R"({"scenario":"activity","timeScale":60})", "timeScale"}}) {
    auto r = s.post("/traffic/start", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(field), std::string::npos) << r.body;
  }
}

}  // namespace
