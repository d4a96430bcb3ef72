// GET /traffic/stream/{id}: format, 500 ms cadence, history replay with the original ids,
// Last-Event-ID resume, the final event then the end, a client that goes, bounded history.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "control_test_support.hpp"
#include "jobs/demo_script_job.hpp"
#include "scenarios/builtin.hpp"
#include "scenarios/demo_script.hpp"
#include "support/eventually.hpp"

namespace {

using namespace control_test;
using trafficsim::testing::eventually;
using namespace std::chrono_literals;

TEST(ControlStream, EventsAreCompactJsonWithIncreasingIdsEvery500ms) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"4s"})");
  SseReader r(s.port(), "/traffic/stream/" + id);
  const auto& evs = r.read(1000, 12s);  // to the end of the stream
  ASSERT_TRUE(r.ended()) << r.raw();
  EXPECT_NE(r.raw().find("text/event-stream"), std::string::npos);
  EXPECT_NE(r.raw().find("retry: 1000"), std::string::npos);
  ASSERT_GE(evs.size(), 7u) << r.raw();  // ~8 stats + final
  uint64_t prev = 0;
  std::vector<double> gaps;
  for (size_t i = 0; i < evs.size(); ++i) {
    uint64_t n = std::stoull(evs[i].id);
    EXPECT_GT(n, prev);
    prev = n;
    auto v = json::parse(evs[i].data);  // one line, valid JSON
    EXPECT_EQ(evs[i].data.find('\n'), std::string::npos);
    if (i + 1 < evs.size()) {
      EXPECT_EQ(evs[i].name, "stats");
      auto& o = v.as_object();
      for (const char* k : {"totalRequests", "successfulRequests", "failedRequests", "avgLatency",
                            "p50Latency", "p90Latency", "p95Latency", "p99Latency", "p999Latency",
                            "currentRps", "targetRps", "errorRatio", "streams"})
        EXPECT_TRUE(o.contains(k)) << k;
      if (i > 0)
        gaps.push_back(std::chrono::duration<double, std::milli>(evs[i].at - evs[i - 1].at).count());
    }
  }
  EXPECT_EQ(evs.back().name, "final");
  auto fin = json::parse(evs.back().data).as_object();
  EXPECT_EQ(fin.at("status").as_string(), "completed");
  EXPECT_GE(fin.at("stats").at("totalRequests").to_number<double>(), 70);
  ASSERT_FALSE(gaps.empty());
  std::sort(gaps.begin(), gaps.end());
  double median = gaps[gaps.size() / 2];
  EXPECT_GT(median, 400);
  EXPECT_LT(median, 600);
}

TEST(ControlStream, AFreshConnectReplaysTheHistoryLastEventIdResumes) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1m"})");
  SseReader first(s.port(), "/traffic/stream/" + id);
  const auto& live = first.read(4, 10s);
  ASSERT_GE(live.size(), 4u);
  first.close();
  // A reload: the whole history again, with the original ids, then live.
  SseReader again(s.port(), "/traffic/stream/" + id);
  const auto& replay = again.read(5, 10s);
  ASSERT_GE(replay.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(replay[i].id, live[i].id);
    EXPECT_EQ(replay[i].data, live[i].data);
  }
  // A reconnect after id 3: the next event is 4.
  SseReader resumed(s.port(), "/traffic/stream/" + id, "3");
  const auto& rest = resumed.read(1, 10s);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest[0].id, "4");
  // A bad Last-Event-ID is a 400 naming it.
  auto bad = s.get("/traffic/stream/" + id, {{"Last-Event-ID", "x1"}});
  EXPECT_EQ(bad.status, 400);
  s.post("/traffic/stop/" + id, "");
}

