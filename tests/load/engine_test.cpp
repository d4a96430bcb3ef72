// The load engine against real servers on 127.0.0.1: exact counts, honest latency, drops,
// timeouts, reconnects, stop, segments and merge.
#include "load/engine.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "load/report.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

namespace trafficsim::load {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;
using testing::TestServerOptions;

Stream make_stream(const std::string& url_text, double rate_rps, double duration_s) {
  std::string error;
  auto url = http::parse_url(url_text, &error);
  EXPECT_TRUE(url) << error;
  Stream s;
  s.name = "s";
  s.url = *url;
  s.profile = core::RateProfile::constant(rate_rps, duration_s);
  RequestTemplate t;
  t.target = url->target;
  t.name = "GET " + t.target;
  s.requests.push_back(t);
  return s;
}

Plan open_plan(const std::string& url, double rate_rps, double duration_s, int threads = 2) {
  Plan p;
  p.model = LoadModel::open;
  p.duration = std::chrono::nanoseconds(static_cast<int64_t>(duration_s * 1e9));
  p.threads = threads;
  p.seed = 42;
  p.streams.push_back(make_stream(url, rate_rps, duration_s));
  return p;
}

// Every request ends in exactly one outcome.
void expect_complete_accounting(const EndpointStats& t) {
  EXPECT_EQ(t.requests, t.responses() + t.errors_connect + t.errors_timeout +
                            t.errors_closed_mid_response + t.errors_other);
}

TEST(Engine, OpenModelSendsExactlyThePlannedRequests) {
  TestServer server;
  Engine engine(open_plan(server.url("/x"), 200, 2.0));
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.requests, 400u);  // uniform arrivals: integral over [0, 2 s) = 400
  EXPECT_EQ(t.responses_by_status[200], 400u);
  EXPECT_EQ(t.dropped, 0u);
  EXPECT_EQ(t.errors(), 0u);
  EXPECT_EQ(server.requests(), 400u);
  EXPECT_EQ(t.corrected.count(), 400);
  EXPECT_EQ(t.service.count(), 400);
  EXPECT_EQ(t.send_lateness.count(), 400);
  expect_complete_accounting(t);
  EXPECT_FALSE(r.stopped_early);
}

TEST(Engine, ClosedModelCountsEveryRequestExactly) {
  TestServer server;
  Plan p = open_plan(server.url(), 1, 1.0);
  p.model = LoadModel::closed;
  p.streams[0].connections = 4;
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_GE(t.requests, 4u);  // every connection starts with a request (no rate is asserted)
  EXPECT_EQ(t.requests, t.responses_by_status[200]);
  EXPECT_EQ(server.requests(), t.requests);
  EXPECT_EQ(t.errors(), 0u);
  EXPECT_EQ(t.send_lateness.count(), 0);  // no intended times in a closed model
  EXPECT_EQ(server.connections_accepted(), 4u);
  expect_complete_accounting(t);
}

TEST(Engine, RateBelowThreadCountIsHonoured) {
  TestServer server;
  Engine engine(open_plan(server.url(), 2, 3.0, /*threads=*/4));
  RunResult r = engine.run();
  EXPECT_EQ(r.stats.total().requests, 6u);
  EXPECT_EQ(server.requests(), 6u);
}

