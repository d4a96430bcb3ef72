// Every payload the OTLP exporter sends decodes with the official OTLP message definitions: the
// receiver (tests/telemetry/node/otlp_receiver.mjs) reads each request with the protobufjs root
// that @opentelemetry/otlp-transformer 0.214 generated from opentelemetry-proto, in both encodings,
// gzipped or not, and the tests compare what it decoded with what went in, field by field. Then
// the exporter against an endpoint that answers 503, 400, a partial success, too slowly, or not
// at all. Release build only (Node from PATH, web/node_modules from `npm ci`).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/otlp_receiver.hpp"
#include "support/process.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/otlp.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::telemetry {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using testing::eventually;
using testing::OtlpReceiver;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- the data we send

constexpr uint64_t kStart = 1'700'000'000'123'456'789ULL;  // exact to the nanosecond

template <size_t N>
std::array<uint8_t, N> id_of(uint8_t first) {
  std::array<uint8_t, N> id{};
  for (size_t i = 0; i < N; ++i) id[i] = static_cast<uint8_t>(first + 17 * i);
  return id;
}

// As JSON values, to compare with what the receiver decoded.
json::value hex_of(std::span<const uint8_t> id) {
  return json::value(core::to_hex(id));
}
json::value text(std::string s) {
  return json::value(std::move(s));
}

const std::string kAwkward = "tab\t quote\" backslash\\ ctrl\x01 newline\n é 日本 🚀";

// A server span with a client child and an internal grandchild: every AnyValue kind, events,
// statuses.
std::vector<Span> three_spans() {
  Span root;
  root.trace_id = id_of<16>(0x0f);
  root.span_id = id_of<8>(0x21);
  root.name = "GET /checkout";
  root.kind = SpanKind::server;
  root.start_unix_nano = kStart;
  root.end_unix_nano = kStart + 250'000'001;
  root.status = SpanStatusCode::error;
  root.status_message = "payment declined";
  root.attributes = {
      {"http.request.method", "GET"},
      {"http.response.status_code", 502},
      {"awkward", kAwkward},
      {"int.min", std::numeric_limits<int64_t>::min()},
      {"int.max", std::numeric_limits<int64_t>::max()},
      {"int.big", int64_t{1} << 53 | 1},  // not exact as a JavaScript number
      {"uint.huge", std::numeric_limits<uint64_t>::max()},
      {"double", 0.1},
      {"double.nan", std::numeric_limits<double>::quiet_NaN()},
      {"double.inf", std::numeric_limits<double>::infinity()},
      {"double.neg_inf", -std::numeric_limits<double>::infinity()},
      {"bool.true", true},
      {"bool.false", false},
      {"array", json::array{1, "two", 3.5, false}},
      {"kvlist", json::object{{"inner", "x"}, {"nested", json::object{{"deep", 7}}}}},
      {"empty", nullptr},
  };
  root.events.push_back(SpanEvent{kStart + 1, "exception", {{"exception.type", "Declined"}}});
  root.events.push_back(SpanEvent{kStart + 2, "retry", {}});

  Span client;
  client.trace_id = root.trace_id;
  client.span_id = id_of<8>(0x31);
  client.parent_span_id = root.span_id;
  client.name = "POST /payments";
  client.kind = SpanKind::client;
  client.start_unix_nano = kStart + 10;
  client.end_unix_nano = kStart + 200'000'000;
  client.attributes = {{"server.address", "payments.internal"}, {"url.full", "http://p/x"}};

  Span internal;
  internal.trace_id = root.trace_id;
  internal.span_id = id_of<8>(0x41);
  internal.parent_span_id = client.span_id;
  internal.name = "db.query";
  internal.kind = SpanKind::internal;
  internal.start_unix_nano = kStart + 20;
  internal.end_unix_nano = kStart + 30;
  internal.status = SpanStatusCode::ok;
  internal.attributes = {{"db.system.name", "sqlite"}, {"db.rows_scanned", 500000}};
  internal.events.push_back(
      SpanEvent{kStart + 25, "pool.wait_start", {{"pool.size", 4}, {"waited", 0.5}}});
  return {root, client, internal};
}

Span simple_span(uint32_t i) {
  Span s;
  s.trace_id = id_of<16>(static_cast<uint8_t>(i + 1));
  s.trace_id[15] = static_cast<uint8_t>(i);
  s.span_id = id_of<8>(static_cast<uint8_t>(i + 3));
  s.span_id[0] = static_cast<uint8_t>(i >> 8);
  s.span_id[7] = static_cast<uint8_t>(i);
  s.name = "span " + std::to_string(i);
  s.start_unix_nano = kStart + i;
  s.end_unix_nano = kStart + i + 1000;
  s.attributes = {{"i", i}, {"http.route", "/users/{id}"}, {"traffic.type", "demo"}};
  return s;
}

std::vector<LogRecord> one_log_per_severity() {
  std::vector<LogRecord> logs;
  const Severity all[] = {Severity::trace, Severity::debug, Severity::info,
                          Severity::warn,  Severity::error, Severity::fatal};
  for (size_t i = 0; i < std::size(all); ++i) {
    LogRecord log;
    log.time_unix_nano = kStart + i;
    log.observed_unix_nano = i % 2 == 0 ? 0 : kStart + 1000 + i;
    log.severity = all[i];
    log.body = "message " + std::to_string(i) + (i == 5 ? " " + kAwkward : "");
    log.attributes = {{"index", i}, {"component", "checkout"}};
    if (i >= 3) {
      log.trace_id = id_of<16>(static_cast<uint8_t>(0x50 + i));
      log.span_id = id_of<8>(static_cast<uint8_t>(0x60 + i));
    }
    logs.push_back(std::move(log));
  }
  return logs;
}

