// The target service end to end: a real server on a free loopback port, real HTTP, a small
// (50 000-row) catalog generated once for the suite, seeded randomness, an injected clock.
#include "demo_service/target_service.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/raw_connection.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::demo_service {
namespace {

namespace json = boost::json;
using testing::http_call;
using testing::HttpResult;
using Headers = std::vector<std::pair<std::string, std::string>>;

// One catalog for the whole suite, removed when the process exits.
struct SharedDataDir {
  std::string path = testing::temp_dir();
  ~SharedDataDir() { std::filesystem::remove_all(path); }
};

const std::string& shared_data_dir() {
  static const SharedDataDir dir;
  return dir.path;
}

// A settable clock (unix seconds) shared with the service.
struct FakeClock {
  std::shared_ptr<std::atomic<double>> t = std::make_shared<std::atomic<double>>(1.8e9);
  std::function<double()> fn() const {
    return [t = t] { return t->load(); };
  }
  void set(double v) { t->store(v); }
  void advance(double s) { t->store(t->load() + s); }
};

std::unique_ptr<TargetService> start_target(
    const std::function<void(TargetOptions&)>& customize = {}) {
  TargetOptions o;
  o.port = 0;
  o.data_dir = shared_data_dir();
  o.catalog_rows = 50'000;
  o.access_log = "off";
  o.seed = 42;
  o.threads = 2;
  if (customize) customize(o);
  auto s = std::make_unique<TargetService>(std::move(o));
  s->start();
  return s;
}

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

json::object body_of(const HttpResult& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << r.body;
    return {};
  }
  return v.as_object();
}

// The value of one exposition sample, e.g. series = `x_total{a="b"}`; NaN when absent.
double sample(const std::string& exposition, const std::string& series) {
  size_t pos = 0;
  while ((pos = exposition.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || exposition[pos - 1] == '\n')
      return std::strtod(exposition.c_str() + pos + series.size() + 1, nullptr);
    pos += series.size();
  }
  return std::nan("");
}

// n calls spread over `threads` threads; results in no particular order.
std::vector<HttpResult> parallel_calls(int threads, int n, const std::function<HttpResult(int)>& call) {
  std::vector<std::future<std::vector<HttpResult>>> futures;
  std::atomic<int> next{0};
  for (int t = 0; t < threads; ++t)
    futures.push_back(std::async(std::launch::async, [&] {
      std::vector<HttpResult> out;
      for (int i; (i = next.fetch_add(1)) < n;) out.push_back(call(i));
      return out;
    }));
  std::vector<HttpResult> all;
  for (auto& f : futures)
    for (auto& r : f.get()) all.push_back(std::move(r));
  return all;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

const std::string kEmail =
    R"({"subject":"Interview invitation","body":"We would like to schedule a call to discuss )"
    R"(your availability for an interview next week.","sender":"hr@acme.example"})";

// --- health and contracts ------------------------------------------------------------------