TEST(Engine, StallShowsInCorrectedLatencyButNotInServiceLatency) {
  TestServer server;
  Plan p = open_plan(server.url(), 1000, 4.0, 1);
  p.streams[0].connections = 4;
  p.streams[0].timeout = 5s;
  std::atomic<int> slow_service{0}, slow_corrected{0};
  p.on_request = [&](const RequestEvent& ev) {
    if (ev.service_us >= 700'000) ++slow_service;
    if (ev.latency_us >= 700'000) ++slow_corrected;
  };
  Engine engine(p);
  std::thread staller([&] {
    server.wait_for_requests(1000, 10s);  // one second in
    server.stall_for(1000ms);
  });
  RunResult r = engine.run();
  staller.join();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.requests + t.dropped, 4000u);
  EXPECT_EQ(t.dropped, 0u);
  // ~1000 arrivals waited up to a second: far more than 1 % of 4000 (the ~300 that arrived in
  // the stall's first 300 ms waited at least 700 ms).
  EXPECT_GT(t.corrected.percentile(99), 700'000);
  EXPECT_GE(slow_corrected.load(), 200);
  // Only the requests in flight at the stall (one per connection) saw it as service time.
  EXPECT_GE(slow_service.load(), 1);
  EXPECT_LE(slow_service.load(), 4);
  EXPECT_GT(t.service.max(), 700'000);
  expect_complete_accounting(t);
}

TEST(Engine, CatchUpAfterAStallIsBoundedByBacklogPlusConnections) {
  TestServer server;
  const int connections = 4;
  const size_t backlog = 50;
  Plan p = open_plan(server.url(), 200, 3.0, 1);
  p.streams[0].connections = connections;
  p.streams[0].backlog = backlog;
  Engine engine(p);
  std::thread staller([&] {
    server.wait_for_requests(100, 10s);
    server.stall_for(1000ms);
  });
  RunResult r = engine.run();
  staller.join();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.requests + t.dropped, 600u);  // nothing silently lost
  EXPECT_GT(t.dropped, 100u);               // the stall overflowed the backlog
  EXPECT_TRUE(r.saturated);
  auto times = server.request_times();
  ASSERT_FALSE(times.empty());
  // In any 50 ms window: the plan's own arrivals (10) + backlog + connections, + 1 for edges.
  size_t max_in_window = 0;
  for (size_t i = 0, j = 0; j < times.size(); ++j) {
    while (times[j] - times[i] > 50ms) ++i;
    max_in_window = std::max(max_in_window, j - i + 1);
  }
  EXPECT_LE(max_in_window, 10 + backlog + connections + 1);
  // (How fast the backlog drains after the stall is a speed, not a decision of the engine:
  // bench/, not here.)
}

TEST(Engine, TimeoutsAreCountedAsTimeouts) {
  TestServerOptions o;
  o.never_respond = true;
  TestServer server(o);
  Plan p = open_plan(server.url(), 20, 1.0, 1);
  p.streams[0].timeout = 200ms;
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.requests, 20u);
  EXPECT_EQ(t.errors_timeout, 20u);
  EXPECT_EQ(t.responses(), 0u);
  expect_complete_accounting(t);
}

TEST(Engine, ServerClosingKeepAliveConnectionsIsSurvived) {
  TestServerOptions o;
  o.close_every = 3;
  TestServer server(o);
  Engine engine(open_plan(server.url(), 300, 1.0));
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.requests, 300u);
  EXPECT_EQ(t.responses_by_status[200], 300u);
  EXPECT_EQ(t.errors(), 0u);
  EXPECT_GE(server.connections_accepted(), 100u);
}

TEST(Engine, ClosedModelSurvivesServerClosingConnections) {
  TestServerOptions o;
  o.close_every = 2;
  TestServer server(o);
  Plan p = open_plan(server.url(), 1, 1.0);
  p.model = LoadModel::closed;
  p.streams[0].connections = 3;
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  // At least one connection was closed under the client and reopened (no rate is asserted).
  EXPECT_GT(server.connections_accepted(), 3u);
  EXPECT_EQ(t.responses_by_status[200], t.requests);
  EXPECT_EQ(t.errors(), 0u);
  expect_complete_accounting(t);
}

TEST(Engine, StopMidRunReturnsCompleteStatistics) {
  TestServerOptions o;
  o.delay = 20ms;
  TestServer server(o);
  Engine engine(open_plan(server.url(), 100, 30.0));
  std::thread stopper([&] {
    server.wait_for_requests(50, 10s);
    engine.stop();
  });
  RunResult r = engine.run();
  stopper.join();
  EXPECT_TRUE(r.stopped_early);
  EndpointStats t = r.stats.total();
  EXPECT_GE(t.requests, 50u);
  EXPECT_EQ(t.requests, t.responses_by_status[200]);  // in-flight requests were awaited
  EXPECT_EQ(server.responses(), t.requests);
  EXPECT_LT(r.duration_s, 30.0);   // issuing ended at the stop, not at the plan's end
  EXPECT_LT(t.requests, 3000u);    // ... so it did not send the whole plan
  expect_complete_accounting(t);
}

