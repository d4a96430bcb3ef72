// The traffic job as the CLI and the control plane drive it: snapshots to subscribers every
// 500 ms, a stop that keeps everything measured, thresholds evaluated in the result.
#include "jobs/traffic_job.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "scenarios/builtin.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

namespace trafficsim::jobs {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;
using testing::TestServerOptions;

scenarios::Scenario scenario_of(const std::string& yaml) {
  return scenarios::load_scenario(scenarios::Source{"job.yaml", yaml, false}, {});
}

std::string steady(double rate, const std::string& duration, const std::string& extra = "") {
  return "name: steady\nduration: " + duration + "\nstreams:\n  - name: s\n    rate: " +
         std::to_string(rate) + "\n    requests: [{path: /}]\n" + extra;
}

uint64_t count(const boost::json::object& o, const char* key) {
  return o.at(key).to_number<uint64_t>();
}

bool readable(int fd, std::chrono::milliseconds within) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(within.count())) == 1;
}

TEST(TrafficJobTest, PublishesASnapshotEvery500msToEverySubscriber) {
  TestServer server;
  TrafficJobSettings s;
  s.url = server.url("");
  TrafficJob job(scenario_of(steady(50, "2s")), {}, s);
  std::mutex mu;
  std::vector<double> a_times;
  int b_calls = 0;
  job.subscribe([&](const TrafficSnapshot& snap) {
    std::lock_guard lock(mu);
    a_times.push_back(snap.engine.elapsed_s);
  });
  uint64_t b = job.subscribe([&](const TrafficSnapshot&) {
    std::lock_guard lock(mu);
    ++b_calls;
  });
  job.unsubscribe(b);
  EXPECT_EQ(job.state(), JobState::created);
  TrafficResult r = job.run();
  EXPECT_EQ(job.state(), JobState::finished);
  EXPECT_FALSE(r.stopped);
  // Snapshots come in order, to every subscriber still subscribed.
  ASSERT_GE(a_times.size(), 2u);  // the 500 ms cadence itself is the engine's (engine tests)
  for (size_t i = 1; i < a_times.size(); ++i) EXPECT_GT(a_times[i], a_times[i - 1]);
  EXPECT_EQ(b_calls, 0) << "an unsubscribed function is never called";
  ASSERT_TRUE(job.latest());
  EXPECT_EQ(job.latest()->engine.total.requests, 100u);
  EXPECT_EQ(count(r.report, "requests"), 100u);
  EXPECT_EQ(r.report.at("scenario").as_object().at("name").as_string(), "steady");
}

TEST(TrafficJobTest, StopEndsIssuingAndKeepsEverythingMeasured) {
  TestServer server;
  TrafficJobSettings s;
  s.url = server.url("");
  TrafficJob job(scenario_of(steady(100, "60s")), {}, s);
  std::atomic<uint64_t> seen{0};
  job.subscribe([&](const TrafficSnapshot& snap) { seen = snap.engine.total.requests; });
  job.start();
  EXPECT_EQ(job.state(), JobState::running);
  ASSERT_TRUE(server.wait_for_requests(20, 20s));
  job.stop();
  job.stop();  // idempotent
  ASSERT_TRUE(readable(job.done_fd(), 30s)) << "a stopped job ends";
  TrafficResult r = job.wait();
  EXPECT_TRUE(r.stopped);
  EXPECT_TRUE(r.report.at("meta").as_object().at("stopped_early").as_bool());
  uint64_t requests = count(r.report, "requests");
  EXPECT_GE(requests, 20u);
  EXPECT_LT(requests, 6000u) << "issuing ended long before the plan's 60 s";
  // Every request sent was answered and counted: nothing in flight is lost.
  EXPECT_EQ(requests, server.requests());
}

TEST(TrafficJobTest, AJobStoppedBeforeItRunsEndsAtOnceWithAnEmptyCompleteReport) {
  TestServer server;
  TrafficJobSettings s;
  s.url = server.url("");
  TrafficJob job(scenario_of(steady(100, "60s")), {}, s);
  job.stop();
  TrafficResult r = job.run();
  EXPECT_TRUE(r.stopped);
  EXPECT_LT(count(r.report, "requests"), 10u);
}

