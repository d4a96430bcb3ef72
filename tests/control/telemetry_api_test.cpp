// The Traces, Logs and Metrics pages' REST routes: spans from every source grouped into traces
// (newest first, filtered by traffic.type, route, status and duration, bounded), one trace in
// waterfall order, the log tail after a cursor at a level and above, chart-ready series from a
// registry's exposition, and every bad parameter answered 400 naming it. The demo target in
// process (as `trafficsim demo` mounts it) plus a source whose buffers the tests fill.
#include <gtest/gtest.h>

#include "activity/activity_metrics.hpp"
#include "control/telemetry_api.hpp"
#include "control/telemetry_metrics.hpp"
#include "control_test_support.hpp"
#include "support/eventually.hpp"
#include "telemetry/metrics.hpp"

namespace {

using namespace control_test;
namespace telemetry = trafficsim::telemetry;
namespace core = trafficsim::core;
using trafficsim::control::TelemetryApi;

constexpr uint64_t kT0 = 1'764'626'000'000'000'000ull;  // unix nanoseconds
constexpr uint64_t kMs = 1'000'000ull;

core::TraceId trace_id(uint8_t n) {
  core::TraceId id{};
  id[15] = n;
  id[0] = 0xab;
  return id;
}
core::SpanId span_id(uint8_t n) {
  core::SpanId id{};
  id[7] = n;
  return id;
}

telemetry::Span span(uint8_t trace, uint8_t id, uint8_t parent, std::string name, uint64_t start_ms,
                     uint64_t length_ms, telemetry::SpanKind kind = telemetry::SpanKind::server) {
  telemetry::Span s;
  s.trace_id = trace_id(trace);
  s.span_id = span_id(id);
  if (parent) s.parent_span_id = span_id(parent);
  s.name = std::move(name);
  s.kind = kind;
  s.start_unix_nano = kT0 + start_ms * kMs;
  s.end_unix_nano = s.start_unix_nano + length_ms * kMs;
  return s;
}

telemetry::Span server(uint8_t trace, uint8_t id, std::string route, std::string traffic, int status,
                       uint64_t start_ms, uint64_t length_ms) {
  auto s = span(trace, id, 0, "GET " + route, start_ms, length_ms);
  s.attributes = {{"http.route", route},
                  {"traffic.type", traffic},
                  {"http.response.status_code", status}};
  if (status >= 500) s.status = telemetry::SpanStatusCode::error;
  return s;
}

// The demo target plus a source "test" whose buffers the tests fill; `key` as the server's.
struct TelemetryStack {
  explicit TelemetryStack(std::string key = {})
      : api([this] { return now_s; }),
        stack({}, key, {}, false, [this](trafficsim::control::ControlApi& a) {
          a.set_telemetry(&api);
        }) {
    api.add_source({"test", &spans, &logs, &registry});
    auto* svc = stack.service.get();
    api.add_source({"demo-target", &svc->spans(), &svc->logs(), &svc->registry()});
  }
  json::object get(const std::string& target, int status = 200) {
    auto r = stack.get(target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return r.body.empty() ? json::object{} : body_of(r);
  }
  double now_s = 1000;
  telemetry::SpanBuffer spans{64};
  telemetry::LogBuffer logs{64};
  telemetry::Registry registry;
  TelemetryApi api;
  DemoStack stack;
};

std::vector<std::string> trace_ids(const json::object& answer) {
  std::vector<std::string> out;
  for (const auto& t : answer.at("traces").as_array())
    out.emplace_back(t.at("trace_id").as_string());
  return out;
}

std::string hex(uint8_t trace) { return core::to_hex(trace_id(trace)); }

TEST(TelemetryApi, TracesGroupSpansByTraceNewestFirstWithTheRootsFigures) {
  TelemetryStack s;
  s.spans.add(span(1, 2, 1, "SELECT ecommerce.products", 5, 30, telemetry::SpanKind::client));
  s.spans.add(server(1, 1, "/products", "baseline", 200, 0, 52));
  s.spans.add(server(2, 3, "/products/recommendations", "demo", 503, 100, 3200));

  auto answer = s.get("/api/v1/traces?limit=10");
  // The demo target has served nothing: only the test source's two traces.
  ASSERT_EQ(trace_ids(answer), (std::vector<std::string>{hex(2), hex(1)}));
  const auto& newest = answer.at("traces").as_array()[0].as_object();
  EXPECT_EQ(newest.at("root").as_string(), "GET /products/recommendations");
  EXPECT_EQ(newest.at("status").as_string(), "error");
  EXPECT_EQ(newest.at("status_code").as_int64(), 503);
  EXPECT_EQ(newest.at("span_count").to_number<uint64_t>(), 1u);
  const auto& older = answer.at("traces").as_array()[1].as_object();
  EXPECT_EQ(older.at("root").as_string(), "GET /products");  // not the child added first
  EXPECT_EQ(older.at("source").as_string(), "test");
  EXPECT_EQ(older.at("traffic_type").as_string(), "baseline");
  EXPECT_EQ(older.at("route").as_string(), "/products");
  EXPECT_EQ(older.at("span_count").to_number<uint64_t>(), 2u);
  EXPECT_DOUBLE_EQ(older.at("duration_ms").as_double(), 52.0);
  EXPECT_EQ(older.at("start_unix_nano").as_string(), std::to_string(kT0));
  EXPECT_EQ(older.at("status").as_string(), "ok");
}

TEST(TelemetryApi, TracesFilterByTrafficTypeRouteStatusAndDuration) {
  TelemetryStack s;
  s.spans.add(server(1, 1, "/products", "baseline", 200, 0, 50));
  s.spans.add(server(2, 2, "/products/recommendations", "demo", 200, 10, 300));
  s.spans.add(server(3, 3, "/products/recommendations", "demo", 503, 20, 3000));
  s.spans.add(server(4, 4, "/users/{id}", "none", 404, 30, 5));

  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?traffic_type=demo")),
            (std::vector<std::string>{hex(3), hex(2)}));
  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?route=%2Fproducts")), (std::vector<std::string>{hex(1)}));
  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?status=5xx")), (std::vector<std::string>{hex(3)}));
  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?status=error")), (std::vector<std::string>{hex(3)}));
  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?status=404")), (std::vector<std::string>{hex(4)}));
  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?status=ok&traffic_type=demo")),
            (std::vector<std::string>{hex(2)}));
  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?min_ms=100")), (std::vector<std::string>{hex(3), hex(2)}));
  EXPECT_EQ(trace_ids(s.get("/api/v1/traces?min_ms=10&max_ms=1000")),
            (std::vector<std::string>{hex(2), hex(1)}));
  auto two = s.get("/api/v1/traces?limit=2");
  EXPECT_EQ(trace_ids(two), (std::vector<std::string>{hex(4), hex(3)}));
  EXPECT_EQ(two.at("matched").to_number<uint64_t>(), 4u);
}