TEST(Engine, RefusedConnectionsAreConnectErrorsNotFatal) {
  Plan p = open_plan("http://127.0.0.1:" + std::to_string(trafficsim::testing::free_port()) + "/", 50, 1.0, 1);
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.requests, 50u);
  EXPECT_EQ(t.errors_connect, 50u);
  EXPECT_FALSE(r.error_samples.empty());
}

TEST(Engine, LocalhostFallsThroughResolvedAddresses) {
  TestServer server;  // listens on 127.0.0.1 only; localhost may resolve to ::1 first
  Plan p = open_plan("http://localhost:" + std::to_string(server.port()) + "/", 50, 1.0, 1);
  Engine engine(p);
  RunResult r = engine.run();
  EXPECT_EQ(r.stats.total().responses_by_status[200], 50u);
}

TEST(Engine, ChunkedBodiesAreHandedToTheExtractor) {
  TestServerOptions o;
  o.chunked = true;
  o.body = "0123456789abcdef";
  TestServer server(o);
  Plan p = open_plan(server.url(), 100, 1.0);
  p.streams[0].keep_bodies = true;
  p.streams[0].counter_names = {"body_bytes", "bodies_with_f"};
  p.streams[0].extractor = [](const RequestTemplate&, int status, std::string_view body,
                              std::span<int64_t> counters) {
    if (status == 200) counters[0] += static_cast<int64_t>(body.size());
    if (body.find('f') != std::string_view::npos) counters[1] += 1;
  };
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  ASSERT_EQ(t.counters.size(), 2u);
  EXPECT_EQ(t.counters[0], 100 * 16);
  EXPECT_EQ(t.counters[1], 100);
}

TEST(Engine, RequestsCarryMethodHeadersAndBody) {
  TestServer server;
  Plan p = open_plan(server.url("/post?a=1"), 10, 0.5, 1);
  auto& t = p.streams[0].requests[0];
  t.method = "POST";
  t.headers = {{"X-Traffic-Type", "demo"}, {"Content-Type", "application/json"}};
  t.body = R"({"k":"v"})";
  Engine engine(p);
  engine.run();
  auto heads = server.request_heads();
  ASSERT_FALSE(heads.empty());
  EXPECT_NE(heads[0].find("POST /post?a=1 HTTP/1.1"), std::string::npos);
  EXPECT_NE(heads[0].find("X-Traffic-Type: demo"), std::string::npos);
  EXPECT_NE(heads[0].find("Content-Length: 9"), std::string::npos);
  EXPECT_EQ(server.request_bodies()[0], R"({"k":"v"})");
}

TEST(Engine, UnexpectedStatusesAreErrors) {
  TestServerOptions o;
  o.status = 503;
  TestServer server(o);
  Engine engine(open_plan(server.url(), 20, 1.0, 1));
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.responses_by_status[503], 20u);
  EXPECT_EQ(t.errors_status, 20u);
  EXPECT_EQ(t.errors(), 20u);
}

TEST(Engine, HardCapClampsThePlanAndBoundsStarts) {
  TestServer server;
  Plan p = open_plan(server.url(), 100, 2.0);
  p.streams[0].hard_cap = HardCap{20, 20};
  p.streams[0].process = core::ArrivalProcess::poisson;  // bursts the bucket must absorb
  p.apply_hard_caps();
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find("clamped to the hard cap of 20"), std::string::npos);
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_LE(t.requests, 20u + 20u * 2u);
}