std::vector<MetricData> handmade_metrics() {
  MetricData sum;
  sum.name = "http.server.request.count";
  sum.description = "requests served";
  sum.unit = "{request}";
  sum.kind = MetricKind::sum;
  sum.monotonic = true;
  sum.start_unix_nano = kStart;
  sum.time_unix_nano = kStart + 10'000'000'000ULL;
  sum.numbers = {{{{"http.route", "/a"}, {"code", 200}}, 42}, {{{"http.route", "/b"}}, 0.5}};
  MetricData updown = sum;
  updown.name = "connections.open";
  updown.monotonic = false;
  updown.numbers = {{{}, -3}};
  MetricData gauge;
  gauge.name = "queue.depth";
  gauge.kind = MetricKind::gauge;
  gauge.time_unix_nano = kStart + 5;
  gauge.numbers = {{{{"queue", "q1"}}, 7.25}};
  MetricData histogram;
  histogram.name = "http.server.request.duration";
  histogram.unit = "s";
  histogram.kind = MetricKind::histogram;
  histogram.start_unix_nano = kStart;
  histogram.time_unix_nano = kStart + 10'000'000'000ULL;
  histogram.histograms = {{{{"http.route", "/a"}}, 10, 12.5, {1, 2, 3, 4}, {0.1, 0.5, 1.0}}};
  return {sum, updown, gauge, histogram};
}

// ---------------------------------------------------------------- reading what was decoded

struct Encoding {
  OtlpProtocol protocol;
  bool gzip;
};

void PrintTo(const Encoding& e, std::ostream* os) {
  *os << (e.protocol == OtlpProtocol::json ? "json" : "protobuf") << (e.gzip ? "+gzip" : "");
}

std::string encoding_name(const ::testing::TestParamInfo<Encoding>& info) {
  return std::string(info.param.protocol == OtlpProtocol::json ? "json" : "protobuf") +
         (info.param.gzip ? "_gzip" : "");
}

http::Url url_of(const std::string& text) {
  std::string error;
  auto url = http::parse_url(text, &error);
  if (!url) throw std::runtime_error(error);
  return *url;
}

OtlpOptions options_for(const OtlpReceiver& receiver, Encoding e = {OtlpProtocol::protobuf,
                                                                   false}) {
  OtlpOptions o;
  o.traces_endpoint = url_of(receiver.url("/v1/traces"));
  o.metrics_endpoint = url_of(receiver.url("/v1/metrics"));
  o.logs_endpoint = url_of(receiver.url("/v1/logs"));
  o.protocol = e.protocol;
  o.gzip = e.gzip;
  o.headers = {{"x-conformance", "yes"}};
  o.resource.attributes = {{"service.name", "trafficsim-conformance"},
                           {"service.version", "1.2.3"},
                           {"host.cores", 2}};
  o.resource.scope_name = "trafficsim";
  o.resource.scope_version = "0.1.0";
  o.batch_delay = milliseconds(50);
  o.metric_interval = std::chrono::hours(1);  // metrics once, at shutdown
  o.initial_backoff = milliseconds(50);
  o.max_backoff = milliseconds(200);
  return o;
}

const json::value& attribute(const json::value& attributes, std::string_view key) {
  for (const auto& a : attributes.as_array()) {
    if (a.at("key").as_string() == key) return a.at("value");
  }
  throw std::runtime_error("no attribute '" + std::string(key) + "' in " +
                           json::serialize(attributes));
}

// Every request to `path` answered 200, checked for what any of them must satisfy: the content
// type and encoding we sent, our header, no key the message definitions do not know.
json::array accepted_requests(const OtlpReceiver& receiver, std::string_view path, Encoding e) {
  json::array out = receiver.requests(path, 200);
  for (const auto& r : out) {
    EXPECT_EQ(r.at("contentType"),
              e.protocol == OtlpProtocol::json ? "application/json" : "application/x-protobuf");
    EXPECT_EQ(r.at("contentEncoding"), e.gzip ? "gzip" : "");
    EXPECT_EQ(r.at("headers").at("x-conformance"), "yes");
    EXPECT_TRUE(r.at("unknownKeys").as_array().empty())
        << "keys no OTLP message has: " << json::serialize(r.at("unknownKeys"));
  }
  return out;
}

// The one resource and scope every export carries.
void expect_resource_and_scope(const json::value& resource_item, std::string_view scope_key) {
  const auto& attrs = resource_item.at("resource").at("attributes");
  EXPECT_EQ(attribute(attrs, "service.name"), json::parse(R"({"stringValue":"trafficsim-conformance"})"));
  EXPECT_EQ(attribute(attrs, "service.version"), json::parse(R"({"stringValue":"1.2.3"})"));
  EXPECT_EQ(attribute(attrs, "host.cores"), json::parse(R"({"intValue":"2"})"));
  const auto& scopes = resource_item.at(scope_key).as_array();
  ASSERT_EQ(scopes.size(), 1u);
  EXPECT_EQ(scopes[0].at("scope").at("name"), "trafficsim");
  EXPECT_EQ(scopes[0].at("scope").at("version"), "0.1.0");
}