TEST(TelemetryApi, ATraceAnswersItsSpansInWaterfallOrderWithDepthsOffsetsAndEvents) {
  TelemetryStack s;
  // checkout → recommendations → SELECT (with its pool wait), added in the order they end.
  auto select = span(7, 4, 3, "SELECT ecommerce.products", 30, 3000, telemetry::SpanKind::client);
  select.attributes = {{"db.query.text", "SELECT * FROM products WHERE category = ?"},
                       {"db.full_table_scan", true},
                       {"db.rows_scanned", 487342}};
  select.events.push_back({kT0 + 30 * kMs, "pool.wait.start", {}});
  select.events.push_back({kT0 + 2130 * kMs, "pool.connection.acquired", {{"db.pool_wait_ms", 2100}}});
  s.spans.add(select);
  s.spans.add(span(7, 5, 1, "inventory", 10, 5, telemetry::SpanKind::internal));
  auto rec = server(7, 3, "/products/recommendations", "demo", 503, 20, 3100);
  rec.parent_span_id = span_id(2);  // under checkout's client call
  s.spans.add(rec);
  s.spans.add(span(7, 2, 1, "GET /products/recommendations", 15, 3110, telemetry::SpanKind::client));
  s.spans.add(server(7, 1, "/checkout", "demo", 503, 0, 3200));

  auto t = s.get("/api/v1/traces/" + hex(7));
  EXPECT_EQ(t.at("root").as_string(), "GET /checkout");
  std::vector<std::pair<std::string, int64_t>> order;
  for (const auto& sp : t.at("spans").as_array())
    order.emplace_back(std::string(sp.at("spanId").as_string()).substr(14), sp.at("depth").as_int64());
  ASSERT_EQ(order.size(), 5u);
  EXPECT_EQ(order[0], (std::pair<std::string, int64_t>{"01", 0}));
  EXPECT_EQ(order[1], (std::pair<std::string, int64_t>{"05", 1}));  // inventory starts at 10 ms
  EXPECT_EQ(order[2], (std::pair<std::string, int64_t>{"02", 1}));
  EXPECT_EQ(order[3], (std::pair<std::string, int64_t>{"03", 2}));
  EXPECT_EQ(order[4], (std::pair<std::string, int64_t>{"04", 3}));
  const auto& db = t.at("spans").as_array()[4].as_object();
  EXPECT_EQ(db.at("kind_name").as_string(), "client");
  EXPECT_DOUBLE_EQ(db.at("offset_ms").as_double(), 30.0);
  EXPECT_DOUBLE_EQ(db.at("duration_ms").as_double(), 3000.0);
  EXPECT_EQ(db.at("parentSpanId").as_string(), core::to_hex(span_id(3)));
  EXPECT_EQ(db.at("startTimeUnixNano").as_string(), std::to_string(kT0 + 30 * kMs));
  EXPECT_TRUE(db.at("attributes").at("db.full_table_scan").as_bool());
  ASSERT_EQ(db.at("events").as_array().size(), 2u);
  EXPECT_EQ(db.at("events").as_array()[1].at("name").as_string(), "pool.connection.acquired");
  EXPECT_DOUBLE_EQ(db.at("events").as_array()[1].at("offset_ms").as_double(), 2130.0);
  EXPECT_TRUE(t.at("full_table_scan").as_bool());
}