// The bucket, not the plan, bounds the starts: 100 arrivals in 1 s against B = 10, R = 20/s
// (not clamped) start at most B + R * 1 s; the rest wait and are dropped when issuing ends.
TEST(Engine, HardCapBucketBoundsStartsOfAFasterPlan) {
  TestServer server;
  Plan p = open_plan(server.url(), 100, 1.0);
  p.streams[0].hard_cap = HardCap{10, 20};
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_EQ(t.requests + t.dropped, 100u);
  EXPECT_LE(t.requests, 10u + 20u + 1u);  // (+1 for the clock edge at the end)
  EXPECT_GE(t.requests, 10u);             // the full bucket's burst went out at once
  EXPECT_EQ(server.requests(), t.requests);
  expect_complete_accounting(t);
}

TEST(Engine, PoissonArrivalsMatchTheRateInExpectation) {
  TestServer server;
  Plan p = open_plan(server.url(), 500, 2.0);
  p.streams[0].process = core::ArrivalProcess::poisson;
  Engine engine(p);
  RunResult r = engine.run();
  double n = static_cast<double>(r.stats.total().requests);
  EXPECT_NEAR(n, 1000.0, 4 * std::sqrt(1000.0));
}

// n segment runs of a plan, merged, equal one run of the whole plan: same counts per endpoint
// (the weighted template choice of arrival k derives from k alone).
TEST(Engine, SegmentsMergeToTheWholeRun) {
  TestServer server;
  auto plan_for = [&](Segment seg) {
    Plan p = open_plan(server.url("/a"), 300, 1.0);
    auto& s = p.streams[0];
    RequestTemplate b = s.requests[0];
    b.target = "/b";
    b.name = "GET /b";
    b.weight = 2;
    RequestTemplate c = s.requests[0];
    c.target = "/c";
    c.name = "GET /c";
    c.weight = 3;
    s.requests.push_back(b);
    s.requests.push_back(c);
    p.segment = seg;
    return p;
  };
  Plan whole_plan = plan_for({0, 1});
  Engine whole_engine(whole_plan);
  RunResult whole = whole_engine.run();
  auto whole_report = build_report(whole_plan, whole, "test");

  std::vector<std::pair<std::string, boost::json::object>> parts;
  for (uint32_t i = 0; i < 3; ++i) {
    Plan p = plan_for({i, 3});
    EXPECT_EQ(p.hash(), whole_plan.hash());
    Engine e(p);
    RunResult r = e.run();
    EXPECT_EQ(r.stats.total().requests, 100u);
    parts.emplace_back("seg" + std::to_string(i), build_report(p, r, "test"));
  }
  auto merged = merge_reports(parts);
  const auto& ws = whole_report.at("streams").as_array()[0].as_object();
  const auto& ms = merged.at("streams").as_array()[0].as_object();
  EXPECT_EQ(merged.at("requests").as_uint64(), 300u);
  for (size_t e = 0; e < 3; ++e) {
    const auto& we = ws.at("endpoints").as_array()[e].as_object();
    const auto& me = ms.at("endpoints").as_array()[e].as_object();
    EXPECT_EQ(we.at("requests"), me.at("requests")) << "endpoint " << e;
    EXPECT_GT(me.at("requests").as_uint64(), 20u);
  }
  // Percentiles of the merge equal those of the union of the segments' histograms.
  core::LatencyHistogram u;
  for (auto& [name, rep] : parts) {
    auto st = stats_from_json(rep.at("streams").as_array()[0].as_object());
    u.merge(st.corrected);
  }
  const auto& mc = merged.at("latency").as_object().at("corrected").as_object();
  EXPECT_EQ(mc.at("p99_us").as_int64(), u.percentile(99));
  EXPECT_EQ(mc.at("p50_us").as_int64(), u.percentile(50));
  EXPECT_EQ(mc.at("count").as_int64(), 300);
}

