// The load engine's request features against real servers on 127.0.0.1: dynamic (templated)
// requests, mix groups, injected failures, gap jitter, per-stream time series and the
// on_request hook.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/arrival_schedule.hpp"
#include "core/random.hpp"
#include "core/text_template.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

namespace trafficsim::load {
namespace {

using namespace std::chrono_literals;
using testing::TestServer;
using testing::TestServerOptions;

http::Url parse(const std::string& text) {
  std::string error;
  auto url = http::parse_url(text, &error);
  EXPECT_TRUE(url) << error;
  return *url;
}

Stream make_stream(const std::string& name, const std::string& url_text, double rate_rps,
                   double duration_s) {
  Stream s;
  s.name = name;
  s.url = parse(url_text);
  s.profile = core::RateProfile::constant(rate_rps, duration_s);
  return s;
}

RequestTemplate static_template(const std::string& target) {
  RequestTemplate t;
  t.target = target;
  t.name = "GET " + target;
  return t;
}

Plan plan_of(std::vector<Stream> streams, double duration_s, int threads = 2) {
  Plan p;
  p.model = LoadModel::open;
  p.duration = std::chrono::nanoseconds(static_cast<int64_t>(duration_s * 1e9));
  p.threads = threads;
  p.seed = 42;
  p.streams = std::move(streams);
  return p;
}

// ---- dynamic requests ------------------------------------------------------------------------

// POST /d/{{seq}} with X-N: {{int 1 3}} and a JSON body carrying the sequence number.
RequestTemplate dynamic_template() {
  RequestTemplate t;
  t.name = "POST /d";
  t.method = "POST";
  t.target = "/d/{{seq}}";
  t.headers = {{"X-N", "{{int 1 3}}"}, {"Content-Type", "application/json"}};
  t.body = R"({"seq":{{seq}},"id":"{{uuid}}"})";
  auto d = std::make_shared<DynamicRequest>();
  d->target = core::TextTemplate::compile(t.target);
  for (const auto& [k, v] : t.headers) d->headers.emplace_back(k, core::TextTemplate::compile(v));
  d->body = core::TextTemplate::compile(t.body);
  t.dynamic = d;
  return t;
}

struct Seen {
  std::string x_n;
  std::string body;
  bool operator==(const Seen&) const = default;
};

std::string header_value(const std::string& head, const std::string& name) {
  auto at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return head.substr(at, head.find("\r\n", at) - at);
}

// What the server received (requests from..to of what it kept), by the sequence number in the
// target; checks each request.
std::map<uint64_t, Seen> received(const TestServer& server, size_t from = 0,
                                  size_t to = SIZE_MAX) {
  std::map<uint64_t, Seen> out;
  auto heads = server.request_heads();
  auto bodies = server.request_bodies();
  EXPECT_EQ(heads.size(), bodies.size());
  for (size_t i = from; i < to && i < heads.size() && i < bodies.size(); ++i) {
    const std::string& h = heads[i];
    EXPECT_EQ(h.rfind("POST /d/", 0), 0u) << h;
    uint64_t seq = std::stoull(h.substr(8, h.find(' ', 8) - 8));
    EXPECT_EQ(header_value(h, "Content-Length"), std::to_string(bodies[i].size())) << h;
    EXPECT_EQ(header_value(h, "Content-Type"), "application/json");
    EXPECT_NE(h.find("\r\nHost: 127.0.0.1:"), std::string::npos);
    EXPECT_NE(h.find("\r\nUser-Agent: trafficsim\r\n"), std::string::npos);
    EXPECT_EQ(bodies[i].rfind("{\"seq\":" + std::to_string(seq) + ",\"id\":\"", 0), 0u)
        << bodies[i];
    Seen s{header_value(h, "X-N"), bodies[i]};
    EXPECT_TRUE(s.x_n == "1" || s.x_n == "2" || s.x_n == "3") << s.x_n;
    EXPECT_TRUE(out.emplace(seq, s).second) << "seq " << seq << " twice";
  }
  return out;
}

TEST(EngineDynamic, RendersEveryRequestAndRepeatsWithTheSameSeed) {
  auto run_once = [](TestServerOptions o, uint64_t* bytes_out, uint64_t* wire_bytes) {
    o.keep_heads = 1000;
    TestServer server(o);
    Stream s = make_stream("dyn", server.url(), 300, 1.0);
    s.requests.push_back(dynamic_template());
    Plan p = plan_of({s}, 1.0);
    Engine engine(p);
    RunResult r = engine.run();
    EndpointStats t = r.stats.total();
    EXPECT_EQ(t.requests, 300u);
    EXPECT_EQ(t.responses_by_status[200], 300u);
    EXPECT_EQ(t.errors(), 0u);
    auto seen = received(server);
    if (bytes_out) *bytes_out = t.bytes_out;
    if (wire_bytes) {
      *wire_bytes = 0;
      for (const auto& h : server.request_heads()) *wire_bytes += h.size();
      for (const auto& b : server.request_bodies()) *wire_bytes += b.size();
    }
    return seen;
  };
  uint64_t bytes_out = 0, wire = 0;
  auto first = run_once({}, &bytes_out, &wire);
  ASSERT_EQ(first.size(), 300u);
  EXPECT_EQ(first.begin()->first, 0u);
  EXPECT_EQ(first.rbegin()->first, 299u);
  EXPECT_EQ(bytes_out, wire);  // bytes_out counts the rendered requests
  std::set<std::string> x_values, bodies;
  for (const auto& [seq, s] : first) {
    x_values.insert(s.x_n);
    bodies.insert(s.body);
  }
  EXPECT_EQ(x_values.size(), 3u);
  EXPECT_EQ(bodies.size(), 300u);  // every body differs ({{seq}}, {{uuid}})

  // Same seed: the same bytes for every k, even when the server closes keep-alive connections
  // under the client (re-sends render arrival k again).
  TestServerOptions closing;
  closing.close_every = 3;
  auto second = run_once(closing, nullptr, nullptr);
  EXPECT_EQ(first, second);
}

TEST(EngineDynamic, SegmentsSendExactlyTheRequestsOfTheWholeRun) {
  // One server for the three runs, one after the other: each run's requests are the next ones
  // it kept (every request has completed when run() returns).
  TestServerOptions o;
  o.keep_heads = 1000;
  TestServer server(o);
  size_t kept = 0;
  auto run_segment = [&](Segment seg) {
    Stream s = make_stream("dyn", server.url(), 200, 1.0);
    s.requests.push_back(dynamic_template());
    Plan p = plan_of({s}, 1.0);
    p.segment = seg;
    Engine engine(p);
    RunResult r = engine.run();
    EXPECT_EQ(r.stats.total().responses_by_status[200], r.stats.total().requests);
    size_t from = kept;
    kept = server.request_heads().size();
    return std::make_pair(received(server, from, kept), p.hash());
  };
  auto [whole, whole_hash] = run_segment({0, 1});
  auto [s0, h0] = run_segment({0, 2});
  auto [s1, h1] = run_segment({1, 2});
  EXPECT_EQ(h0, whole_hash);
  EXPECT_EQ(h1, whole_hash);
  ASSERT_EQ(whole.size(), 200u);
  EXPECT_EQ(s0.size(), 100u);
  EXPECT_EQ(s1.size(), 100u);
  std::map<uint64_t, Seen> together = s0;
  for (const auto& [seq, seen] : s1) EXPECT_TRUE(together.emplace(seq, seen).second) << seq;
  EXPECT_EQ(together, whole);  // the same set of {{seq}}, and the same bytes for each
}

TEST(EngineDynamic, ClosedModelRendersEveryRequest) {
  TestServerOptions o;
  o.keep_heads = 200'000;
  o.close_every = 5;  // reconnects (and re-sends) under the client
  TestServer server(o);
  Stream s = make_stream("dyn", server.url(), 1, 0.3);
  s.requests.push_back(dynamic_template());
  s.connections = 3;
  Plan p = plan_of({s}, 0.3);
  p.model = LoadModel::closed;
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_GE(t.requests, 3u);  // every connection starts with a request (no rate is asserted)
  EXPECT_EQ(t.errors(), 0u);
  auto seen = received(server);  // checks every request; no {{seq}} twice
  EXPECT_EQ(seen.size(), t.requests);
}

TEST(EngineDynamic, OnRequestSeesTheRenderedRequestLine) {
  TestServer server;
  Stream s = make_stream("dyn", server.url(), 100, 0.5);
  s.requests.push_back(dynamic_template());
  s.requests.push_back(static_template("/static?q=1"));
  Plan p = plan_of({s}, 0.5);
  std::mutex mu;
  std::vector<std::string> problems;
  std::atomic<int> events{0};
  p.on_request = [&](const RequestEvent& ev) {
    ++events;
    std::string want = ev.tmpl == 0 ? "POST /d/" + std::to_string(ev.k) + " HTTP/1.1"
                                    : "GET /static?q=1 HTTP/1.1";
    if (ev.request_line != want || ev.outcome != "ok" || ev.status != 200) {
      std::lock_guard lock(mu);
      problems.push_back(std::string(ev.request_line) + " / " + std::string(ev.outcome));
    }
  };
  Engine engine(p);
  RunResult r = engine.run();
  EXPECT_EQ(events.load(), 50);
  EXPECT_EQ(r.stats.total().requests, 50u);
  EXPECT_TRUE(problems.empty()) << problems.front();
}

// ---- mix groups --------------------------------------------------------------------------------

TEST(EngineGroups, RotationWithOneGroupIsExact) {
  TestServer server;
  Stream s = make_stream("rot", server.url(), 600, 1.0);
  for (const char* t : {"/a", "/b", "/c"}) s.requests.push_back(static_template(t));
  s.requests[1].weight = 5;  // weights do not matter to a rotation
  s.groups = {MixGroup{1.0, true}};
  Engine engine(plan_of({s}, 1.0));
  RunResult r = engine.run();
  const auto& eps = r.stats.streams[0].endpoints;
  ASSERT_EQ(eps.size(), 3u);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(eps[j].requests + eps[j].dropped, 200u) << "template " << j;
    EXPECT_EQ(eps[j].dropped, 0u);
  }
}

TEST(EngineGroups, GroupsFollowTheirWeights) {
  TestServer server;
  Stream s = make_stream("mix", server.url(), 2000, 1.0);
  s.requests = {static_template("/a"), static_template("/b"), static_template("/c")};
  s.requests[2].group = 1;
  s.groups = {MixGroup{70, false}, MixGroup{30, false}};
  Plan p = plan_of({s}, 1.0);
  p.streams[0].connections = 64;
  Engine engine(p);
  RunResult r = engine.run();
  const auto& eps = r.stats.streams[0].endpoints;
  auto arrivals = [&](size_t j) {
    return static_cast<double>(eps[j].requests + eps[j].dropped);
  };
  const double total = arrivals(0) + arrivals(1) + arrivals(2);
  ASSERT_EQ(total, 2000);
  EXPECT_NEAR((arrivals(0) + arrivals(1)) / total, 0.70, 0.05);
  EXPECT_NEAR(arrivals(2) / total, 0.30, 0.05);
  // Within group 0, the two templates weigh the same.
  EXPECT_NEAR(arrivals(0) / (arrivals(0) + arrivals(1)), 0.5, 0.05);
}

TEST(EngineGroups, InvalidGroupsAreRefusedNamingTheStream) {
  const std::string url = "http://127.0.0.1:" + std::to_string(trafficsim::testing::free_port()) + "/";
  auto message = [&](auto edit) {
    Stream s = make_stream("checkout-mix", url, 10, 1.0);
    s.requests = {static_template("/a"), static_template("/b")};
    s.groups = {MixGroup{1, false}, MixGroup{1, false}};
    s.requests[1].group = 1;
    edit(s);
    try {
      Engine engine(plan_of({s}, 1.0));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message([](Stream&) {}), "accepted");
  std::string out_of_range = message([](Stream& s) { s.requests[1].group = 2; });
  EXPECT_NE(out_of_range.find("checkout-mix"), std::string::npos) << out_of_range;
  EXPECT_NE(out_of_range.find("group 2"), std::string::npos) << out_of_range;
  std::string empty = message([](Stream& s) { s.requests[1].group = 0; });
  EXPECT_NE(empty.find("checkout-mix"), std::string::npos) << empty;
  EXPECT_NE(empty.find("no requests"), std::string::npos) << empty;
  std::string zero = message([](Stream& s) { s.groups[0].weight = s.groups[1].weight = 0; });
  EXPECT_NE(zero.find("checkout-mix"), std::string::npos) << zero;
  EXPECT_NE(zero.find("weight 0"), std::string::npos) << zero;
  std::string zero_templates = message([](Stream& s) { s.requests[0].weight = 0; });
  EXPECT_NE(zero_templates.find("weight 0"), std::string::npos) << zero_templates;
  // A rotating group ignores template weights.
  EXPECT_EQ(message([](Stream& s) {
              s.requests[0].weight = 0;
              s.groups[0].rotate = true;
            }),
            "accepted");
  std::string jitter = message([](Stream& s) { s.gap_jitter_s = std::make_pair(0.2, 0.1); });
  EXPECT_NE(jitter.find("checkout-mix"), std::string::npos) << jitter;
}

// ---- injected failures -------------------------------------------------------------------------

TEST(EngineInjected, ExpectedStatusesOfInjectedTemplatesAreExpectedFailures) {
  TestServerOptions bad_request;
  bad_request.status = 400;
  TestServer failing(bad_request);
  TestServer healthy;
  RequestTemplate injected = static_template("/broken");
  injected.injected = true;
  injected.expected_statuses = {400};
  Stream a = make_stream("injected", failing.url(), 20, 1.0);
  a.requests = {injected};
  Stream b = make_stream("not-failing", healthy.url(), 20, 1.0);
  b.requests = {injected};  // the server answers 200: an unexpected outcome
  Stream c = make_stream("plain", healthy.url(), 20, 1.0);
  c.requests = {static_template("/ok")};
  Plan p = plan_of({a, b, c}, 1.0);
  std::mutex mu;
  std::map<std::pair<size_t, std::string>, int> outcomes;
  p.on_request = [&](const RequestEvent& ev) {
    std::lock_guard lock(mu);
    ++outcomes[{ev.stream, std::string(ev.outcome)}];
  };
  Engine engine(p);
  Snapshot last;
  RunResult r = engine.run([&](const Snapshot& s) { last = s; });

  const EndpointStats& ia = r.stats.streams[0].endpoints[0];
  EXPECT_EQ(ia.responses_by_status[400], 20u);
  EXPECT_EQ(ia.expected_failures, 20u);
  EXPECT_EQ(ia.errors(), 0u);
  const EndpointStats& ib = r.stats.streams[1].endpoints[0];
  EXPECT_EQ(ib.expected_failures, 0u);
  EXPECT_EQ(ib.errors_status, 20u);
  EXPECT_EQ(r.stats.streams[2].endpoints[0].expected_failures, 0u);

  EXPECT_EQ(last.total.expected_failures, 20u);
  EXPECT_EQ(last.streams[0].expected_failures, 20u);
  EXPECT_EQ(last.streams[0].errors, 0u);

  EXPECT_EQ((outcomes[{0, "expected_failure"}]), 20);
  EXPECT_EQ((outcomes[{1, "status"}]), 20);
  EXPECT_EQ((outcomes[{2, "ok"}]), 20);
  EXPECT_EQ(outcomes.size(), 3u);

  auto report = build_report(p, r, "test");
  EXPECT_EQ(report.at("expected_failures").as_uint64(), 20u);
  EXPECT_EQ(report.at("unexpected_failures").as_uint64(), 20u);
  const auto& streams = report.at("streams").as_array();
  const auto& s0 = streams[0].as_object();
  EXPECT_EQ(s0.at("expected_failures").as_uint64(), 20u);
  EXPECT_EQ(s0.at("unexpected_failures").as_uint64(), 0u);
  EXPECT_EQ(s0.at("errors").at("status").as_uint64(), 0u);
  const auto& e0 = s0.at("endpoints").as_array()[0].as_object();
  EXPECT_EQ(e0.at("expected_failures").as_uint64(), 20u);
  EXPECT_EQ(e0.at("unexpected_failures").as_uint64(), 0u);
  EXPECT_TRUE(e0.at("injected").as_bool());
  const auto& s1 = streams[1].as_object();
  EXPECT_EQ(s1.at("expected_failures").as_uint64(), 0u);
  EXPECT_EQ(s1.at("unexpected_failures").as_uint64(), 20u);
  EXPECT_EQ(s1.at("errors").at("status").as_uint64(), 20u);
  const auto& e2 = streams[2].as_object().at("endpoints").as_array()[0].as_object();
  EXPECT_FALSE(e2.contains("injected"));
  EXPECT_EQ(e2.at("expected_failures").as_uint64(), 0u);
  // The counts survive a round trip through the report.
  EXPECT_EQ(stats_from_json(e0).expected_failures, 20u);
}

TEST(EngineInjected, MergedSegmentsKeepExpectedFailuresAndStreamSeries) {
  TestServerOptions bad_request;
  bad_request.status = 400;
  TestServer failing(bad_request);
  TestServer healthy;
  auto plan_for = [&](Segment seg) {
    RequestTemplate injected = static_template("/broken");
    injected.injected = true;
    injected.expected_statuses = {400};
    Stream a = make_stream("injected", failing.url(), 40, 1.2);
    a.requests = {injected};
    Stream b = make_stream("plain", healthy.url(), 100, 1.2);
    b.requests = {static_template("/ok")};
    Plan p = plan_of({a, b}, 1.2);
    p.segment = seg;
    return p;
  };
  std::vector<std::pair<std::string, boost::json::object>> parts;
  for (uint32_t i = 0; i < 2; ++i) {
    Plan p = plan_for({i, 2});
    Engine e(p);
    RunResult r = e.run();
    ASSERT_EQ(r.stream_timeseries.size(), 2u);
    EXPECT_EQ(r.stream_timeseries[0].size(), r.timeseries.size());
    EXPECT_EQ(r.stream_timeseries[1].size(), r.timeseries.size());
    auto rep = build_report(p, r, "test");
    for (const auto& sv : rep.at("streams").as_array())
      EXPECT_FALSE(sv.as_object().at("timeseries").as_array().empty());
    parts.emplace_back("seg" + std::to_string(i), std::move(rep));
  }
  auto merged = merge_reports(parts);
  EXPECT_EQ(merged.at("expected_failures").as_uint64(), 40u + 8u);  // ceil(1.2 * 40) = 48
  EXPECT_EQ(merged.at("unexpected_failures").as_uint64(), 0u);
  const auto& ms = merged.at("streams").as_array();
  const auto& e0 = ms[0].as_object().at("endpoints").as_array()[0].as_object();
  EXPECT_TRUE(e0.at("injected").as_bool());
  EXPECT_EQ(e0.at("expected_failures").as_uint64(), 48u);
  // Each stream's merged series sums the segments' rates at matching times.
  for (size_t si = 0; si < 2; ++si) {
    const auto& series = ms[si].as_object().at("timeseries").as_array();
    ASSERT_FALSE(series.empty()) << "stream " << si;
    std::map<int64_t, double> expected;
    for (const auto& [file, rep] : parts)
      for (const auto& pv : rep.at("streams").as_array()[si].as_object().at("timeseries").as_array())
        expected[std::llround(pv.at("t_s").to_number<double>() * 2)] +=
            pv.at("rps").to_number<double>();
    ASSERT_EQ(series.size(), expected.size());
    for (const auto& pv : series) {
      int64_t key = std::llround(pv.at("t_s").to_number<double>() * 2);
      EXPECT_NEAR(pv.at("rps").to_number<double>(), expected[key], 1e-9);
    }
  }
  EXPECT_FALSE(merged.at("timeseries").as_array().empty());
}

// ---- time series, hook, jitter -----------------------------------------------------------------

TEST(EngineSeries, EachStreamHasItsOwnTimeSeries) {
  TestServer server;
  Stream fast = make_stream("fast", server.url(), 200, 1.6);
  fast.requests = {static_template("/f")};
  Stream slow = make_stream("slow", server.url(), 20, 1.6);
  slow.requests = {static_template("/s")};
  Plan p = plan_of({fast, slow}, 1.6);
  Engine engine(p);
  std::vector<Snapshot> snaps;
  RunResult r = engine.run([&](const Snapshot& s) { snaps.push_back(s); });
  ASSERT_EQ(r.stream_timeseries.size(), 2u);
  ASSERT_GE(r.timeseries.size(), 2u);
  ASSERT_EQ(r.stream_timeseries[0].size(), r.timeseries.size());
  ASSERT_EQ(r.stream_timeseries[1].size(), r.timeseries.size());
  // Mid-run: the stream rates add up to the total, and each follows its own profile.
  const size_t i = 1;
  EXPECT_NEAR(r.stream_timeseries[0][i].rps + r.stream_timeseries[1][i].rps, r.timeseries[i].rps,
              1e-6);
  EXPECT_EQ(r.stream_timeseries[0][i].t_s, r.timeseries[i].t_s);
  // Each stream's intervals count its own completions: over the run they add up to its own
  // total (320 and 32 arrivals), not to the other stream's or the sum. (How evenly they spread
  // over the intervals is timing, not asserted.)
  ASSERT_FALSE(snaps.empty());
  for (size_t si = 0; si < 2; ++si) {
    double completed = 0;
    for (const auto& sn : snaps) completed += sn.streams[si].interval_rps * sn.interval_s;
    EXPECT_NEAR(completed, static_cast<double>(r.stats.streams[si].total().completed()), 1e-6);
  }
  EXPECT_EQ(r.stats.streams[0].total().requests, 320u);
  EXPECT_EQ(r.stats.streams[1].total().requests, 32u);
  auto report = build_report(p, r, "test");
  const auto& s1 = report.at("streams").as_array()[1].as_object();
  const auto& series = s1.at("timeseries").as_array();
  ASSERT_EQ(series.size(), r.timeseries.size());
  for (const char* k : {"t_s", "rps", "error_ratio", "p50_us", "p95_us", "p99_us"})
    EXPECT_TRUE(series[0].as_object().contains(k)) << k;
}

TEST(EngineHook, OnRequestIsCalledOncePerRequestWithItsOutcome) {
  TestServer ok;
  TestServerOptions silent;
  silent.never_respond = true;
  TestServer timeouts(silent);
  TestServerOptions closing;
  closing.close_without_response = true;
  TestServer closer(closing);
  Stream a = make_stream("ok", ok.url(), 40, 1.0);
  a.requests = {static_template("/ok")};
  Stream b = make_stream("timeout", timeouts.url(), 10, 1.0);
  b.requests = {static_template("/t")};
  b.timeout = 200ms;
  Stream c = make_stream("connect", "http://127.0.0.1:" + std::to_string(trafficsim::testing::free_port()) + "/", 10,
                         1.0);
  c.requests = {static_template("/c")};
  Stream d = make_stream("error", closer.url(), 10, 1.0);
  d.requests = {static_template("/e")};
  Plan p = plan_of({a, b, c, d}, 1.0);
  std::mutex mu;
  std::map<std::string, int> outcomes;
  std::set<std::pair<size_t, uint64_t>> arrivals;
  int duplicates = 0;
  std::string bad_line;
  p.on_request = [&](const RequestEvent& ev) {
    std::lock_guard lock(mu);
    ++outcomes[std::string(ev.outcome)];
    if (!arrivals.emplace(ev.stream, ev.k).second) ++duplicates;
    if (ev.request_line.substr(0, 4) != "GET " || ev.request_line.find("\r") != std::string::npos)
      bad_line = std::string(ev.request_line);
    if (ev.outcome == "timeout" && (ev.status != 0 || ev.service_us < 150'000))
      bad_line = "timeout event too early";
  };
  Engine engine(p);
  RunResult r = engine.run();
  EXPECT_EQ(outcomes["ok"], 40);
  EXPECT_EQ(outcomes["timeout"], 10);
  EXPECT_EQ(outcomes["connect"], 10);
  EXPECT_EQ(outcomes["error"], static_cast<int>(r.stats.streams[3].total().errors_other));
  EXPECT_EQ(outcomes["error"], 10);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(bad_line, "");
  uint64_t events = 0;
  for (const auto& [o, n] : outcomes) events += static_cast<uint64_t>(n);
  EXPECT_EQ(events, r.stats.total().requests);
}

TEST(EngineJitter, JitteredGapsSendTheScheduledArrivals) {
  TestServer server;
  Stream s = make_stream("jitter", server.url(), 100, 1.0);
  s.requests = {static_template("/j")};
  s.gap_jitter_s = std::make_pair(0.005, 0.015);  // mean gap 10 ms + 10 ms: about 50 arrivals
  Plan p = plan_of({s}, 1.0);
  Engine engine(p);
  RunResult r = engine.run();
  EndpointStats t = r.stats.total();
  EXPECT_NEAR(static_cast<double>(t.requests), 50, 5);
  EXPECT_EQ(t.dropped, 0u);
  auto report = build_report(p, r, "test");
  EXPECT_EQ(report.at("streams").as_array()[0].at("planned_requests").as_uint64(), t.requests);
  EXPECT_EQ(server.requests(), t.requests);
  // The intended times the worker sends at are the jittered schedule's: every gap is the
  // profile's 10 ms plus U(5, 15) ms. (How closely the sends follow them is timing: bench/.)
  core::ArrivalSchedule schedule(s.profile, s.process, p.seed, core::stream_key(s.name), 0, 1,
                                 core::GapJitter{0.005, 0.015});
  std::vector<double> intended;
  while (auto a = schedule.next()) {
    if (a->intended_s >= 1.0) break;
    intended.push_back(a->intended_s);
  }
  EXPECT_EQ(intended.size(), t.requests);
  for (size_t i = 1; i < intended.size(); ++i) {
    EXPECT_GE(intended[i] - intended[i - 1], 0.015 - 1e-9) << i;
    EXPECT_LE(intended[i] - intended[i - 1], 0.025 + 1e-9) << i;
  }
  Plan q = p;
  q.streams[0].gap_jitter_s.reset();
  EXPECT_NE(p.hash(), q.hash());
}

}  // namespace
}  // namespace trafficsim::load