TEST(TelemetryApi, AnUnknownTraceIs404AndAMalformedIdIs400NamingTheTraceId) {
  TelemetryStack s;
  auto missing = s.get("/api/v1/traces/" + hex(9), 404);
  EXPECT_EQ(missing.at("error").as_string(), "not_found");
  for (std::string bad : {std::string("xyz"), std::string("ab"), std::string(32, '0'),
                          std::string(31, 'a') + "g"}) {
    auto r = s.get("/api/v1/traces/" + bad, 400);
    EXPECT_EQ(r.at("field").as_string(), "trace_id") << bad;
  }
}

TEST(TelemetryApi, BadParametersAre400NamingTheParameter) {
  TelemetryStack s;
  const std::pair<std::string, std::string> cases[] = {
      {"/api/v1/traces?status=7xx", "status"},     {"/api/v1/traces?status=teapot", "status"},
      {"/api/v1/traces?min_ms=-1", "min_ms"},      {"/api/v1/traces?max_ms=soon", "max_ms"},
      {"/api/v1/traces?min_ms=10&max_ms=5", "min_ms"}, {"/api/v1/traces?limit=0", "limit"},
      {"/api/v1/traces?limit=501", "limit"},       {"/api/v1/traces?traffic.type=demo", "traffic.type"},
      {"/api/v1/logs?level=loud", "level"},        {"/api/v1/logs?after=x", "after"},
      {"/api/v1/logs?after=test:x", "after"},      {"/api/v1/logs?limit=1001", "limit"},
  };
  for (const auto& [target, field] : cases) {
    auto r = s.get(target, 400);
    EXPECT_EQ(r.at("field").as_string(), field) << target;
    EXPECT_NE(std::string(r.at("message").as_string()).find(field), std::string::npos) << target;
  }
  EXPECT_EQ(s.stack.post("/api/v1/traces", "{}").status, 405);
}

telemetry::LogRecord record(telemetry::Severity severity, std::string body, uint64_t at_ms,
                            uint8_t trace = 0) {
  telemetry::LogRecord r;
  r.time_unix_nano = kT0 + at_ms * kMs;
  r.severity = severity;
  r.body = std::move(body);
  r.attributes = {{"http.route", "/products"}};
  if (trace) {
    r.trace_id = trace_id(trace);
    r.span_id = span_id(1);
  }
  return r;
}

std::vector<std::string> messages(const json::object& answer) {
  std::vector<std::string> out;
  for (const auto& r : answer.at("records").as_array()) out.emplace_back(r.at("message").as_string());
  return out;
}