TEST(TargetService, HealthEndpointsAnswerWithLivenessReadinessAndDemoState) {
  auto svc = start_target();
  auto live = http_call(svc->port(), "GET", "/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(body_of(live).at("status"), "alive");
  auto ready = http_call(svc->port(), "GET", "/health/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(body_of(ready).at("catalog_rows").to_number<int64_t>(), 50'000);
  auto health = body_of(http_call(svc->port(), "GET", "/health"));
  EXPECT_EQ(health.at("status"), "healthy");
  ASSERT_TRUE(health.at("demo").is_object());
  EXPECT_EQ(health.at("demo").as_object().at("phase"), "calm");
  auto llm = body_of(http_call(svc->port(), "GET", "/debug/llm"));
  EXPECT_EQ(llm.at("provider"), "simulated");
  EXPECT_TRUE(llm.contains("counters"));
}

TEST(TargetService, ClassifyAnswersCategoryConfidenceTokensAndModelLatency) {
  auto svc = start_target();
  auto r = http_call(svc->port(), "POST", "/hackathon/classify", kEmail);
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = body_of(r);
  EXPECT_EQ(b.at("category"), "interview");
  double confidence = b.at("confidence").to_number<double>();
  EXPECT_GT(confidence, 0.5);
  EXPECT_LE(confidence, 1.0);
  EXPECT_FALSE(b.at("model").as_string().empty());
  auto tokens = b.at("tokens").as_object();
  EXPECT_GT(tokens.at("input").to_number<int64_t>(), 20);
  EXPECT_GT(tokens.at("output").to_number<int64_t>(), 0);
  int64_t latency = b.at("latency_ms").to_number<int64_t>();
  EXPECT_GE(latency, 200);
  EXPECT_LE(latency, 600);
  EXPECT_GE(r.seconds, 0.19);  // the simulated model time is really spent (as a timer)
}

TEST(TargetService, ClassifyRejectsBadInputWithCodeAndField) {
  auto svc = start_target();
  struct Case {
    std::string body;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {"{not json", "invalid_json", ""},
      {R"({"body":"hello","sender":"a@b.c"})", "missing_field", "subject"},
      {R"({"subject":"x","body":42,"sender":"a@b.c"})", "invalid_type", "body"},
      {R"([1,2])", "invalid_type", "body"},
  };
  for (const auto& c : cases) {
    auto r = http_call(svc->port(), "POST", "/hackathon/classify", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    auto b = body_of(r);
    EXPECT_EQ(str(b.at("error")), c.code) << c.body;
    if (!c.field.empty()) {
      EXPECT_EQ(str(b.at("field")), c.field) << c.body;
    }
  }
  for (std::string bad : {"abc", "-5", "30001"}) {
    auto r = http_call(svc->port(), "POST", "/hackathon/classify", kEmail,
                       {{"X-Fault-Delay-Ms", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(body_of(r).at("field"), "X-Fault-Delay-Ms");
  }
}

TEST(TargetService, ClassifyHonoursTheFaultDelayHintAndCountsItAsLlmLatency) {
  auto svc = start_target();
  auto r = http_call(svc->port(), "POST", "/hackathon/classify", kEmail,
                     {{"X-Fault-Delay-Ms", "700"}, {"X-Traffic-Type", "HACKATHON_TRAFFIC_LATENCY_INJECTION"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_GE(r.seconds, 0.9);
  EXPECT_GE(body_of(r).at("latency_ms").to_number<int64_t>(), 900);
  auto metrics = http_call(svc->port(), "GET", "/metrics").body;
  // The request sits in the 1 s..2 s LLM latency bucket, not below 0.75 s.
  EXPECT_EQ(sample(metrics, R"(llm_request_duration_seconds_bucket{model="trafficsim-classifier-1",traffic_type="HACKATHON_TRAFFIC_LATENCY_INJECTION",le="0.75"})"), 0);
  EXPECT_EQ(sample(metrics, R"(llm_request_duration_seconds_count{model="trafficsim-classifier-1",traffic_type="HACKATHON_TRAFFIC_LATENCY_INJECTION"})"), 1);
}

TEST(TargetService, UsersApiCreatesReadsPatchesAndValidates) {
  auto svc = start_target();
  auto p = svc->port();
  auto created = http_call(p, "POST", "/api/v1/users", R"({"name":"Ada Lovelace","email":"ada@example.com"})");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t id = body_of(created).at("id").to_number<int64_t>();
  auto got = http_call(p, "GET", "/api/v1/users/" + std::to_string(id));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(body_of(got).at("email"), "ada@example.com");
  auto patched = http_call(p, "PATCH", "/api/v1/users/" + std::to_string(id), R"({"name":"Ada King"})");
  ASSERT_EQ(patched.status, 200);
  EXPECT_EQ(body_of(patched).at("name"), "Ada King");
  auto list = http_call(p, "GET", "/api/v1/users?limit=5");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(body_of(list).at("users").as_array().size(), 5u);

  EXPECT_EQ(http_call(p, "GET", "/api/v1/users/99999999").status, 404);
  EXPECT_EQ(http_call(p, "GET", "/api/v1/users/abc").status, 400);
  EXPECT_EQ(http_call(p, "POST", "/api/v1/users", "{oops").status, 400);
  auto missing = http_call(p, "POST", "/api/v1/users", R"({"name":"No Mail"})");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(body_of(missing).at("field"), "email");
  auto bad_email = http_call(p, "PATCH", "/api/v1/users/1", R"({"email":"not-an-email"})");
  EXPECT_EQ(bad_email.status, 422);
  EXPECT_EQ(http_call(p, "GET", "/api/v1/users?limit=1000").status, 400);
}

TEST(TargetService, ErrorEndpointFailsAtTheRequestedRateWithin5Points) {
  auto svc = start_target();
  auto results = parallel_calls(4, 2000, [&](int) {
    return http_call(svc->port(), "GET", "/api/v1/users/error?errorRate=0.5");
  });
  int errors = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.status == 200 || r.status == 500 || r.status == 502 || r.status == 503 ||
                r.status == 504)
        << r.status;
    errors += r.status != 200;
  }
  EXPECT_NEAR(errors / 2000.0, 0.5, 0.05);
  for (std::string bad : {"1.5", "-0.1", "abc"}) {
    auto r = http_call(svc->port(), "GET", "/api/v1/users/error?errorRate=" + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(body_of(r).at("field"), "errorRate");
  }
  EXPECT_EQ(http_call(svc->port(), "GET", "/api/v1/users/error?errorRate=0").status, 200);
}

TEST(TargetService, ProductsUseTheIndexAndRecommendationsScanTheTable) {
  auto svc = start_target();
  auto products = http_call(svc->port(), "GET", "/products?category=electronics");
  ASSERT_EQ(products.status, 200) << products.body;
  auto pb = body_of(products);
  EXPECT_EQ(pb.at("index_used"), "idx_products_category_active");
  ASSERT_GT(pb.at("count").to_number<int64_t>(), 0);
  for (const auto& p : pb.at("products").as_array())
    EXPECT_EQ(p.as_object().at("category"), "electronics");

  auto recs = http_call(svc->port(), "GET",
                        "/products/recommendations?category=electronics&user_id=user-0042");
  ASSERT_EQ(recs.status, 200) << recs.body;
  auto rb = body_of(recs);
  EXPECT_EQ(rb.at("index_used"), "NONE");
  EXPECT_GE(rb.at("rows_scanned").to_number<int64_t>(), 45'000);  // a real full scan
  double last = 1e18;
  for (const auto& p : rb.at("recommendations").as_array()) {
    double pop = p.as_object().at("popularity").to_number<double>();
    EXPECT_LE(pop, last);
    last = pop;
  }
  EXPECT_EQ(http_call(svc->port(), "GET", "/products?limit=0").status, 400);
  EXPECT_EQ(http_call(svc->port(), "GET", "/products/recommendations?min_price=9&max_price=1").status,
            400);
}

TEST(TargetService, UnknownRoutesAre404JsonAndWrongMethods405WithAllow) {
  auto svc = start_target();
  auto nf = http_call(svc->port(), "GET", "/no/such/route");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(body_of(nf).at("error"), "not_found");
  auto na = http_call(svc->port(), "DELETE", "/hackathon/classify");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.header("Allow").value_or(""), "POST");
}

// --- the demo timeline ---------------------------------------------------------------------

TEST(TargetService, PhaseFollowsTheDemoMinuteOfAnInjectedClock) {
  FakeClock clock;
  const double t0 = clock.t->load();
  auto svc = start_target([&](TargetOptions& o) {
    o.demo.enabled = true;
    o.demo.mode = "blackfriday";
    o.demo.clock.start_unix = t0;
    o.demo.clock.time_scale = 1;
    o.now_unix = clock.fn();
  });
  struct Step {
    double minute;
    std::string phase;
  };
  for (auto [minute, phase] : std::vector<Step>{{0.5, "calm"},
                                                {3, "warming"},
                                                {7, "surge"},
                                                {12, "degraded"},
                                                {17, "critical"},
                                                {25, "collapse"}}) {
    clock.set(t0 + minute * 60);
    auto demo = body_of(http_call(svc->port(), "GET", "/health")).at("demo").as_object();
    EXPECT_EQ(str(demo.at("phase")), phase) << minute;
    EXPECT_NEAR(demo.at("minute").to_number<double>(), minute, 0.01);
  }
}

TEST(TargetService, TimeScaleCompressesTheStoryNotTheDelays) {
  FakeClock clock;
  const double t0 = clock.t->load();
  auto svc = start_target([&](TargetOptions& o) {
    o.demo = DemoSettings{true, "blackfriday", t0, 60, 30};
    o.now_unix = clock.fn();
  });
  clock.set(t0 + 12);  // 12 s at scale 60 = demo minute 12: degraded, 500-1200 ms, 45 %
  auto results = parallel_calls(40, 80, [&](int i) {
    return http_call(svc->port(), "GET",
                     "/products/recommendations?category=books&user_id=user-" + std::to_string(i));
  });
  int failures = 0;
  for (const auto& r : results) {
    EXPECT_GE(r.seconds, 0.45) << r.status;  // the phase's added delay is real time
    if (r.status == 503) {
      ++failures;
      EXPECT_EQ(body_of(r).at("reason"), "db-timeout");
    } else {
      EXPECT_EQ(r.status, 200);
    }
  }
  EXPECT_GE(failures, 80 * 0.45 - 20);
  EXPECT_LE(failures, 80 * 0.45 + 20);
  auto spans = body_of(http_call(svc->port(), "GET", "/debug/traces?limit=5"));
  bool phase_seen = false;
  for (const auto& s : spans.at("spans").as_array())
    for (const auto& a : s.as_object().at("attributes").as_array())
      if (a.as_object().at("key") == "demo.phase")
        phase_seen = a.as_object().at("value").as_object().at("stringValue") == "degraded";
  EXPECT_TRUE(phase_seen);
}

TEST(TargetService, CalmPhaseNeverFailsAndAddsOneToThreeHundredMs) {
  FakeClock clock;
  const double t0 = clock.t->load();
  auto svc = start_target([&](TargetOptions& o) {
    o.demo = DemoSettings{true, "blackfriday", t0, 1, 30};
    o.now_unix = clock.fn();
  });
  clock.set(t0 + 20);  // minute 0.33
  auto results = parallel_calls(20, 40, [&](int) {
    return http_call(svc->port(), "GET", "/products/recommendations?category=toys");
  });
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 200);
    EXPECT_GE(r.seconds, 0.095);
  }
}

// --- checkout ------------------------------------------------------------------------------

TEST(TargetService, CheckoutFailsWith503WhenRecommendationsTimeOut) {
  auto svc = start_target([](TargetOptions& o) { o.checkout_timeout = std::chrono::milliseconds(300); });
  auto fault = http_call(svc->port(), "POST", "/admin/faults",
                         R"({"name":"slow-recs","route":"/products/recommendations","delay":{"mean_ms":6000}})");
  ASSERT_EQ(fault.status, 201) << fault.body;
  auto r = http_call(svc->port(), "POST", "/checkout", R"({"user_id":"user-0007"})",
                     {{"X-Traffic-Type", "demo"}});
  ASSERT_EQ(r.status, 503) << r.body;
  auto b = body_of(r);
  EXPECT_EQ(b.at("error"), "Checkout failed");
  EXPECT_EQ(b.at("reason"), "product-recommendations-timeout");
  // It gave up at its own 300 ms timeout, not after the 6 s delay (a wide margin: the machine
  // may be busy; the point is which of the two ended the call).
  EXPECT_LT(r.seconds, 4.0);
  auto metrics = http_call(svc->port(), "GET", "/metrics").body;
  EXPECT_EQ(sample(metrics, R"(checkout_failures_total{reason="product-recommendations-timeout"})"), 1);
}

TEST(TargetService, CheckoutPropagatesTraceContextToRecommendations) {
  auto svc = start_target();
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto r = http_call(svc->port(), "POST", "/checkout", "{}",
                     {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("status"), "confirmed");
  auto spans = body_of(http_call(svc->port(), "GET", "/debug/traces?limit=20")).at("spans").as_array();
  std::string checkout_parent, client_id, recs_parent;
  for (const auto& v : spans) {
    const auto& s = v.as_object();
    if (str(s.at("traceId")) != trace) continue;
    if (s.at("name") == "POST /checkout") checkout_parent = std::string(s.at("parentSpanId").as_string());
    if (s.at("name") == "GET /products/recommendations" && s.at("kind").to_number<int>() == 3)
      client_id = std::string(s.at("spanId").as_string());
    if (s.at("name") == "GET /products/recommendations" && s.at("kind").to_number<int>() == 2)
      recs_parent = std::string(s.at("parentSpanId").as_string());
  }
  EXPECT_EQ(checkout_parent, "00f067aa0ba902b7");
  ASSERT_FALSE(client_id.empty());
  EXPECT_EQ(recs_parent, client_id);  // the catalog's server span is a child of checkout's call
}

// --- saturation ----------------------------------------------------------------------------

TEST(TargetService, IndexedPathStaysFastWhileScansSaturateTheirPool) {
  auto svc = start_target([](TargetOptions& o) {
    o.scan_threads = 1;
    o.scan_queue = 4;
  });
  std::atomic<bool> stop{false};
  std::atomic<int> rejected{0}, scans{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 24; ++t)
    flood.emplace_back([&] {
      while (!stop.load()) {
        auto r = http_call(svc->port(), "GET", "/products/recommendations?category=home");
        scans.fetch_add(1);
        if (r.status == 503) rejected.fetch_add(1);
      }
    });
  std::vector<double> latencies;
  int errors = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = http_call(svc->port(), "GET", "/products?category=electronics",
                       {}, {{"X-Traffic-Type", "baseline"}});
    errors += r.status != 200;
    latencies.push_back(r.seconds);
  }
  stop = true;
  for (auto& t : flood) t.join();
  EXPECT_GT(rejected.load(), 0) << "scans never saturated their pool (" << scans.load() << ")";
  EXPECT_LE(errors, 4);  // 0-2 %
  EXPECT_LT(percentile(latencies, 95), 0.120);
  auto metrics = http_call(svc->port(), "GET", "/metrics").body;
  EXPECT_GT(sample(metrics, R"(db_queries_total{pool="scan",outcome="rejected"})"), 0);
}

// --- faults --------------------------------------------------------------------------------

TEST(TargetService, DelayFaultSlowsOnlyMatchingRouteAndMethod) {
  auto svc = start_target();
  auto p = svc->port();
  ASSERT_EQ(http_call(p, "POST", "/admin/faults",
                      R"({"name":"slow-users","route":"/api/v1/users/*","method":"get","delay":{"mean_ms":2000,"jitter_ms":50}})")
                .status,
            201);
  auto slow = http_call(p, "GET", "/api/v1/users/1");
  EXPECT_EQ(slow.status, 200);
  EXPECT_GE(slow.seconds, 1.94);
  // Far below the 2 s delay: these were not delayed (margins for a busy machine).
  auto other_method = http_call(p, "PATCH", "/api/v1/users/1", R"({"name":"Quick"})");
  EXPECT_EQ(other_method.status, 200);
  EXPECT_LT(other_method.seconds, 1.5);
  auto other_route = http_call(p, "GET", "/products");
  EXPECT_LT(other_route.seconds, 1.5);
  auto metrics = http_call(p, "GET", "/metrics").body;
  EXPECT_EQ(sample(metrics, R"(fault_hits_total{fault="slow-users",kind="delay"})"), 1);
}

TEST(TargetService, AbortFaultAnswersItsStatusAndBodyAtTheConfiguredProbability) {
  auto svc = start_target();
  auto p = svc->port();
  ASSERT_EQ(http_call(p, "POST", "/admin/faults",
                      R"({"name":"flaky","route":"/api/v1/users","probability":0.3,"abort":{"status":502,"body":{"error":"bad gateway"}}})")
                .status,
            201);
  auto results = parallel_calls(4, 1000, [&](int) { return http_call(p, "GET", "/api/v1/users"); });
  int aborted = 0;
  for (const auto& r : results) {
    if (r.status == 502) {
      ++aborted;
      EXPECT_EQ(body_of(r).at("error"), "bad gateway");
    } else {
      EXPECT_EQ(r.status, 200);
    }
  }
  EXPECT_NEAR(aborted / 1000.0, 0.3, 0.05);
  auto list = body_of(http_call(p, "GET", "/admin/faults")).at("faults").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].as_object().at("hits").to_number<int64_t>(), aborted);
}

TEST(TargetService, FaultsExpireAreRemovedAndNeverTouchHealthOrMetrics) {
  FakeClock clock;
  auto svc = start_target([&](TargetOptions& o) { o.now_unix = clock.fn(); });
  auto p = svc->port();
  ASSERT_EQ(http_call(p, "POST", "/admin/faults",
                      R"({"name":"all-down","route":"/*","abort":{"status":503},"expires_in":"30s"})")
                .status,
            201);
  EXPECT_EQ(http_call(p, "GET", "/products").status, 503);
  EXPECT_EQ(http_call(p, "GET", "/health").status, 200);
  EXPECT_EQ(http_call(p, "GET", "/health/live").status, 200);
  EXPECT_EQ(http_call(p, "GET", "/metrics").status, 200);
  clock.advance(31);
  EXPECT_EQ(http_call(p, "GET", "/products").status, 200);
  EXPECT_TRUE(body_of(http_call(p, "GET", "/admin/faults")).at("faults").as_array().empty());

  ASSERT_EQ(http_call(p, "POST", "/admin/faults", R"({"name":"a","route":"/products","abort":{"status":500}})").status, 201);
  ASSERT_EQ(http_call(p, "POST", "/admin/faults", R"({"name":"b","route":"/checkout","abort":{"status":500}})").status, 201);
  EXPECT_EQ(http_call(p, "DELETE", "/admin/faults/a").status, 204);
  EXPECT_EQ(http_call(p, "DELETE", "/admin/faults/a").status, 404);
  EXPECT_EQ(http_call(p, "GET", "/products").status, 200);
  auto reset = http_call(p, "POST", "/admin/faults/reset");
  EXPECT_EQ(reset.status, 200);
  EXPECT_EQ(body_of(reset).at("removed").to_number<int>(), 1);
}

TEST(TargetService, InvalidFaultDefinitionsAre400NamingTheField) {
  auto svc = start_target();
  struct Case {
    std::string body, field;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"route":"/x","abort":{"status":503}})", "name"},
           {R"({"name":"n","abort":{"status":503}})", "route"},
           {R"({"name":"n","route":"/x","abort":{"status":200}})", "abort.status"},
           {R"({"name":"n","route":"/x","delay":{"mean_ms":-1}})", "delay.mean_ms"},
           {R"({"name":"n","route":"/x","probability":2,"abort":{"status":503}})", "probability"},
           {R"({"name":"n","route":"/x","abort":{"status":503},"colour":"red"})", "colour"},
       }) {
    auto r = http_call(svc->port(), "POST", "/admin/faults", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(str(body_of(r).at("field")), c.field) << c.body << " -> " << r.body;
  }
}

TEST(TargetService, AdminRequiresTheApiKeyWhenOneIsConfigured) {
  auto svc = start_target([](TargetOptions& o) { o.api_key = "s3cret"; });
  EXPECT_EQ(http_call(svc->port(), "GET", "/admin/faults").status, 401);
  EXPECT_EQ(http_call(svc->port(), "GET", "/admin/faults", {}, {{"X-API-Key", "wrong"}}).status, 401);
  EXPECT_EQ(http_call(svc->port(), "GET", "/admin/faults", {}, {{"X-API-Key", "s3cret"}}).status, 200);
  EXPECT_EQ(http_call(svc->port(), "GET", "/products").status, 200);  // only /admin is guarded
}

TEST(TargetService, AdminDemoStartsTheBlackFridayStoryOverAndStopsIt) {
  FakeClock clock;
  auto svc = start_target([&](TargetOptions& o) {
    o.now_unix = clock.fn();
    o.api_key = "s3cret";
  });
  auto p = svc->port();
  std::vector<std::pair<std::string, std::string>> key{{"X-API-Key", "s3cret"}};
  EXPECT_EQ(http_call(p, "POST", "/admin/demo", R"({"time_scale":60})").status, 401);
  auto health = body_of(http_call(p, "GET", "/health")).at("demo").as_object();
  EXPECT_FALSE(health.at("enabled").as_bool());

  auto started = http_call(p, "POST", "/admin/demo", R"({"time_scale":60})", key);
  ASSERT_EQ(started.status, 200) << started.body;
  EXPECT_TRUE(body_of(started).at("enabled").as_bool());
  EXPECT_DOUBLE_EQ(body_of(started).at("start_timestamp").to_number<double>(), clock.t->load());
  clock.advance(21);  // 21 demo minutes at scale 60
  health = body_of(http_call(p, "GET", "/health")).at("demo").as_object();
  EXPECT_EQ(str(health.at("phase")), "collapse");
  EXPECT_NEAR(health.at("minute").to_number<double>(), 21, 1e-6);
  auto metrics = http_call(p, "GET", "/metrics").body;
  EXPECT_EQ(sample(metrics, R"(demo_phase{phase="collapse"})"), 1) << metrics.substr(0, 400);

  // Again: the story starts over from minute 0.
  ASSERT_EQ(http_call(p, "POST", "/admin/demo", R"({"time_scale":60})", key).status, 200);
  health = body_of(http_call(p, "GET", "/health")).at("demo").as_object();
  EXPECT_EQ(str(health.at("phase")), "calm");
  EXPECT_EQ(str(body_of(http_call(p, "GET", "/admin/demo", {}, key)).at("mode")), "blackfriday");

  auto off = http_call(p, "DELETE", "/admin/demo", {}, key);
  ASSERT_EQ(off.status, 200);
  EXPECT_FALSE(body_of(off).at("enabled").as_bool());
  clock.advance(30);
  health = body_of(http_call(p, "GET", "/health")).at("demo").as_object();
  EXPECT_EQ(str(health.at("phase")), "calm");

  for (auto [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"time_scale":0})", "time_scale"},
           {R"({"time_scale":5000})", "time_scale"},
           {R"({"time_scale":"fast"})", "time_scale"},
           {R"({"duration_minutes":-1})", "duration_minutes"},
           {R"({"start_timestamp":-5})", "start_timestamp"},
           {R"({"speed":2})", "speed"},
           {R"([1])", "body"},
       }) {
    auto r = http_call(p, "POST", "/admin/demo", body, key);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(str(body_of(r).at("field")), field) << body << " -> " << r.body;
  }
  EXPECT_EQ(http_call(p, "POST", "/admin/demo", "{", key).status, 400);
}

// --- metrics, spans, access log -------------------------------------------------------------

TEST(TargetService, MetricsUseRouteTemplatesAndBoundedTrafficTypes) {
  auto svc = start_target();
  auto p = svc->port();
  for (int i = 0; i < 3; ++i)
    http_call(p, "POST", "/hackathon/classify", kEmail, {{"X-Traffic-Type", "HACKATHON_TRAFFIC_NORMAL_TRAFFIC"}});
  http_call(p, "POST", "/hackathon/classify", "{bad", {{"X-Traffic-Type", "HACKATHON_TRAFFIC_ERROR_INJECTION"}});
  http_call(p, "GET", "/api/v1/users/17", {}, {{"X-Traffic-Type", "user-1234-unique"}});
  auto metrics = http_call(p, "GET", "/metrics").body;
  EXPECT_EQ(sample(metrics, R"(http_requests_total{endpoint="/hackathon/classify",method="POST",status="200",traffic_type="HACKATHON_TRAFFIC_NORMAL_TRAFFIC"})"), 3);
  EXPECT_EQ(sample(metrics, R"(llm_errors_total{traffic_type="HACKATHON_TRAFFIC_ERROR_INJECTION",status="400"})"), 1);
  EXPECT_EQ(sample(metrics, R"(http_requests_total{endpoint="/api/v1/users/{id}",method="GET",status="200",traffic_type="other"})"), 1);
  EXPECT_EQ(metrics.find("/api/v1/users/17"), std::string::npos);
  EXPECT_EQ(metrics.find("user-1234-unique"), std::string::npos);
  EXPECT_GT(sample(metrics, R"(llm_tokens_used_total{type="input",traffic_type="HACKATHON_TRAFFIC_NORMAL_TRAFFIC"})"), 60);
  EXPECT_NEAR(sample(metrics, "llm_error_rate"), 0.25, 1e-9);  // 1 of 4 in the last minute
}

TEST(TargetService, PromtoolAcceptsTheMetricsPage) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  auto svc = start_target();
  auto p = svc->port();
  http_call(p, "POST", "/hackathon/classify", kEmail, {{"X-Traffic-Type", "demo"}});
  http_call(p, "GET", "/products/recommendations");
  http_call(p, "POST", "/checkout");
  http_call(p, "POST", "/admin/faults", R"({"name":"x","route":"/products","abort":{"status":500}})");
  http_call(p, "GET", "/products");
  auto metrics = http_call(p, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
  std::string dir = testing::temp_dir();
  std::string file = dir + "/metrics.txt";
  std::ofstream(file) << metrics.body;
  auto check = testing::run_process({"sh", "-c", "promtool check metrics < " + file}, std::chrono::seconds(20));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST(TargetService, SpansCarryTheSeedsAttributes) {
  auto svc = start_target();
  http_call(svc->port(), "GET", "/products/recommendations?category=garden", {}, {{"X-Traffic-Type", "demo"}});
  auto spans = body_of(http_call(svc->port(), "GET", "/debug/traces?limit=2")).at("spans").as_array();
  ASSERT_FALSE(spans.empty());
  std::map<std::string, std::string> attrs;
  for (const auto& v : spans) {
    const auto& s = v.as_object();
    if (s.at("kind").to_number<int>() != 2) continue;
    for (const auto& a : s.at("attributes").as_array())
      attrs[std::string(a.as_object().at("key").as_string())] = json::serialize(a.as_object().at("value"));
  }
  EXPECT_NE(attrs["traffic.type"].find("demo"), std::string::npos);
  EXPECT_NE(attrs["endpoint.type"].find("slow_unindexed"), std::string::npos);
  EXPECT_NE(attrs["db.index_used"].find("NONE"), std::string::npos);
  EXPECT_NE(attrs["db.full_table_scan"].find("true"), std::string::npos);
  EXPECT_TRUE(attrs.count("db.rows_scanned"));
  EXPECT_EQ(http_call(svc->port(), "GET", "/debug/traces?limit=0").status, 400);
}

TEST(TargetService, AccessLogWritesOneJsonLinePerRequest) {
  std::string dir = testing::temp_dir();
  {
    auto svc = start_target([&](TargetOptions& o) { o.access_log = dir + "/access.log"; });
    http_call(svc->port(), "GET", "/api/v1/users/3", {}, {{"X-Traffic-Type", "baseline"}});
    http_call(svc->port(), "GET", "/nope");
    svc->stop();
  }
  std::ifstream in(dir + "/access.log");
  std::vector<json::object> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line).as_object());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("endpoint"), "/api/v1/users/{id}");
  EXPECT_EQ(lines[0].at("traffic_type"), "baseline");
  EXPECT_EQ(lines[0].at("status").to_number<int>(), 200);
  EXPECT_EQ(lines[0].at("trace_id").as_string().size(), 32u);
  EXPECT_TRUE(lines[0].contains("latency_ms"));
  EXPECT_TRUE(lines[0].contains("time"));
  EXPECT_EQ(lines[1].at("status").to_number<int>(), 404);
}

// --- HTTP edges ----------------------------------------------------------------------------

TEST(TargetService, OversizedBodiesHeadsAndMalformedRequestsGetTheRightStatus) {
  auto svc = start_target();
  std::string big(1'100'000, 'x');
  auto r = http_call(svc->port(), "POST", "/hackathon/classify", big);
  EXPECT_EQ(r.status, 413);
  auto head = testing::raw_exchange(svc->port(), "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                     std::string(20'000, 'a') + "\r\n\r\n");
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 431");
  auto garbage = testing::raw_exchange(svc->port(), "GARBAGE\r\n\r\n");
  EXPECT_EQ(garbage.substr(0, 12), "HTTP/1.1 400");
  // The server is still healthy afterwards.
  EXPECT_EQ(http_call(svc->port(), "GET", "/health/live").status, 200);
}

TEST(TargetService, MetricsExposeTheHttpServersCounters) {
  auto svc = start_target();
  const int p = svc->port();
  EXPECT_EQ(http_call(p, "POST", "/hackathon/classify", std::string(1'100'000, 'x')).status, 413);
  testing::raw_exchange(p, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " +
                               std::string(20'000, 'a') + "\r\n\r\n");
  testing::raw_exchange(p, "GARBAGE\r\n\r\n");
  // The server counts a rejection around the time it answers it: wait for all three.
  const std::vector<std::string> rejected = {
      R"(http_server_rejected_requests_total{reason="body_too_large"})",
      R"(http_server_rejected_requests_total{reason="header_too_large"})",
      R"(http_server_rejected_requests_total{reason="bad_request"})"};
  std::string metrics;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    metrics = http_call(p, "GET", "/metrics").body;
    bool all = std::all_of(rejected.begin(), rejected.end(),
                           [&](const std::string& series) { return sample(metrics, series) >= 1; });
    if (all || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::yield();
  }
  for (const auto& series : rejected) EXPECT_EQ(sample(metrics, series), 1) << series;
  EXPECT_GE(sample(metrics, "http_server_connections_accepted_total"), 4);
  EXPECT_GE(sample(metrics, "http_server_requests_total"), 1);
  EXPECT_GE(sample(metrics, "http_server_timeouts_total"), 0);
  EXPECT_GE(sample(metrics, "http_server_client_gone_total"), 0);
  EXPECT_GE(sample(metrics, "http_connections_open"), 1);  // the scrape's own connection
  EXPECT_NE(metrics.find("# TYPE http_server_rejected_requests_total counter"), std::string::npos);
}

// At the connection cap a liveness probe still gets through, everything else is told to come
// back later, and /metrics counts it.
TEST(TargetService, AtTheConnectionCapHealthLiveAnswersOthersGet503AndMetricsCountIt) {
  auto svc = start_target([](TargetOptions& o) { o.max_connections = 3; });
  const uint16_t p = svc->port();
  // Scraped in-process (the same exposition /metrics serves): a new connection would be over
  // the cap.
  auto scrape = [&] { return svc->registry().expose(); };
  testing::RawConnection idle0(p);
  testing::RawConnection idle1(p), idle2(p);  // idle clients fill the cap
  ASSERT_TRUE(testing::eventually([&] { return sample(scrape(), "http_connections_open") == 3; }))
      << scrape();

  testing::RawConnection probe(p);
  ASSERT_TRUE(probe.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(probe.read_until("\r\n\r\n"));
  EXPECT_EQ(probe.received().rfind("HTTP/1.1 200", 0), 0u) << probe.received();
  testing::RawConnection other(p);
  ASSERT_TRUE(other.send("GET /products HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(other.read_until("\r\n\r\n"));
  EXPECT_EQ(other.received().rfind("HTTP/1.1 503", 0), 0u) << other.received();
  EXPECT_NE(other.received().find("Retry-After: 1"), std::string::npos) << other.received();
  EXPECT_TRUE(other.wait_closed());

  std::string metrics = scrape();
  EXPECT_EQ(sample(metrics, R"(http_server_rejected_requests_total{reason="overloaded"})"), 1)
      << metrics;
  EXPECT_EQ(sample(metrics, "http_server_connections_refused_total"), 0);
}

TEST(TargetService, IdleAndSlowClientsAreClosedAfterTheTimeout) {
  auto svc = start_target([](TargetOptions& o) {
    o.idle_timeout = std::chrono::milliseconds(300);
    o.read_timeout = std::chrono::milliseconds(300);
  });
  auto start = std::chrono::steady_clock::now();
  // Half a request, then nothing: the server closes the connection.
  auto out = testing::raw_exchange(svc->port(), "GET /health HTTP/1.1\r\nHo", std::chrono::seconds(5));
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(out.empty());
  EXPECT_GE(waited, 0.25);
  EXPECT_LT(waited, 3.0);
}

}  // namespace
}  // namespace trafficsim::demo_service