// The items of every accepted request: spans, metrics or logRecords.
std::vector<json::object> items_of(const json::array& requests, std::string_view resource_key,
                                   std::string_view scope_key, std::string_view item_key) {
  std::vector<json::object> out;
  for (const auto& r : requests) {
    const auto& resources = r.at("body").at(resource_key).as_array();
    EXPECT_EQ(resources.size(), 1u);
    for (const auto& resource_item : resources) {
      expect_resource_and_scope(resource_item, scope_key);
      for (const auto& scope : resource_item.at(scope_key).as_array()) {
        for (const auto& item : scope.at(item_key).as_array()) out.push_back(item.as_object());
      }
    }
  }
  return out;
}

std::map<std::string, json::object> by_name(const std::vector<json::object>& items) {
  std::map<std::string, json::object> out;
  for (const auto& i : items) out[std::string(i.at("name").as_string())] = i;
  return out;
}

bool absent_or(const json::object& o, std::string_view key, const json::value& empty) {
  const auto* v = o.if_contains(key);
  return v == nullptr || *v == empty;
}

class OtlpConformance : public ::testing::TestWithParam<Encoding> {
 protected:
  OtlpReceiver receiver;
};

// ---------------------------------------------------------------- traces

TEST_P(OtlpConformance, SpansDecodeWithTheOfficialDefinitionsFieldByField) {
  const auto sent = three_spans();
  OtlpExporter exporter(options_for(receiver, GetParam()));
  for (const auto& s : sent) ASSERT_TRUE(exporter.add_span(s));
  exporter.shutdown();
  const SignalStats st = exporter.stats(Signal::traces);
  EXPECT_EQ(st.sent, 3u) << st.last_error;
  EXPECT_EQ(st.failed + st.dropped + st.retried, 0u) << st.last_error;
  EXPECT_TRUE(receiver.errors().empty()) << json::serialize(receiver.errors());

  auto spans = by_name(items_of(accepted_requests(receiver, "/v1/traces", GetParam()),
                                "resourceSpans", "scopeSpans", "spans"));
  ASSERT_EQ(spans.size(), 3u);
  const auto& root = spans.at("GET /checkout");
  const auto& client = spans.at("POST /payments");
  const auto& internal = spans.at("db.query");

  const json::value trace_id = hex_of(sent[0].trace_id);
  for (const auto* s : {&root, &client, &internal}) EXPECT_EQ(s->at("traceId"), trace_id);
  EXPECT_EQ(root.at("spanId"), hex_of(sent[0].span_id));
  EXPECT_EQ(client.at("spanId"), hex_of(sent[1].span_id));
  EXPECT_EQ(internal.at("spanId"), hex_of(sent[2].span_id));
  EXPECT_TRUE(absent_or(root, "parentSpanId", "")) << "a root span has no parent";
  EXPECT_EQ(client.at("parentSpanId"), hex_of(sent[0].span_id));
  EXPECT_EQ(internal.at("parentSpanId"), hex_of(sent[1].span_id));

  EXPECT_EQ(root.at("kind"), 2);      // SPAN_KIND_SERVER
  EXPECT_EQ(client.at("kind"), 3);    // SPAN_KIND_CLIENT
  EXPECT_EQ(internal.at("kind"), 1);  // SPAN_KIND_INTERNAL
  EXPECT_EQ(root.at("startTimeUnixNano"), "1700000000123456789");
  EXPECT_EQ(root.at("endTimeUnixNano"), "1700000000373456790");
  EXPECT_EQ(client.at("startTimeUnixNano"), "1700000000123456799");
  EXPECT_EQ(internal.at("endTimeUnixNano"), "1700000000123456819");

  EXPECT_EQ(root.at("status").at("code"), 2);  // STATUS_CODE_ERROR
  EXPECT_EQ(root.at("status").at("message"), "payment declined");
  EXPECT_EQ(internal.at("status").at("code"), 1);  // STATUS_CODE_OK
  EXPECT_TRUE(absent_or(client, "status", json::object{}) ||
              absent_or(client.at("status").as_object(), "code", 0))
      << "an unset status";

  const auto& a = root.at("attributes");
  EXPECT_EQ(attribute(a, "http.request.method"), json::parse(R"({"stringValue":"GET"})"));
  EXPECT_EQ(attribute(a, "http.response.status_code"), json::parse(R"({"intValue":"502"})"));
  EXPECT_EQ(attribute(a, "awkward").at("stringValue"), text(kAwkward));
  EXPECT_EQ(attribute(a, "int.min"), json::parse(R"({"intValue":"-9223372036854775808"})"));
  EXPECT_EQ(attribute(a, "int.max"), json::parse(R"({"intValue":"9223372036854775807"})"));
  EXPECT_EQ(attribute(a, "int.big"), json::parse(R"({"intValue":"9007199254740993"})"));
  EXPECT_EQ(attribute(a, "uint.huge").at("doubleValue").to_number<double>(), 18446744073709551615.0)
      << "an unsigned above INT64_MAX is sent as a double";
  EXPECT_EQ(attribute(a, "double").at("doubleValue").to_number<double>(), 0.1);
  EXPECT_EQ(attribute(a, "double.nan"), json::parse(R"({"doubleValue":"NaN"})"));
  EXPECT_EQ(attribute(a, "double.inf"), json::parse(R"({"doubleValue":"Infinity"})"));
  EXPECT_EQ(attribute(a, "double.neg_inf"), json::parse(R"({"doubleValue":"-Infinity"})"));
  EXPECT_EQ(attribute(a, "bool.true"), json::parse(R"({"boolValue":true})"));
  EXPECT_EQ(attribute(a, "bool.false"), json::parse(R"({"boolValue":false})"));
  EXPECT_EQ(attribute(a, "array"), json::parse(R"({"arrayValue":{"values":[
      {"intValue":"1"},{"stringValue":"two"},{"doubleValue":3.5},{"boolValue":false}]}})"));
  EXPECT_EQ(attribute(a, "kvlist"), json::parse(R"({"kvlistValue":{"values":[
      {"key":"inner","value":{"stringValue":"x"}},
      {"key":"nested","value":{"kvlistValue":{"values":[
          {"key":"deep","value":{"intValue":"7"}}]}}}]}})"));
  EXPECT_EQ(attribute(a, "empty"), json::object{}) << "null: an empty AnyValue";
  EXPECT_EQ(attribute(internal.at("attributes"), "db.rows_scanned"),
            json::parse(R"({"intValue":"500000"})"));
  EXPECT_EQ(attribute(client.at("attributes"), "server.address"),
            json::parse(R"({"stringValue":"payments.internal"})"));

  const auto& events = root.at("events").as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("name"), "exception");
  EXPECT_EQ(events[0].at("timeUnixNano"), "1700000000123456790");
  EXPECT_EQ(attribute(events[0].at("attributes"), "exception.type"),
            json::parse(R"({"stringValue":"Declined"})"));
  EXPECT_EQ(events[1].at("name"), "retry");
  const auto& wait = internal.at("events").at(0);
  EXPECT_EQ(wait.at("name"), "pool.wait_start");
  EXPECT_EQ(attribute(wait.at("attributes"), "pool.size"), json::parse(R"({"intValue":"4"})"));
  EXPECT_EQ(attribute(wait.at("attributes"), "waited"), json::parse(R"({"doubleValue":0.5})"));
}