TEST(TelemetryApi, TheLogTailAnswersRecordsAfterTheCursorAtALevelAndAbove) {
  TelemetryStack s;
  s.logs.add(record(telemetry::Severity::debug, "cache hit", 0));
  s.logs.add(record(telemetry::Severity::info, "GET /products 200", 1, 3));
  s.logs.add(record(telemetry::Severity::warn, "slow query", 2));
  s.logs.add(record(telemetry::Severity::error, "GET /checkout 503", 3, 4));

  auto all = s.get("/api/v1/logs");
  EXPECT_EQ(messages(all), (std::vector<std::string>{"cache hit", "GET /products 200", "slow query",
                                                     "GET /checkout 503"}));
  const auto& traced = all.at("records").as_array()[1].as_object();
  EXPECT_EQ(traced.at("seq").to_number<uint64_t>(), 2u);
  EXPECT_EQ(traced.at("source").as_string(), "test");
  EXPECT_EQ(traced.at("level").as_string(), "info");
  EXPECT_EQ(traced.at("trace_id").as_string(), hex(3));
  EXPECT_EQ(traced.at("span_id").as_string(), core::to_hex(span_id(1)));
  EXPECT_EQ(traced.at("attributes").at("http.route").as_string(), "/products");
  EXPECT_TRUE(all.at("records").as_array()[0].at("trace_id").is_null());

  EXPECT_EQ(messages(s.get("/api/v1/logs?level=warn")),
            (std::vector<std::string>{"slow query", "GET /checkout 503"}));
  EXPECT_EQ(messages(s.get("/api/v1/logs?after=2")),
            (std::vector<std::string>{"slow query", "GET /checkout 503"}));

  // The cursor covers every record read, filtered out or not: the next poll answers only news.
  auto errors = s.get("/api/v1/logs?level=error");
  const std::string cursor(errors.at("cursor").as_string());
  EXPECT_NE(cursor.find("test:4"), std::string::npos) << cursor;
  s.logs.add(record(telemetry::Severity::info, "GET /products 200 again", 4));
  s.logs.add(record(telemetry::Severity::error, "GET /checkout 503 again", 5));
  EXPECT_EQ(messages(s.get("/api/v1/logs?level=error&after=" + cursor)),
            (std::vector<std::string>{"GET /checkout 503 again"}));
  EXPECT_EQ(messages(s.get("/api/v1/logs?after=test:5")),
            (std::vector<std::string>{"GET /checkout 503 again"}));
}

TEST(TelemetryApi, AnswersAreBoundedByTheirLimit) {
  TelemetryStack s;
  for (uint8_t i = 1; i <= 30; ++i) {
    s.spans.add(server(i, i, "/products", "baseline", 200, i, 5));
    s.logs.add(record(telemetry::Severity::info, "line " + std::to_string(i), i));
  }
  auto traces = s.get("/api/v1/traces");
  EXPECT_EQ(traces.at("traces").as_array().size(), 30u);
  EXPECT_EQ(s.get("/api/v1/traces?limit=3").at("traces").as_array().size(), 3u);
  auto logs = s.get("/api/v1/logs?limit=5");
  // The newest five, oldest first, and the answer says some were left out.
  EXPECT_EQ(messages(logs),
            (std::vector<std::string>{"line 26", "line 27", "line 28", "line 29", "line 30"}));
  EXPECT_TRUE(logs.at("truncated").as_bool());
  EXPECT_EQ(TelemetryApi::kMaxTraceLimit, 500u);
}