TEST(TrafficJobTest, TheResultCarriesTheEvaluatedThresholds) {
  TestServerOptions o;
  o.status = 500;
  TestServer server(o);
  TrafficJobSettings s;
  s.url = server.url("");
  TrafficJob job(scenario_of(steady(20, "1s",
                                    "    thresholds: [\"error_rate < 1%\", \"requests >= 5\"]\n")),
                 {}, s);
  TrafficResult r = job.run();
  ASSERT_EQ(r.thresholds.size(), 2u);
  EXPECT_FALSE(r.thresholds[0].passed) << "every response is a 500";
  EXPECT_TRUE(r.thresholds[1].passed);
  EXPECT_FALSE(r.thresholds_passed());
  EXPECT_EQ(count(r.report, "requests"), 20u);
}

TEST(TrafficJobTest, AnUnbuildableScenarioFailsAtConstructionAndAnUnreachableTargetAtRun) {
  TrafficJobSettings s;
  s.url = "http://127.0.0.1:1";  // refuses connections
  TrafficJob job(scenario_of(steady(10, "1s")), {}, s);
  TrafficResult r = job.run();  // connect errors are results, not exceptions
  EXPECT_EQ(r.report.at("errors").as_object().at("connect").to_number<uint64_t>(), 10u);
  TrafficJobSettings bad;
  bad.url = "http://no-such-host.invalid";
  TrafficJob unreachable(scenario_of(steady(10, "1s")), {}, bad);
  unreachable.start();
  EXPECT_THROW(unreachable.wait(), load::StartError);
  EXPECT_EQ(unreachable.state(), JobState::failed);
}

TEST(TrafficJobTest, RunsOnce) {
  TestServer server;
  TrafficJobSettings s;
  s.url = server.url("");
  TrafficJob job(scenario_of(steady(10, "100ms")), {}, s);
  job.run();
  EXPECT_THROW(job.run(), std::logic_error);
  EXPECT_THROW(job.start(), std::logic_error);
}

}  // namespace
}  // namespace trafficsim::jobs

namespace trafficsim::jobs {
namespace {

// Without a URL the job starts the demo target itself (on the job's demo clock for Black Friday)
// and stops it with the job.
TEST(TrafficJobBuiltinTargetTest, WithoutAUrlTheJobStartsTheDemoTargetAndStopsItAfter) {
  std::string dir = testing::temp_dir();
  TrafficJobSettings s;
  s.builtin.data_dir = dir;
  s.builtin.catalog_rows = 2000;
  bool announced = false;
  s.builtin.on_builtin_start = [&] { announced = true; };
  s.time_scale = 60;
  std::string url;
  {
    auto sc = scenarios::load_scenario(*scenarios::builtin_source("blackfriday"), {});
    s.duration = std::chrono::seconds(1);
    TrafficJob job(sc, {}, s);
    EXPECT_TRUE(announced);
    EXPECT_TRUE(job.builtin_target());
    url = job.url();
    EXPECT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
    ASSERT_TRUE(job.clock());
    EXPECT_DOUBLE_EQ(job.clock()->time_scale, 60);
    TrafficResult r = job.run();
    EXPECT_GT(r.report.at("requests").to_number<uint64_t>(), 0u);
    EXPECT_EQ(r.report.at("errors").at("connect").to_number<uint64_t>(), 0u);
    EXPECT_TRUE(r.report.contains("traffic_stats"));
  }
  // The job's end stopped its target: nothing listens there any more.
  TrafficJobSettings after;
  after.url = url;
  TrafficJob probe(scenario_of(steady(5, "200ms")), {}, after);
  TrafficResult r = probe.run();
  EXPECT_EQ(r.report.at("errors").at("connect").to_number<uint64_t>(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace trafficsim::jobs