TEST_P(OtlpConformance, ManySpansGoInBatchesThatAllDecode) {
  OtlpOptions options = options_for(receiver, GetParam());
  options.max_queue = 5000;
  OtlpExporter exporter(options);
  constexpr uint32_t kSpans = 1300;  // 512 + 512 + 276
  std::vector<Span> spans;
  for (uint32_t i = 0; i < kSpans; ++i) spans.push_back(simple_span(i));
  spans[7].attributes["long"] = std::string(70'000, 'x');  // a three-byte length varint
  EXPECT_EQ(exporter.add_spans(spans), kSpans);
  exporter.shutdown();
  const SignalStats st = exporter.stats(Signal::traces);
  EXPECT_EQ(st.sent, kSpans) << st.last_error;
  EXPECT_EQ(st.requests, 3u);
  EXPECT_TRUE(receiver.errors().empty()) << json::serialize(receiver.errors());

  const auto items = items_of(accepted_requests(receiver, "/v1/traces", GetParam()),
                              "resourceSpans", "scopeSpans", "spans");
  ASSERT_EQ(items.size(), kSpans);
  for (uint32_t i = 0; i < kSpans; ++i) {
    const Span expected = simple_span(i);
    const auto& got = items[i];
    ASSERT_EQ(got.at("name"), text(expected.name)) << "spans arrive in the order given";
    EXPECT_EQ(got.at("traceId"), hex_of(expected.trace_id));
    EXPECT_EQ(got.at("spanId"), hex_of(expected.span_id));
    EXPECT_EQ(got.at("startTimeUnixNano"), text(std::to_string(expected.start_unix_nano)));
    EXPECT_EQ(attribute(got.at("attributes"), "i").at("intValue"), text(std::to_string(i)));
  }
  EXPECT_EQ(attribute(items[7].at("attributes"), "long").at("stringValue").as_string().size(),
            70'000u);
}

TEST_P(OtlpConformance, TemplatedSpansDecodeWithTheirTemplateScalarAndOwnAttributes) {
  // The client tracer's form: name and fixed attributes shared and encoded once, per-span values
  // as inline scalars of each kind, plus a span's own map.
  const auto shape = std::make_shared<const SpanTemplate>(
      "POST /hackathon/classify",
      json::object{{"http.request.method", "POST"}, {"server.port", 8080}, {"traffic.type", "demo"}});
  std::vector<Span> spans;
  for (uint32_t i = 0; i < 3; ++i) {
    Span s = simple_span(i);
    s.name.clear();
    s.attributes = {{"own", "yes"}};
    s.base = shape;
    s.scalars.add("http.response.status_code", int64_t{200 + i});
    s.scalars.add("demo.minute", 21.5);
    s.scalars.add("trafficsim.expected_failure", i == 1);
    s.scalars.add("error.type", std::string_view("timeout"));
    spans.push_back(std::move(s));
  }
  OtlpExporter exporter(options_for(receiver, GetParam()));
  EXPECT_EQ(exporter.add_spans(spans), 3u);
  exporter.shutdown();
  EXPECT_EQ(exporter.stats(Signal::traces).sent, 3u) << exporter.stats(Signal::traces).last_error;
  EXPECT_TRUE(receiver.errors().empty()) << json::serialize(receiver.errors());
  const auto items = items_of(accepted_requests(receiver, "/v1/traces", GetParam()),
                              "resourceSpans", "scopeSpans", "spans");
  ASSERT_EQ(items.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    const auto& got = items[i];
    EXPECT_EQ(got.at("name"), "POST /hackathon/classify");
    const auto& a = got.at("attributes");
    EXPECT_EQ(a.as_array().size(), 8u) << json::serialize(a);
    EXPECT_EQ(attribute(a, "http.request.method"), json::parse(R"({"stringValue":"POST"})"));
    EXPECT_EQ(attribute(a, "server.port"), json::parse(R"({"intValue":"8080"})"));
    EXPECT_EQ(attribute(a, "traffic.type"), json::parse(R"({"stringValue":"demo"})"));
    EXPECT_EQ(attribute(a, "http.response.status_code").at("intValue"),
              text(std::to_string(200 + i)));
    EXPECT_EQ(attribute(a, "demo.minute"), json::parse(R"({"doubleValue":21.5})"));
    EXPECT_EQ(attribute(a, "trafficsim.expected_failure").at("boolValue"), i == 1);
    EXPECT_EQ(attribute(a, "error.type"), json::parse(R"({"stringValue":"timeout"})"));
    EXPECT_EQ(attribute(a, "own"), json::parse(R"({"stringValue":"yes"})"));
  }
}

// ---------------------------------------------------------------- metrics

TEST_P(OtlpConformance, MetricsDecodeWithTheOfficialDefinitionsFieldByField) {
  OtlpExporter exporter(options_for(receiver, GetParam()), [] { return handmade_metrics(); });
  exporter.shutdown();  // the final collection
  const SignalStats st = exporter.stats(Signal::metrics);
  EXPECT_EQ(st.sent, 5u) << "data points: 2 + 1 + 1 + 1; " << st.last_error;
  EXPECT_TRUE(receiver.errors().empty()) << json::serialize(receiver.errors());

  auto metrics = by_name(items_of(accepted_requests(receiver, "/v1/metrics", GetParam()),
                                  "resourceMetrics", "scopeMetrics", "metrics"));
  ASSERT_EQ(metrics.size(), 4u);

  const auto& sum = metrics.at("http.server.request.count");
  EXPECT_EQ(sum.at("description"), "requests served");
  EXPECT_EQ(sum.at("unit"), "{request}");
  ASSERT_TRUE(sum.contains("sum")) << json::serialize(sum);
  EXPECT_EQ(sum.at("sum").at("aggregationTemporality"), 2);  // CUMULATIVE
  EXPECT_EQ(sum.at("sum").at("isMonotonic"), true);
  const auto& points = sum.at("sum").at("dataPoints").as_array();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].at("startTimeUnixNano"), "1700000000123456789");
  EXPECT_EQ(points[0].at("timeUnixNano"), "1700000010123456789");
  EXPECT_EQ(points[0].at("asDouble").to_number<double>(), 42.0);
  EXPECT_EQ(attribute(points[0].at("attributes"), "http.route"),
            json::parse(R"({"stringValue":"/a"})"));
  EXPECT_EQ(attribute(points[0].at("attributes"), "code"), json::parse(R"({"intValue":"200"})"));
  EXPECT_EQ(points[1].at("asDouble").to_number<double>(), 0.5);

  const auto& updown = metrics.at("connections.open").at("sum").as_object();
  EXPECT_EQ(updown.at("aggregationTemporality"), 2);
  EXPECT_TRUE(absent_or(updown, "isMonotonic", false)) << json::serialize(updown);
  EXPECT_EQ(updown.at("dataPoints").at(0).at("asDouble").to_number<double>(), -3.0);

  const auto& gauge = metrics.at("queue.depth");
  ASSERT_TRUE(gauge.contains("gauge")) << json::serialize(gauge);
  const auto& gp = gauge.at("gauge").at("dataPoints").at(0).as_object();
  EXPECT_EQ(gp.at("timeUnixNano"), "1700000000123456794");
  EXPECT_TRUE(absent_or(gp, "startTimeUnixNano", "0"));
  EXPECT_EQ(gp.at("asDouble").to_number<double>(), 7.25);

  const auto& histogram = metrics.at("http.server.request.duration");
  EXPECT_EQ(histogram.at("unit"), "s");
  ASSERT_TRUE(histogram.contains("histogram")) << json::serialize(histogram);
  EXPECT_EQ(histogram.at("histogram").at("aggregationTemporality"), 2);
  const auto& hp = histogram.at("histogram").at("dataPoints").at(0);
  EXPECT_EQ(hp.at("count"), "10");
  EXPECT_EQ(hp.at("sum").to_number<double>(), 12.5);
  EXPECT_EQ(hp.at("bucketCounts"), json::parse(R"(["1","2","3","4"])"));
  EXPECT_EQ(hp.at("explicitBounds"), json::parse("[0.1,0.5,1]"));
  EXPECT_EQ(hp.at("startTimeUnixNano"), "1700000000123456789");
  EXPECT_EQ(attribute(hp.at("attributes"), "http.route"), json::parse(R"({"stringValue":"/a"})"));
}