TEST(TelemetryApi, TheDemoTargetsRequestsAreTracesWithTheirQuerySpansBaselineIndexedDemoScanning) {
  TelemetryStack s;
  auto base = s.stack.get("/products?category=electronics", {{"X-Traffic-Type", "baseline"}});
  ASSERT_EQ(base.status, 200) << base.body;
  auto demo = s.stack.get("/products/recommendations?category=electronics&user_id=user-1",
                          {{"X-Traffic-Type", "demo"}});
  ASSERT_LT(demo.status, 600) << demo.body;
  // The span lands in the buffer as the reply is sent: the client may see the reply first.
  ASSERT_TRUE(trafficsim::testing::eventually([&] {
    return s.get("/api/v1/traces?traffic_type=demo").at("traces").as_array().size() == 1 &&
           s.get("/api/v1/traces?traffic_type=baseline").at("traces").as_array().size() == 1;
  }));
  auto demo_list = s.get("/api/v1/traces?traffic_type=demo&route=%2Fproducts%2Frecommendations");
  const auto& d = demo_list.at("traces").as_array().at(0).as_object();
  EXPECT_EQ(d.at("source").as_string(), "demo-target");
  EXPECT_TRUE(d.at("full_table_scan").as_bool());
  EXPECT_GE(d.at("span_count").to_number<uint64_t>(), 2u);

  auto trace = s.get("/api/v1/traces/" + std::string(d.at("trace_id").as_string()));
  const auto& spans = trace.at("spans").as_array();
  EXPECT_EQ(spans.at(0).at("kind_name").as_string(), "server");
  EXPECT_EQ(spans.at(0).at("depth").as_int64(), 0);
  bool select_seen = false;
  for (const auto& sp : spans)
    if (sp.at("name").as_string() == "SELECT ecommerce.products") {
      select_seen = true;
      EXPECT_EQ(sp.at("depth").as_int64(), 1);
      EXPECT_TRUE(sp.at("attributes").at("db.full_table_scan").as_bool());
      EXPECT_TRUE(sp.at("attributes").as_object().contains("db.query.text"));
    }
  EXPECT_TRUE(select_seen) << json::serialize(trace);

  auto baseline = s.get("/api/v1/traces?traffic_type=baseline");
  const auto& b = baseline.at("traces").as_array().at(0).as_object();
  EXPECT_FALSE(b.at("full_table_scan").as_bool());
  EXPECT_EQ(b.at("index_used").as_string(), "idx_products_category_active");

  // Each request is a log record tied to its trace.
  ASSERT_TRUE(trafficsim::testing::eventually([&] {
    auto logs = s.get("/api/v1/logs");
    for (const auto& r : logs.at("records").as_array())
      if (r.at("source") == "demo-target" && r.at("trace_id") == d.at("trace_id")) return true;
    return false;
  }));
}

TEST(TelemetryApi, MetricsAreRatesAndQuantilesPerIntervalAndTheCacheHitRatio) {
  TelemetryStack s;
  auto& requests = s.registry.counter("http_requests_total", "", {"traffic_type"});
  auto& duration = s.registry.histogram("http_request_duration_seconds", "", {"traffic_type"},
                                        {0.01, 0.1, 1});
  auto& hits = s.registry.counter("cache_hits_total", "");
  auto& misses = s.registry.counter("cache_misses_total", "");
  auto& jobs = s.registry.histogram("job_duration_seconds", "", {"job_type"}, {0.1, 0.5, 1});
  requests.with({"baseline"}).inc(5);
  auto first = s.api.metrics_json();
  EXPECT_EQ(first.at("samples").to_number<uint64_t>(), 1u);
  EXPECT_TRUE(first.at("t").as_array().empty());

  s.now_s += 2;
  requests.with({"baseline"}).inc(20);
  for (int i = 0; i < 100; ++i) duration.with({"baseline"}).observe(i < 90 ? 0.005 : 0.5);
  hits.with({}).inc(3);
  misses.with({}).inc(1);
  jobs.with({"send_email"}).observe(0.3);
  auto m = s.get("/api/v1/telemetry/metrics");
  ASSERT_EQ(m.at("t").as_array().size(), 1u);
  EXPECT_DOUBLE_EQ(m.at("t").as_array()[0].as_double(), 1002.0);
  auto series = [&](std::string_view chart, std::string_view label) -> json::value {
    for (const auto& c : m.at("charts").as_array())
      if (c.at("id").as_string() == chart)
        for (const auto& sr : c.at("series").as_array())
          if (sr.at("label").as_string() == label) return sr.at("values").as_array().at(0);
    ADD_FAILURE() << "no series " << label << " in " << chart << ": " << json::serialize(m);
    return nullptr;
  };
  EXPECT_DOUBLE_EQ(series("request_rate", "test · baseline").as_double(), 10.0);  // 20 in 2 s
  EXPECT_NEAR(series("request_duration", "test · baseline p50").as_double(), 5.56, 0.01);
  EXPECT_NEAR(series("request_duration", "test · baseline p95").as_double(), 550.0, 0.01);
  EXPECT_DOUBLE_EQ(series("cache_hit_ratio", "test").as_double(), 0.75);
  EXPECT_NEAR(series("job_duration", "test · send_email p95").as_double(), 480.0, 0.01);

  // A second read within the interval takes no new sample.
  EXPECT_EQ(s.api.metrics_json().at("samples").to_number<uint64_t>(), 2u);
}