TEST(ControlStream, AFinishedJobsStreamIsHistoryThenFinalThenTheEnd) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1s"})");
  ASSERT_TRUE(eventually([&] { return !s.manager->find(id)->active(); }, 10s));
  SseReader r(s.port(), "/traffic/stream/" + id);
  const auto& evs = r.read(100, 5s);
  EXPECT_TRUE(r.ended());
  ASSERT_GE(evs.size(), 2u);
  EXPECT_EQ(evs.front().id, "1");
  EXPECT_EQ(evs.back().name, "final");
}

TEST(ControlStream, AStoppedJobsFinalEventSaysCancelled) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1m"})");
  SseReader r(s.port(), "/traffic/stream/" + id);
  ASSERT_GE(r.read(2, 10s).size(), 2u);
  s.post("/traffic/stop/" + id, "");
  const auto& evs = r.read(1000, 10s);
  ASSERT_TRUE(r.ended());
  EXPECT_EQ(evs.back().name, "final");
  EXPECT_EQ(json::parse(evs.back().data).at("status").as_string(), "cancelled");
}

// A shutdown (`trafficsim demo` on SIGTERM) ends every job, then stops the server, whose io
// threads stop at once: without flush_streams between the two, a stream's final event or its
// terminating chunk could still be queued and was cut (tests/cli/fault_injection_test.cpp).
TEST(ControlStream, AServerStoppedAfterFlushStreamsHasEndedEveryStream) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1m"})");
  std::vector<std::unique_ptr<SseReader>> readers;
  for (int i = 0; i < 8; ++i) {
    readers.push_back(std::make_unique<SseReader>(s.port(), "/traffic/stream/" + id));
    ASSERT_GE(readers.back()->read(1, 10s).size(), 1u);
  }
  s.manager->stop_all();
  s.manager->wait_all();
  EXPECT_TRUE(s.manager->flush_streams(2s));
  s.service->stop();
  for (auto& r : readers) {
    const auto& evs = r->read(100000, 5s);
    ASSERT_FALSE(evs.empty());
    EXPECT_EQ(evs.back().name, "final");
    EXPECT_NE(r->raw().find("\r\n0\r\n\r\n"), std::string::npos) << "no terminating chunk";
  }
}

TEST(ControlStream, ARunningJobServesAtMostItsCapOfStreamsAndAClosedOneMakesRoom) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1m"})");
  auto job = s.manager->find(id);
  std::vector<std::unique_ptr<SseReader>> readers;
  for (size_t i = 0; i < trafficsim::control::ControlJob::kMaxSubscribers; ++i) {
    readers.push_back(std::make_unique<SseReader>(s.port(), "/traffic/stream/" + id));
    ASSERT_GE(readers.back()->read(1, 10s).size(), 1u) << i;
  }
  EXPECT_EQ(job->subscriber_count(), trafficsim::control::ControlJob::kMaxSubscribers);
  auto refused = s.get("/traffic/stream/" + id);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(body_of(refused).at("error").as_string(), "too_many_subscribers");
  EXPECT_EQ(refused.header("Retry-After").value_or(""), "1");
  readers.front()->close();
  ASSERT_TRUE(eventually([&] {
    return job->subscriber_count() < trafficsim::control::ControlJob::kMaxSubscribers;
  }, 5s));
  SseReader again(s.port(), "/traffic/stream/" + id);
  EXPECT_GE(again.read(1, 10s).size(), 1u);
  s.post("/traffic/stop/" + id, "");
}

TEST(ControlStream, AClientThatGoesIsForgotten) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1m"})");
  auto job = s.manager->find(id);
  {
    SseReader a(s.port(), "/traffic/stream/" + id);
    SseReader b(s.port(), "/traffic/stream/" + id);
    a.read(1, 10s);
    b.read(1, 10s);
    EXPECT_TRUE(eventually([&] { return job->subscriber_count() == 2; }, 5s));
  }
  EXPECT_TRUE(eventually([&] { return job->subscriber_count() == 0; }, 5s));
  s.post("/traffic/stop/" + id, "");
}