TEST_P(OtlpConformance, RegistryMetricsDecodeAsSumsGaugesAndHistograms) {
  Registry registry;
  auto& requests = registry.counter("demo_requests_total", "requests", {"route", "status"});
  requests.with({"/users", "200"}).inc(41);
  requests.with({"/users", "200"}).inc();
  requests.with({"/checkout", "503"}).inc(2);
  registry.gauge("demo_inflight", "in flight").with({}).set(3);
  auto& latency = registry.histogram("demo_latency_seconds", "latency", {"route"},
                                     {0.005, 0.05, 0.5});
  for (double v : {0.001, 0.002, 0.01, 0.2, 0.3, 0.4, 9.0}) latency.with({"/users"}).observe(v);
  const uint64_t started = core::unix_now_ns();
  OtlpExporter exporter(options_for(receiver, GetParam()), [&] {
    return metrics_from_registry(registry, started, core::unix_now_ns());
  });
  exporter.shutdown();
  EXPECT_EQ(exporter.stats(Signal::metrics).sent, 4u) << exporter.stats(Signal::metrics).last_error;
  EXPECT_TRUE(receiver.errors().empty()) << json::serialize(receiver.errors());

  auto metrics = by_name(items_of(accepted_requests(receiver, "/v1/metrics", GetParam()),
                                  "resourceMetrics", "scopeMetrics", "metrics"));
  ASSERT_EQ(metrics.size(), 3u) << "names: the counter's _total is dropped";
  const auto& sum = metrics.at("demo_requests").at("sum");
  EXPECT_EQ(sum.at("isMonotonic"), true);
  EXPECT_EQ(sum.at("aggregationTemporality"), 2);
  std::map<std::string, double> by_route;
  for (const auto& p : sum.at("dataPoints").as_array()) {
    EXPECT_EQ(p.at("startTimeUnixNano"), text(std::to_string(started)));
    by_route[std::string(attribute(p.at("attributes"), "route").at("stringValue").as_string()) +
             " " + std::string(attribute(p.at("attributes"), "status").at("stringValue").as_string())] =
        p.at("asDouble").to_number<double>();
  }
  EXPECT_EQ(by_route, (std::map<std::string, double>{{"/users 200", 42}, {"/checkout 503", 2}}));

  EXPECT_EQ(metrics.at("demo_inflight").at("gauge").at("dataPoints").at(0).at("asDouble").to_number<double>(),
            3.0);
  const auto& hp = metrics.at("demo_latency_seconds").at("histogram").at("dataPoints").at(0);
  EXPECT_EQ(hp.at("count"), "7");
  EXPECT_DOUBLE_EQ(hp.at("sum").to_number<double>(), 9.913);
  EXPECT_EQ(hp.at("bucketCounts"), json::parse(R"(["2","1","3","1"])")) << "per bucket";
  EXPECT_EQ(hp.at("explicitBounds"), json::parse("[0.005,0.05,0.5]"));
  EXPECT_EQ(attribute(hp.at("attributes"), "route"), json::parse(R"({"stringValue":"/users"})"));
  EXPECT_EQ(hp.at("attributes").as_array().size(), 1u) << "le is no attribute";
}