// The activity jobs' metrics (activity_* families, seed 003) chart on the same page: request
// rate by route, query time by table, job duration by type, the cache hit ratio.
TEST(TelemetryApi, TheActivitysMetricsChartBesideTheDemoTargets) {
  TelemetryStack s;
  telemetry::Registry activity_registry;
  trafficsim::activity::ActivityMetrics metrics(activity_registry);
  s.api.add_source({"activity", nullptr, nullptr, &activity_registry});
  auto record = [&](trafficsim::activity::Activity a) { metrics.record(a); };
  s.api.metrics_json();  // the first sample
  s.now_s += 2;
  for (int i = 0; i < 8; ++i) {
    trafficsim::activity::Activity a;
    a.kind = trafficsim::activity::ActivityKind::http;
    a.method = "GET";
    a.route = "/users";
    a.status = 200;
    a.duration_us = 20'000;
    record(a);
  }
  trafficsim::activity::Activity db;
  db.kind = trafficsim::activity::ActivityKind::db;
  db.table = "orders";
  db.duration_us = 30'000;
  record(db);
  trafficsim::activity::Activity job;
  job.kind = trafficsim::activity::ActivityKind::job;
  job.job_type = "send_email";
  job.duration_us = 300'000;
  record(job);
  for (int i = 0; i < 4; ++i) {
    trafficsim::activity::Activity c;
    c.kind = trafficsim::activity::ActivityKind::cache;
    c.cache_hit = i != 0;
    c.duration_us = 1'000;
    record(c);
  }
  auto m = s.get("/api/v1/telemetry/metrics");
  auto labels = [&](std::string_view chart) {
    std::vector<std::string> out;
    for (const auto& c : m.at("charts").as_array())
      if (c.at("id").as_string() == chart)
        for (const auto& sr : c.at("series").as_array()) out.emplace_back(sr.at("label").as_string());
    return out;
  };
  auto has = [&](std::string_view chart, std::string_view prefix) {
    for (const auto& l : labels(chart))
      if (l.starts_with(prefix)) return true;
    ADD_FAILURE() << "no series " << prefix << "… in " << chart << ": " << json::serialize(m);
    return false;
  };
  EXPECT_TRUE(has("request_rate", "activity · /users"));
  EXPECT_TRUE(has("request_duration", "activity"));
  EXPECT_TRUE(has("query_time", "activity · orders"));
  EXPECT_TRUE(has("job_duration", "activity · send_email"));
  for (const auto& c : m.at("charts").as_array())
    if (c.at("id").as_string() == "cache_hit_ratio")
      for (const auto& sr : c.at("series").as_array())
        if (sr.at("label").as_string() == "activity")
          EXPECT_DOUBLE_EQ(sr.at("values").as_array().at(0).as_double(), 0.75);
  EXPECT_TRUE(has("cache_hit_ratio", "activity"));
}

TEST(TelemetryApi, BucketQuantileInterpolatesInsideTheBucket) {
  using trafficsim::control::bucket_quantile;
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(bucket_quantile({{1, 0}, {inf, 0}}, 0.5));
  EXPECT_DOUBLE_EQ(*bucket_quantile({{1, 50}, {2, 100}, {inf, 100}}, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(*bucket_quantile({{1, 50}, {2, 100}, {inf, 100}}, 0.75), 1.5);
  EXPECT_DOUBLE_EQ(*bucket_quantile({{1, 50}, {2, 50}, {inf, 100}}, 0.95), 2.0);  // +Inf: last bound
}

TEST(TelemetryApi, TheRoutesNeedTheKeyWhenOneIsSetAndAnswer404WhenOff) {
  TelemetryStack s("sekrit");
  EXPECT_EQ(s.stack.get("/api/v1/traces").status, 401);
  EXPECT_EQ(s.stack.get("/api/v1/logs").status, 401);
  EXPECT_EQ(s.stack.get("/api/v1/traces", {{"X-API-Key", "sekrit"}}).status, 200);
  EXPECT_EQ(s.stack.get("/api/v1/telemetry/metrics", {{"Authorization", "Bearer sekrit"}}).status, 200);

  DemoStack off;
  EXPECT_EQ(off.get("/api/v1/traces").status, 404);
  EXPECT_EQ(off.get("/api/v1/logs").status, 404);
}

}  // namespace