TEST(ControlJobHistory, IsBoundedAndHalvesItsResolution) {
  trafficsim::control::ControlJob job("x", {});
  trafficsim::jobs::TrafficSnapshot snap;
  snap.engine.streams.resize(1);
  for (int i = 0; i < 5000; ++i) job.publish(snap, std::nullopt);
  EXPECT_LE(job.history_size(), trafficsim::control::ControlJob::kMaxHistory);
  EXPECT_GE(job.history_size(), trafficsim::control::ControlJob::kMaxHistory / 2);
}

}  // namespace

namespace {

// A script job's stream is one time line: `elapsed` and the counters run on across phases (each
// phase is a run of its own); `phase.elapsed` is the phase's own and starts again.
TEST(ControlStream, AScriptJobsElapsedAndCountersRunOnAcrossPhases) {
  DemoStack s;
  auto script = trafficsim::scenarios::load_demo_script(
      trafficsim::scenarios::resolve_source("demo-video"));
  auto phases = trafficsim::jobs::load_phases(script);
  auto job = s.manager->start_script(std::move(script), std::move(phases), 30, nullptr);
  SseReader r(s.port(), "/traffic/stream/" + job->id());
  const auto& evs = r.read(1000, 25s);
  ASSERT_TRUE(r.ended()) << r.raw();
  ASSERT_GE(evs.size(), 8u);
  double last_elapsed = -1, last_total = -1;
  size_t phase_changes = 0;
  int64_t last_index = -1;
  for (const auto& ev : evs) {
    if (ev.name != "stats") continue;
    auto o = json::parse(ev.data).as_object();
    double elapsed = o.at("elapsed").to_number<double>();
    double total = o.at("totalRequests").to_number<double>();
    EXPECT_GE(elapsed, last_elapsed - 0.01) << ev.data;
    EXPECT_GE(total, last_total) << ev.data;
    const auto& phase = o.at("phase").as_object();
    int64_t index = phase.at("index").to_number<int64_t>();
    if (index != last_index) {
      ++phase_changes;
      if (last_index >= 0) {
        EXPECT_LT(phase.at("elapsed").to_number<double>(), 0.8) << ev.data;
        EXPECT_GT(elapsed, 0.8) << ev.data;  // the job's time line did not restart
      }
      last_index = index;
    }
    last_elapsed = elapsed;
    last_total = total;
  }
  EXPECT_EQ(phase_changes, 5u);
  EXPECT_GT(last_elapsed, 5.0);  // 180 s / 30 = 6 s of phases
  auto fin = json::parse(evs.back().data).as_object();
  EXPECT_EQ(fin.at("stats").at("totalRequests").to_number<double>(), last_total);
}

}  // namespace

namespace {

// A running job's open streams get ": heartbeat" comments at the manager's interval (10 s by
// default; 200 ms here), between the events.
TEST(ControlStream, OpenStreamsGetHeartbeatComments) {
  trafficsim::control::ManagerOptions mo;
  mo.heartbeat = 200ms;
  DemoStack s(mo);
  std::string id = s.start(R"({"scenario":"normal","maxRps":5,"duration":"1m"})");
  SseReader r(s.port(), "/traffic/stream/" + id);
  ASSERT_TRUE(eventually([&] {
    r.read(r.events().size() + 1, 300ms);
    return r.raw().find(": heartbeat\n") != std::string::npos;
  }, 5s)) << r.raw();
  s.post("/traffic/stop/" + id, "");

  // At the default interval none comes within the first seconds.
  DemoStack quiet;
  std::string id2 = quiet.start(R"({"scenario":"normal","maxRps":5,"duration":"1m"})");
  SseReader q(quiet.port(), "/traffic/stream/" + id2);
  q.read(4, 3s);
  EXPECT_GE(q.events().size(), 3u);
  EXPECT_EQ(q.raw().find(": heartbeat"), std::string::npos);
  quiet.post("/traffic/stop/" + id2, "");
}

}  // namespace