// ---------------------------------------------------------------- logs

TEST_P(OtlpConformance, LogsDecodeWithTheOfficialDefinitionsFieldByField) {
  const auto sent = one_log_per_severity();
  OtlpExporter exporter(options_for(receiver, GetParam()));
  for (const auto& l : sent) ASSERT_TRUE(exporter.add_log(l));
  exporter.shutdown();
  const SignalStats st = exporter.stats(Signal::logs);
  EXPECT_EQ(st.sent, sent.size()) << st.last_error;
  EXPECT_TRUE(receiver.errors().empty()) << json::serialize(receiver.errors());

  const auto records = items_of(accepted_requests(receiver, "/v1/logs", GetParam()),
                                "resourceLogs", "scopeLogs", "logRecords");
  ASSERT_EQ(records.size(), sent.size());
  const int numbers[] = {1, 5, 9, 13, 17, 21};
  const char* texts[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
  for (size_t i = 0; i < sent.size(); ++i) {
    const auto& r = records[i];
    SCOPED_TRACE(json::serialize(r));
    EXPECT_EQ(r.at("severityNumber"), numbers[i]);
    EXPECT_EQ(r.at("severityText"), texts[i]);
    EXPECT_EQ(r.at("body"), json::object({{"stringValue", sent[i].body}}));
    EXPECT_EQ(r.at("timeUnixNano"), text(std::to_string(kStart + i)));
    EXPECT_EQ(r.at("observedTimeUnixNano"),
              text(std::to_string(i % 2 == 0 ? kStart + i : kStart + 1000 + i)))
        << "an unset observed time is the record's time";
    EXPECT_EQ(attribute(r.at("attributes"), "index"),
              json::object({{"intValue", std::to_string(i)}}));
    EXPECT_EQ(attribute(r.at("attributes"), "component"),
              json::parse(R"({"stringValue":"checkout"})"));
    if (i >= 3) {
      EXPECT_EQ(r.at("traceId"), hex_of(sent[i].trace_id));
      EXPECT_EQ(r.at("spanId"), hex_of(sent[i].span_id));
    } else {
      EXPECT_TRUE(absent_or(r, "traceId", "")) << "not tied to a span";
      EXPECT_TRUE(absent_or(r, "spanId", ""));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Encodings, OtlpConformance,
                         ::testing::Values(Encoding{OtlpProtocol::protobuf, false},
                                           Encoding{OtlpProtocol::protobuf, true},
                                           Encoding{OtlpProtocol::json, false},
                                           Encoding{OtlpProtocol::json, true}),
                         encoding_name);

// ---------------------------------------------------------------- the harness itself

// The receiver must tell a bad payload from a good one, or the tests above prove nothing.
TEST(OtlpReceiverHarness, RefusesWhatTheOfficialDefinitionsOrTheJsonMappingRefuse) {
  OtlpReceiver receiver;
  auto post = [&](std::string_view content_type, std::string_view body) {
    return testing::http_call(receiver.port(), "POST", "/v1/traces", body,
                              {{"Content-Type", std::string(content_type)}})
        .status;
  };
  EXPECT_EQ(post("application/x-protobuf", "\x0a\xff\xff\xff\x0f garbage"), 400);
  EXPECT_EQ(post("application/json", "{not json"), 400);
  const std::string base64_id =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AAECAwQFBgcICQoLDA0ODw==","spanId":"0001020304050607","name":"x"}]}]}]})";
  EXPECT_EQ(post("application/json", base64_id), 400) << "ids are hex in OTLP JSON";
  const std::string enum_name =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","kind":"SPAN_KIND_SERVER"}]}]}]})";
  EXPECT_EQ(post("application/json", enum_name), 400) << "enums are integers in OTLP JSON";
  const std::string bad_time =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","startTimeUnixNano":"12.5"}]}]}]})";
  EXPECT_EQ(post("application/json", bad_time), 400);
  EXPECT_EQ(receiver.errors().size(), 5u) << json::serialize(receiver.errors());

  const std::string snake_case =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","start_time_unix_nano":"1"}]}]}]})";
  EXPECT_EQ(post("application/json", snake_case), 200) << "receivers ignore unknown fields...";
  const auto requests = receiver.requests("/v1/traces");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("unknownKeys"),
            json::parse(R"(["$.resourceSpans[0].scopeSpans[0].spans[0].start_time_unix_nano"])"))
      << "...and the harness names them";

  std::string body;
  const auto spans = three_spans();
  Resource resource;
  resource.attributes["service.name"] = "direct";
  encode_traces_proto(body, resource, spans);
  EXPECT_EQ(post("application/x-protobuf", body), 200);
  body.clear();
  encode_traces_json(body, resource, spans);
  EXPECT_EQ(post("application/json", body), 200);
  auto both = receiver.requests("/v1/traces");
  ASSERT_EQ(both.size(), 3u);
  // The JSON encoder writes an unset status as {"code":0}, the protobuf one leaves it out: the
  // same value of a proto3 message field, so compare without it.
  for (auto& s : both[2].at("body").at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array()) {
    if (s.as_object().contains("status") && s.at("status") == json::parse(R"({"code":0})")) {
      s.as_object().erase("status");
    }
  }
  EXPECT_EQ(both[1].at("body"), both[2].at("body"))
      << "protobuf and JSON of the same spans decode to the same message";
  EXPECT_TRUE(both[2].at("unknownKeys").as_array().empty()) << json::serialize(both[2]);
}

// ---------------------------------------------------------------- resilience

TEST(OtlpExporterResilience, ServiceUnavailableWithRetryAfterIsRetriedAfterTheWaitAndDelivered) {
  OtlpReceiver receiver;
  receiver.control({{"status", 503}, {"retryAfter", "1"}, {"count", 2}});
  OtlpExporter exporter(options_for(receiver));
  for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(exporter.add_span(simple_span(i)));
  ASSERT_TRUE(eventually([&] { return exporter.stats(Signal::traces).requests >= 1; },
                         std::chrono::seconds(15)));
  const SignalStats st = exporter.stats(Signal::traces);
  EXPECT_EQ(st.sent, 5u) << st.last_error;
  EXPECT_EQ(st.retried, 2u);
  EXPECT_EQ(st.failed, 0u);

  const auto requests = receiver.requests("/v1/traces");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].at("status"), 503);
  EXPECT_EQ(requests[1].at("status"), 503);
  EXPECT_EQ(requests[2].at("status"), 200);
  // Retry-After: 1 over the exporter's own 50 ms back-off.
  for (size_t i = 1; i < 3; ++i) {
    const auto gap = requests[i].at("receivedAtMs").to_number<int64_t>() -
                     requests[i - 1].at("receivedAtMs").to_number<int64_t>();
    EXPECT_GE(gap, 950) << "retry " << i << " came " << gap << " ms after the 503";
  }
  EXPECT_EQ(requests[2].at("body"), requests[0].at("body")) << "the same batch, resent";
}