TEST(Engine, MergeRefusesMissingDuplicateAndForeignSegments) {
  TestServer server;
  auto report_for = [&](Segment seg, double rate) {
    Plan p = open_plan(server.url(), rate, 0.3, 1);
    p.segment = seg;
    Engine e(p);
    return build_report(p, e.run(), "test");
  };
  auto s0 = report_for({0, 2}, 50), s1 = report_for({1, 2}, 50), other = report_for({1, 2}, 60);
  auto message = [](const std::vector<std::pair<std::string, boost::json::object>>& rs) {
    try {
      merge_reports(rs);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("merged");
  };
  EXPECT_NE(message({{"a.json", s0}}).find("1/2"), std::string::npos);
  EXPECT_NE(message({{"a.json", s0}, {"b.json", s0}, {"c.json", s1}}).find("twice"),
            std::string::npos);
  std::string foreign = message({{"a.json", s0}, {"b.json", other}});
  EXPECT_NE(foreign.find("another plan"), std::string::npos);
  EXPECT_NE(foreign.find("b.json"), std::string::npos);
  EXPECT_EQ(message({{"a.json", s0}, {"b.json", s1}}), "merged");
}

TEST(Engine, UnresolvableHostCannotStart) {
  Plan p = open_plan("http://no-such-host.invalid/", 10, 1.0);
  EXPECT_THROW(Engine e(p), StartError);
}

TEST(Engine, SnapshotsArriveWhileRunning) {
  TestServer server;
  Engine engine(open_plan(server.url(), 100, 1.6));
  std::vector<Snapshot> snaps;
  RunResult r = engine.run([&](const Snapshot& s) { snaps.push_back(s); });
  ASSERT_GE(snaps.size(), 2u);  // at least one mid-run, and the final one
  // Every completion is in exactly one interval: the intervals add up to the run.
  double completed = 0;
  for (const auto& s : snaps) completed += s.total.interval_rps * s.interval_s;
  EXPECT_NEAR(completed, static_cast<double>(r.stats.total().completed()), 1e-6);
  EXPECT_EQ(r.stats.total().requests, 160u);
  EXPECT_EQ(snaps.back().total.requests, r.stats.total().requests);
  EXPECT_FALSE(r.timeseries.empty());
}

}  // namespace
}  // namespace trafficsim::load

namespace trafficsim::load {
namespace {

// --start-at: the wait before t = 0 sleeps on the engine's fds, so stop() ends it at once and
// nothing is sent.
TEST(EngineStartAt, StopEndsTheWaitForTheStartAndNothingIsSent) {
  TestServer server;
  for (LoadModel model : {LoadModel::open, LoadModel::closed}) {
    Plan p = open_plan(server.url("/"), 100, 1.0);
    p.model = model;
    p.streams[0].connections = 4;
    p.start_at = std::chrono::system_clock::now() + 30s;
    Engine engine(p);
    std::atomic<bool> returned{false};
    RunResult r;
    std::thread t([&] {
      r = engine.run();
      returned = true;
    });
    const auto asked = std::chrono::steady_clock::now();
    engine.stop();
    t.join();
    EXPECT_TRUE(returned);
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 2s) << "the wait was not interrupted";
    EXPECT_EQ(r.stats.total().requests, 0u);
    EXPECT_EQ(r.stats.total().dropped, 0u);
    EXPECT_TRUE(r.stopped_early);
    ASSERT_TRUE(r.start_at);
    EXPECT_EQ(*r.start_at, *p.start_at);
  }
  EXPECT_EQ(server.requests(), 0u);
}

// Closed model: the connections open at start_at, not before; started_at is the first send.
TEST(EngineStartAt, ClosedModelStartsAtTheInstantAndEndsAtStartPlusDuration) {
  TestServer server;
  Plan p = open_plan(server.url("/"), 100, 0.5, 1);
  p.model = LoadModel::closed;
  p.streams[0].connections = 2;
  const auto at = std::chrono::system_clock::now() + 300ms;
  p.start_at = at;
  Engine engine(p);
  RunResult r = engine.run();
  EXPECT_GT(r.stats.total().requests, 0u);
  EXPECT_GE(r.started_at, at - 1ms);
  EXPECT_LT(r.started_at, at + 50ms);
  EXPECT_NEAR(r.duration_s, 0.5, 1e-6);
  EXPECT_FALSE(r.stopped_early);
}

}  // namespace
}  // namespace trafficsim::load