TEST(OtlpExporterResilience, BadRequestAndPayloadTooLargeAreNotRetried) {
  for (int status : {400, 413}) {
    SCOPED_TRACE(status);
    OtlpReceiver receiver;
    receiver.control({{"status", status}, {"count", -1}});
    OtlpExporter exporter(options_for(receiver));
    for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(exporter.add_span(simple_span(i)));
    ASSERT_TRUE(eventually([&] { return exporter.stats(Signal::traces).requests >= 1; }));
    exporter.shutdown();
    const SignalStats st = exporter.stats(Signal::traces);
    EXPECT_EQ(st.failed, 3u);
    EXPECT_EQ(st.sent, 0u);
    EXPECT_EQ(st.retried, 0u);
    EXPECT_EQ(st.requests, 1u);
    EXPECT_NE(st.last_error.find(std::to_string(status)), std::string::npos) << st.last_error;
    EXPECT_EQ(receiver.requests("/v1/traces").size(), 1u);
  }
}

TEST(OtlpExporterResilience, PartialSuccessRejectionsAreCountedNotRetried) {
  for (OtlpProtocol protocol : {OtlpProtocol::protobuf, OtlpProtocol::json}) {
    SCOPED_TRACE(protocol == OtlpProtocol::json ? "json" : "protobuf");
    OtlpReceiver receiver;
    receiver.control(
        {{"partialSuccess", {{"rejected", 3}, {"errorMessage", "3 spans were too old"}}}});
    OtlpExporter exporter(options_for(receiver, {protocol, false}));
    std::vector<Span> spans;
    for (uint32_t i = 0; i < 10; ++i) spans.push_back(simple_span(i));
    ASSERT_EQ(exporter.add_spans(spans), 10u);
    ASSERT_TRUE(eventually([&] { return exporter.stats(Signal::traces).requests >= 1; }));
    exporter.shutdown();
    const SignalStats st = exporter.stats(Signal::traces);
    EXPECT_EQ(st.sent, 7u);
    EXPECT_EQ(st.rejected, 3u);
    EXPECT_EQ(st.failed, 3u) << "rejected items count as failed";
    EXPECT_EQ(st.retried, 0u);
    EXPECT_NE(st.last_error.find("too old"), std::string::npos) << st.last_error;
    EXPECT_EQ(receiver.requests("/v1/traces").size(), 1u);
    const auto report = exporter.stats_json();
    EXPECT_EQ(report.at("traces").at("rejected"), 3);
  }
}

TEST(OtlpExporterResilience, SlowEndpointPastTheTimeoutIsRetriedThenFailedWhileAddNeverWaits) {
  OtlpReceiver receiver;
  receiver.control({{"delayMs", 3000}, {"count", -1}});
  OtlpOptions options = options_for(receiver);
  options.timeout = milliseconds(300);
  options.max_attempts = 2;
  options.max_queue = 100;
  options.max_batch = 50;
  options.shutdown_deadline = milliseconds(3000);
  OtlpExporter exporter(options);

  // The first batch goes out and hangs; meanwhile producers keep offering.
  for (uint32_t i = 0; i < 50; ++i) ASSERT_TRUE(exporter.add_span(simple_span(i)));
  ASSERT_TRUE(eventually([&] { return receiver.requests("/v1/traces").size() >= 1; }));
  uint64_t refused = 0;
  for (uint32_t i = 50; i < 1050; ++i) refused += exporter.add_span(simple_span(i)) ? 0 : 1;
  const SignalStats during = exporter.stats(Signal::traces);
  // Every call came back while the first request was still waiting on the slow endpoint.
  EXPECT_EQ(during.requests, 0u);
  EXPECT_EQ(refused, 1000u - 100u) << "the queue holds 100; the rest is refused at once";
  EXPECT_EQ(during.dropped, refused);

  ASSERT_TRUE(eventually([&] { return exporter.stats(Signal::traces).failed >= 50; },
                         std::chrono::seconds(10)));
  const SignalStats first = exporter.stats(Signal::traces);
  EXPECT_GE(first.retried, 1u) << "a timeout is worth another attempt";
  EXPECT_NE(first.last_error, "");
  exporter.shutdown();
  const SignalStats st = exporter.stats(Signal::traces);
  EXPECT_EQ(st.sent, 0u);
  EXPECT_EQ(st.sent + st.failed + st.dropped, 1050u) << "every span is accounted for";
}

// Resident set size of this process, from /proc/self/statm (pages).
int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

TEST(OtlpExporterResilience, EndpointDownKeepsMemoryBoundedCountsDropsAndShutsDownInTime) {
  // The issue's "60 s at 1 000 spans/s with the endpoint down", offered 20 times faster: 60 000
  // spans in slices of 1 000 every 50 ms, to a port nothing listens on.
  OtlpOptions options;
  options.traces_endpoint = url_of("http://127.0.0.1:" + std::to_string(testing::free_port()) +
                                   "/v1/traces");
  options.resource.attributes["service.name"] = "down";
  OtlpExporter exporter(options);  // the defaults: 2 048 queued, 512 a batch, 5 s to shut down
  const int64_t rss_before = rss_bytes();
  int64_t rss_peak = rss_before;
  uint64_t offered = 0;
  uint64_t refused = 0;
  auto next = Clock::now();
  for (int slice = 0; slice < 60; ++slice) {
    for (int i = 0; i < 1000; ++i) {
      Span s = simple_span(static_cast<uint32_t>(offered++));
      s.attributes["payload"] = std::string(200, 'p');
      refused += exporter.add_span(std::move(s)) ? 0 : 1;
    }
    rss_peak = std::max(rss_peak, rss_bytes());
    next += milliseconds(50);
    std::this_thread::sleep_until(next);  // the offered rate, not a wait for anything
  }
  const SignalStats during = exporter.stats(Signal::traces);
  EXPECT_EQ(during.sent, 0u);
  EXPECT_EQ(during.dropped, refused);
  EXPECT_GE(refused, 60'000u - 2048u - 3u * 512u) << "at most the queue and a few batches held";
  EXPECT_LT(rss_peak - rss_before, 50 << 20) << "RSS grew by " << (rss_peak - rss_before) / 1024
                                            << " KiB";
  EXPECT_NE(during.last_error, "");

  const auto t0 = Clock::now();
  exporter.shutdown();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  EXPECT_LE(took, options.shutdown_deadline + milliseconds(500)) << took.count() << " ms";
  const SignalStats st = exporter.stats(Signal::traces);
  EXPECT_EQ(st.sent, 0u);
  EXPECT_EQ(st.sent + st.failed + st.dropped, offered) << "every span is accounted for";
  EXPECT_LT(rss_bytes() - rss_before, 50 << 20);
}

TEST(OtlpExporterResilience, ShutdownMeetsItsDeadlineWhileARequestHangs) {
  OtlpReceiver receiver;
  receiver.control({{"delayMs", 20000}, {"count", -1}});
  OtlpOptions options = options_for(receiver);
  options.timeout = std::chrono::seconds(10);  // the default
  options.shutdown_deadline = milliseconds(2000);
  OtlpExporter exporter(options);
  for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(exporter.add_span(simple_span(i)));
  ASSERT_TRUE(eventually([&] { return receiver.requests("/v1/traces").size() >= 1; }));
  const auto t0 = Clock::now();
  exporter.shutdown();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  EXPECT_LE(took, options.shutdown_deadline + milliseconds(500))
      << "shutdown took " << took.count() << " ms with a request hanging";
  const SignalStats st = exporter.stats(Signal::traces);
  EXPECT_EQ(st.sent + st.failed + st.dropped, 10u);
}

}  // namespace
}  // namespace trafficsim::telemetry
