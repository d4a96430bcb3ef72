// The OTLP encoders without a decoder: the JSON mapping's shape, protobuf bytes written by hand
// from the opentelemetry-proto field numbers, partial-success answers in both encodings, and the
// OTEL_* configuration. tests/telemetry/otlp_conformance_test.cpp decodes the same payloads with
// the official definitions (Release build, Node).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "telemetry/metrics.hpp"
#include "telemetry/otlp.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::telemetry {
namespace {

namespace json = boost::json;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

template <size_t N>
std::array<uint8_t, N> id_counting_from(uint8_t first) {
  std::array<uint8_t, N> id{};
  for (size_t i = 0; i < N; ++i) id[i] = static_cast<uint8_t>(first + i);
  return id;
}

Resource tiny_resource() {
  return Resource{{{"service.name", "svc"}}, "s", "1"};
}

// ---------------------------------------------------------------- protobuf, by hand

TEST(OtlpEncodingTest, ProtobufOfATinySpanMatchesTheBytesWrittenFromTheProtoDefinitions) {
  Span span;
  span.trace_id = id_counting_from<16>(0x01);  // 01 02 ... 10
  span.span_id = id_counting_from<8>(0xa1);
  span.parent_span_id = id_counting_from<8>(0xb1);
  span.name = "op";
  span.kind = SpanKind::server;
  span.start_unix_nano = 0x0102030405060708ULL;
  span.end_unix_nano = 0x0102030405060709ULL;
  span.attributes["k"] = "v";
  span.attributes["n"] = 7;
  span.events.push_back(SpanEvent{5, "e", {}});
  span.status = SpanStatusCode::error;
  span.status_message = "bad";

  const std::string span_bytes =
      bytes({0x0a, 0x10}) + std::string(reinterpret_cast<const char*>(span.trace_id.data()), 16) +
      bytes({0x12, 0x08, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}) +  // span_id = 2
      bytes({0x22, 0x08, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8}) +  // parent_span_id = 4
      bytes({0x2a, 0x02, 'o', 'p'}) +                                        // name = 5
      bytes({0x30, 0x02}) +                                                  // kind = 6: SERVER
      bytes({0x39, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}) +        // start = 7, fixed64
      bytes({0x41, 0x09, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}) +        // end = 8, fixed64
      // attributes = 9: KeyValue{key = 1 "k", value = 2 AnyValue{string_value = 1 "v"}}
      bytes({0x4a, 0x08, 0x0a, 0x01, 'k', 0x12, 0x03, 0x0a, 0x01, 'v'}) +
      // KeyValue{key "n", value AnyValue{int_value = 3: 7}}
      bytes({0x4a, 0x07, 0x0a, 0x01, 'n', 0x12, 0x02, 0x18, 0x07}) +
      // events = 11: Event{time_unix_nano = 1 fixed64 5, name = 2 "e"}
      bytes({0x5a, 0x0c, 0x09, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x01, 'e'}) +
      // status = 15: Status{message = 2 "bad", code = 3: ERROR}
      bytes({0x7a, 0x07, 0x12, 0x03, 'b', 'a', 'd', 0x18, 0x02});
  ASSERT_EQ(span_bytes.size(), 104u);

  // ScopeSpans{scope = 1 InstrumentationScope{name = 1 "s", version = 2 "1"}, spans = 2}
  const std::string scope_spans = bytes({0x0a, 0x06, 0x0a, 0x01, 's', 0x12, 0x01, '1'}) +
                                  bytes({0x12, 0x68}) + span_bytes;
  ASSERT_EQ(scope_spans.size(), 114u);
  // Resource{attributes = 1 KeyValue{"service.name", AnyValue{string "svc"}}}
  const std::string resource = bytes({0x0a, 0x15, 0x0a, 0x0c}) + "service.name" +
                               bytes({0x12, 0x05, 0x0a, 0x03, 's', 'v', 'c'});
  // ResourceSpans{resource = 1, scope_spans = 2}
  const std::string resource_spans =
      bytes({0x0a, 0x17}) + resource + bytes({0x12, 0x72}) + scope_spans;
  ASSERT_EQ(resource_spans.size(), 141u);
  // ExportTraceServiceRequest{resource_spans = 1}: 141 bytes take a two-byte varint length.
  const std::string expected = bytes({0x0a, 0x8d, 0x01}) + resource_spans;

  std::string out;
  const Span spans[] = {span};
  encode_traces_proto(out, tiny_resource(), spans);
  EXPECT_EQ(hex(out), hex(expected));
}

TEST(OtlpEncodingTest, ProtobufOfARootSpanHasNoParentAndAnUnsetStatusIsLeftOut) {
  Span span;
  span.trace_id = id_counting_from<16>(0x01);
  span.span_id = id_counting_from<8>(0xa1);
  span.name = "r";
  span.kind = SpanKind::client;
  span.start_unix_nano = 1;
  span.end_unix_nano = 2;
  std::string out;
  const Span spans[] = {span};
  encode_traces_proto(out, tiny_resource(), spans);
  const std::string expected_span =
      bytes({0x0a, 0x10}) + std::string(reinterpret_cast<const char*>(span.trace_id.data()), 16) +
      bytes({0x12, 0x08, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}) +
      bytes({0x2a, 0x01, 'r'}) + bytes({0x30, 0x03}) +  // kind CLIENT
      bytes({0x39, 1, 0, 0, 0, 0, 0, 0, 0}) + bytes({0x41, 2, 0, 0, 0, 0, 0, 0, 0});
  // The span is the payload's tail, after its two-byte header "12 <len>".
  ASSERT_GE(out.size(), expected_span.size() + 2);
  EXPECT_EQ(hex(out.substr(out.size() - expected_span.size() - 2)),
            hex(bytes({0x12, static_cast<int>(expected_span.size())}) + expected_span));
}

// One attribute's KeyValue bytes, as the span's attributes = 9 field.
std::string span_attribute_bytes(const json::value& value) {
  Span span;
  span.trace_id = id_counting_from<16>(1);
  span.span_id = id_counting_from<8>(1);
  span.attributes["a"] = value;
  std::string out;
  const Span spans[] = {span};
  encode_traces_proto(out, tiny_resource(), spans);
  return out;
}

std::string key_value_a(const std::string& any_value) {
  const std::string kv = bytes({0x0a, 0x01, 'a', 0x12, static_cast<int>(any_value.size())}) +
                         any_value;
  return bytes({0x4a, static_cast<int>(kv.size())}) + kv;
}

TEST(OtlpEncodingTest, ProtobufAnyValueOfEveryKind) {
  struct Case {
    const char* what;
    json::value value;
    std::string any_value;
  };
  json::array array{1, "x"};
  json::object kvlist{{"k", true}};
  const Case cases[] = {
      {"string", "hi", bytes({0x0a, 0x02, 'h', 'i'})},
      {"bool true", true, bytes({0x10, 0x01})},
      {"bool false (present: a oneof member)", false, bytes({0x10, 0x00})},
      {"int 0 (present)", 0, bytes({0x18, 0x00})},
      {"int -1: ten-byte two's complement varint", -1,
       bytes({0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
      {"int64 max", std::numeric_limits<int64_t>::max(),
       bytes({0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})},
      {"double 1.5: fixed64 little-endian", 1.5,
       bytes({0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f})},
      {"double NaN", std::numeric_limits<double>::quiet_NaN(),
       bytes({0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f})},
      // ArrayValue{values = 1: AnyValue{int 1}, AnyValue{string "x"}}
      {"array", array, bytes({0x2a, 0x09, 0x0a, 0x02, 0x18, 0x01, 0x0a, 0x03, 0x0a, 0x01, 'x'})},
      // KeyValueList{values = 1: KeyValue{"k", AnyValue{bool true}}}
      {"kvlist", kvlist, bytes({0x32, 0x09, 0x0a, 0x07, 0x0a, 0x01, 'k', 0x12, 0x02, 0x10, 0x01})},
      {"null: an empty AnyValue", nullptr, ""},
  };
  for (const auto& c : cases) {
    const std::string out = span_attribute_bytes(c.value);
    EXPECT_NE(out.find(key_value_a(c.any_value)), std::string::npos)
        << c.what << ": expected " << hex(key_value_a(c.any_value)) << " in " << hex(out);
  }
}

TEST(OtlpEncodingTest, ProtobufOfALogRecord) {
  LogRecord log;
  log.time_unix_nano = 0x10;
  log.severity = Severity::warn;
  log.body = "hi";
  log.trace_id = id_counting_from<16>(0x01);
  log.span_id = id_counting_from<8>(0xa1);
  std::string out;
  const LogRecord logs[] = {log};
  encode_logs_proto(out, tiny_resource(), logs);
  const std::string record =
      bytes({0x09, 0x10, 0, 0, 0, 0, 0, 0, 0}) +       // time_unix_nano = 1, fixed64
      bytes({0x10, 13}) +                              // severity_number = 2: WARN
      bytes({0x1a, 0x04, 'W', 'A', 'R', 'N'}) +        // severity_text = 3
      bytes({0x2a, 0x04, 0x0a, 0x02, 'h', 'i'}) +      // body = 5: AnyValue{string}
      bytes({0x4a, 0x10}) + std::string(reinterpret_cast<const char*>(log.trace_id.data()), 16) +
      bytes({0x52, 0x08, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}) +  // span_id = 10
      bytes({0x59, 0x10, 0, 0, 0, 0, 0, 0, 0});  // observed_time_unix_nano = 11: the time
  ASSERT_GE(out.size(), record.size() + 2);
  EXPECT_EQ(hex(out.substr(out.size() - record.size() - 2)),
            hex(bytes({0x12, static_cast<int>(record.size())}) + record));
}

TEST(OtlpEncodingTest, ProtobufOfAMonotonicSum) {
  MetricData m;
  m.name = "c";
  m.kind = MetricKind::sum;
  m.monotonic = true;
  m.start_unix_nano = 1;
  m.time_unix_nano = 2;
  m.numbers.push_back({{}, 3.0});
  std::string out;
  const MetricData metrics[] = {m};
  encode_metrics_proto(out, tiny_resource(), metrics);
  // NumberDataPoint{start = 2, time = 3 (fixed64), as_double = 4}
  const std::string point = bytes({0x11, 1, 0, 0, 0, 0, 0, 0, 0}) +
                            bytes({0x19, 2, 0, 0, 0, 0, 0, 0, 0}) +
                            bytes({0x21, 0, 0, 0, 0, 0, 0, 0x08, 0x40});
  // Sum{data_points = 1, aggregation_temporality = 2: CUMULATIVE, is_monotonic = 3}
  const std::string sum = bytes({0x0a, static_cast<int>(point.size())}) + point +
                          bytes({0x10, 0x02, 0x18, 0x01});
  // Metric{name = 1, sum = 7}
  const std::string metric = bytes({0x0a, 0x01, 'c', 0x3a, static_cast<int>(sum.size())}) + sum;
  ASSERT_GE(out.size(), metric.size() + 2);
  EXPECT_EQ(hex(out.substr(out.size() - metric.size() - 2)),
            hex(bytes({0x12, static_cast<int>(metric.size())}) + metric));
}

// ---------------------------------------------------------------- JSON shape

// Every key of every object in the document, with its path.
void collect_keys(const json::value& v, const std::string& path,
                  std::vector<std::string>& keys) {
  if (v.is_object()) {
    for (const auto& [k, e] : v.get_object()) {
      keys.push_back(path + "." + std::string(k));
      collect_keys(e, path + "." + std::string(k), keys);
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.get_array().size(); ++i) {
      collect_keys(v.get_array()[i], path + "[" + std::to_string(i) + "]", keys);
    }
  }
}

void expect_lower_camel_case_keys(const json::value& doc) {
  std::vector<std::string> keys;
  collect_keys(doc, "$", keys);
  ASSERT_FALSE(keys.empty());
  const std::regex camel("[a-z][a-zA-Z0-9]*");
  for (const auto& path : keys) {
    const std::string key = path.substr(path.rfind('.') + 1);
    EXPECT_TRUE(std::regex_match(key, camel)) << path << " is not lowerCamelCase";
  }
}

Span every_kind_of_span() {
  Span span;
  span.trace_id = id_counting_from<16>(0xf0);  // f0 f1 ... ff
  span.span_id = id_counting_from<8>(0xa1);
  span.parent_span_id = id_counting_from<8>(0xb1);
  span.name = "GET /users/{id}";
  span.kind = SpanKind::server;
  span.start_unix_nano = 1'700'000'000'123'456'789ULL;
  span.end_unix_nano = 1'700'000'000'223'456'789ULL;
  span.status = SpanStatusCode::error;
  span.status_message = "boom";
  span.attributes["s"] = "text \"quoted\"\n";
  span.attributes["i"] = std::numeric_limits<int64_t>::min();
  span.attributes["u"] = std::numeric_limits<uint64_t>::max();
  span.attributes["d"] = 0.25;
  span.attributes["nan"] = std::numeric_limits<double>::quiet_NaN();
  span.attributes["inf"] = -std::numeric_limits<double>::infinity();
  span.attributes["b"] = false;
  span.attributes["arr"] = json::array{1, "two"};
  span.attributes["kv"] = json::object{{"inner", 3}};
  span.events.push_back(SpanEvent{1'700'000'000'150'000'000ULL, "pool.wait_start", {{"n", 1}}});
  return span;
}

const json::value& attribute(const json::array& attrs, std::string_view key) {
  for (const auto& a : attrs) {
    if (a.at("key").as_string() == key) return a.at("value");
  }
  throw std::runtime_error("no attribute " + std::string(key));
}

TEST(OtlpEncodingTest, JsonTracesUseLowerCamelCaseHexIdsStringInt64sAndIntegerEnums) {
  std::string out;
  const Span spans[] = {every_kind_of_span()};
  encode_traces_json(out, tiny_resource(), spans);
  const json::value doc = json::parse(out);
  expect_lower_camel_case_keys(doc);

  const auto& rs = doc.at("resourceSpans").at(0);
  EXPECT_EQ(attribute(rs.at("resource").at("attributes").as_array(), "service.name"),
            json::parse(R"({"stringValue":"svc"})"));
  const auto& ss = rs.at("scopeSpans").at(0);
  EXPECT_EQ(ss.at("scope"), json::parse(R"({"name":"s","version":"1"})"));
  const auto& span = ss.at("spans").at(0);
  EXPECT_EQ(span.at("traceId"), "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  EXPECT_EQ(span.at("spanId"), "a1a2a3a4a5a6a7a8");
  EXPECT_EQ(span.at("parentSpanId"), "b1b2b3b4b5b6b7b8");
  EXPECT_EQ(span.at("name"), "GET /users/{id}");
  ASSERT_TRUE(span.at("kind").is_int64()) << "enums are integers, never their names";
  EXPECT_EQ(span.at("kind").as_int64(), 2);
  EXPECT_EQ(span.at("startTimeUnixNano"), "1700000000123456789");
  EXPECT_EQ(span.at("endTimeUnixNano"), "1700000000223456789");
  EXPECT_EQ(span.at("status"), json::parse(R"({"message":"boom","code":2})"));

  const auto& attrs = span.at("attributes").as_array();
  EXPECT_EQ(attribute(attrs, "s"), json::parse(R"({"stringValue":"text \"quoted\"\n"})"));
  EXPECT_EQ(attribute(attrs, "i"), json::parse(R"({"intValue":"-9223372036854775808"})"));
  EXPECT_EQ(attribute(attrs, "u"), json::parse(R"({"doubleValue":1.8446744073709552E19})"))
      << "an unsigned above INT64_MAX is no int64: it becomes a double";
  EXPECT_EQ(attribute(attrs, "d"), json::parse(R"({"doubleValue":0.25})"));
  EXPECT_EQ(attribute(attrs, "nan"), json::parse(R"({"doubleValue":"NaN"})"));
  EXPECT_EQ(attribute(attrs, "inf"), json::parse(R"({"doubleValue":"-Infinity"})"));
  EXPECT_EQ(attribute(attrs, "b"), json::parse(R"({"boolValue":false})"));
  EXPECT_EQ(attribute(attrs, "arr"),
            json::parse(R"({"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"two"}]}})"));
  EXPECT_EQ(attribute(attrs, "kv"), json::parse(
      R"({"kvlistValue":{"values":[{"key":"inner","value":{"intValue":"3"}}]}})"));

  const auto& event = span.at("events").at(0);
  EXPECT_EQ(event.at("timeUnixNano"), "1700000000150000000");
  EXPECT_EQ(event.at("name"), "pool.wait_start");
  EXPECT_EQ(attribute(event.at("attributes").as_array(), "n"), json::parse(R"({"intValue":"1"})"));
}

TEST(OtlpEncodingTest, JsonRootSpanHasNoParentSpanId) {
  Span span = every_kind_of_span();
  span.parent_span_id = {};
  std::string out;
  append_span_json(out, span);
  const json::value doc = json::parse(out);
  EXPECT_EQ(doc.as_object().if_contains("parentSpanId"), nullptr) << out;
}

TEST(OtlpEncodingTest, JsonMetricsSumGaugeAndHistogram) {
  MetricData sum;
  sum.name = "http.server.requests";
  sum.description = "requests";
  sum.unit = "1";
  sum.kind = MetricKind::sum;
  sum.monotonic = true;
  sum.start_unix_nano = 1'000;
  sum.time_unix_nano = 2'000;
  sum.numbers.push_back({{{"route", "/a"}}, 42});
  MetricData gauge = sum;
  gauge.name = "queue.depth";
  gauge.kind = MetricKind::gauge;
  gauge.numbers = {{{}, std::numeric_limits<double>::infinity()}};
  MetricData histogram;
  histogram.name = "latency";
  histogram.kind = MetricKind::histogram;
  histogram.start_unix_nano = 1'000;
  histogram.time_unix_nano = 2'000;
  histogram.histograms.push_back({{}, 6, 1.5, {1, 2, 3}, {0.1, 0.5}});

  std::string out;
  const MetricData metrics[] = {sum, gauge, histogram};
  encode_metrics_json(out, tiny_resource(), metrics);
  const json::value doc = json::parse(out);
  expect_lower_camel_case_keys(doc);
  const auto& list = doc.at("resourceMetrics").at(0).at("scopeMetrics").at(0).at("metrics");
  ASSERT_EQ(list.as_array().size(), 3u);

  const auto& s = list.at(0);
  EXPECT_EQ(s.at("name"), "http.server.requests");
  EXPECT_EQ(s.at("description"), "requests");
  EXPECT_EQ(s.at("unit"), "1");
  EXPECT_EQ(s.at("sum").at("aggregationTemporality"), 2);
  EXPECT_EQ(s.at("sum").at("isMonotonic"), true);
  const auto& sp = s.at("sum").at("dataPoints").at(0);
  EXPECT_EQ(sp.at("startTimeUnixNano"), "1000");
  EXPECT_EQ(sp.at("timeUnixNano"), "2000");
  EXPECT_EQ(sp.at("asDouble").to_number<double>(), 42.0);
  EXPECT_EQ(attribute(sp.at("attributes").as_array(), "route"),
            json::parse(R"({"stringValue":"/a"})"));

  EXPECT_EQ(list.at(1).at("gauge").at("dataPoints").at(0).at("asDouble"), "Infinity");

  const auto& h = list.at(2).at("histogram");
  EXPECT_EQ(h.at("aggregationTemporality"), 2);
  const auto& hp = h.at("dataPoints").at(0);
  EXPECT_EQ(hp.at("count"), "6");
  EXPECT_EQ(hp.at("sum").to_number<double>(), 1.5);
  EXPECT_EQ(hp.at("bucketCounts"), json::parse(R"(["1","2","3"])"));
  EXPECT_EQ(hp.at("explicitBounds"), json::parse("[0.1,0.5]"));
}

TEST(OtlpEncodingTest, JsonLogsCarrySeverityNumberTextBodyAndIds) {
  LogRecord log;
  log.time_unix_nano = 1'700'000'000'000'000'001ULL;
  log.severity = Severity::error;
  log.body = "payment failed";
  log.attributes["order"] = 17;
  log.trace_id = id_counting_from<16>(0xf0);
  log.span_id = id_counting_from<8>(0xa1);
  LogRecord bare;
  bare.time_unix_nano = 5;
  bare.observed_unix_nano = 6;
  bare.severity = Severity::debug;
  std::string out;
  const LogRecord logs[] = {log, bare};
  encode_logs_json(out, tiny_resource(), logs);
  const json::value doc = json::parse(out);
  expect_lower_camel_case_keys(doc);
  const auto& records = doc.at("resourceLogs").at(0).at("scopeLogs").at(0).at("logRecords");
  const auto& r = records.at(0);
  EXPECT_EQ(r.at("timeUnixNano"), "1700000000000000001");
  EXPECT_EQ(r.at("observedTimeUnixNano"), "1700000000000000001")
      << "an unset observed time is the record's time";
  ASSERT_TRUE(r.at("severityNumber").is_int64());
  EXPECT_EQ(r.at("severityNumber"), 17);
  EXPECT_EQ(r.at("severityText"), "ERROR");
  EXPECT_EQ(r.at("body"), json::parse(R"({"stringValue":"payment failed"})"));
  EXPECT_EQ(attribute(r.at("attributes").as_array(), "order"),
            json::parse(R"({"intValue":"17"})"));
  EXPECT_EQ(r.at("traceId"), "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  EXPECT_EQ(r.at("spanId"), "a1a2a3a4a5a6a7a8");

  const auto& b = records.at(1).as_object();
  EXPECT_EQ(b.at("observedTimeUnixNano"), "6");
  EXPECT_EQ(b.at("severityNumber"), 5);
  EXPECT_EQ(b.if_contains("traceId"), nullptr) << "all-zero ids are absent";
  EXPECT_EQ(b.if_contains("spanId"), nullptr);
}

// A span made from a shared template plus inline scalars is, on the wire, the span with the same
// attributes in its own map in the same order: template's, scalars', own.
TEST(OtlpEncodingTest, TemplatedSpanEncodesExactlyAsTheSameSpanWithAMap) {
  const auto shape = std::make_shared<const SpanTemplate>(
      "GET /users/{id}", json::object{{"http.request.method", "GET"}, {"server.port", 8080},
                                      {"bad.utf8", "a\xff"}});
  Span t;
  t.trace_id[0] = 1;
  t.span_id[0] = 2;
  t.start_unix_nano = 10;
  t.end_unix_nano = 20;
  t.base = shape;
  ASSERT_TRUE(t.scalars.add("http.response.status_code", int64_t{404}));
  ASSERT_TRUE(t.scalars.add("demo.minute", 21.5));
  ASSERT_TRUE(t.scalars.add("retry", false));
  ASSERT_TRUE(t.scalars.add("error.type", std::string_view("404")));
  t.attributes = {{"own", 1}};

  Span m = t;
  m.base.reset();
  m.scalars = {};
  m.name = "GET /users/{id}";
  m.attributes = {{"http.request.method", "GET"}, {"server.port", 8080}, {"bad.utf8", "a\xff"},
                  {"http.response.status_code", 404}, {"demo.minute", 21.5}, {"retry", false},
                  {"error.type", "404"}, {"own", 1}};
  Resource r;
  std::string a, b;
  encode_traces_proto(a, r, std::span<const Span>(&t, 1));
  encode_traces_proto(b, r, std::span<const Span>(&m, 1));
  EXPECT_EQ(hex(a), hex(b));
  a.clear();
  b.clear();
  encode_traces_json(a, r, std::span<const Span>(&t, 1));
  encode_traces_json(b, r, std::span<const Span>(&m, 1));
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("\"a\xEF\xBF\xBD\""), std::string::npos) << "the template's UTF-8 is cleaned once";

  // Readers see every attribute; the span's own wins over a scalar, a scalar over the template.
  EXPECT_EQ(t.display_name(), "GET /users/{id}");
  const json::object all = t.all_attributes();
  EXPECT_EQ(all.size(), 8u);
  EXPECT_EQ(all.at("http.response.status_code"), 404);
  EXPECT_EQ(all.at("error.type"), "404");
  EXPECT_EQ(all.at("server.port"), 8080);
  EXPECT_EQ(t.attribute("demo.minute"), json::value(21.5));
  EXPECT_EQ(t.attribute("retry"), json::value(false));
  EXPECT_FALSE(t.attribute("nope").has_value());
  Span over = t;
  over.attributes["server.port"] = 9090;
  EXPECT_EQ(over.attribute("server.port"), json::value(9090));
  EXPECT_EQ(over.all_attributes().at("server.port"), 9090);
  // A span's scalars are bounded: the seventh is refused, not written past the end.
  Span full;
  for (size_t i = 0; i < ScalarAttributes::kCapacity; ++i) EXPECT_TRUE(full.scalars.add("k", int64_t{1}));
  EXPECT_FALSE(full.scalars.add("k", int64_t{1}));
  EXPECT_EQ(full.scalars.size(), ScalarAttributes::kCapacity);
}

TEST(OtlpEncodingTest, SeverityTextOfEveryLevel) {
  EXPECT_EQ(severity_text(Severity::trace), "TRACE");
  EXPECT_EQ(severity_text(Severity::debug), "DEBUG");
  EXPECT_EQ(severity_text(Severity::info), "INFO");
  EXPECT_EQ(severity_text(Severity::warn), "WARN");
  EXPECT_EQ(severity_text(Severity::error), "ERROR");
  EXPECT_EQ(severity_text(Severity::fatal), "FATAL");
}

TEST(OtlpEncodingTest, EncodersAppendToTheCallersBuffer) {
  std::string out = "prefix";
  const Span spans[] = {every_kind_of_span()};
  encode_traces_json(out, tiny_resource(), spans);
  EXPECT_EQ(out.rfind("prefix{\"resourceSpans\":", 0), 0u);
  std::string proto = "xy";
  encode_traces_proto(proto, tiny_resource(), spans);
  EXPECT_EQ(proto.substr(0, 3), "xy\x0a");
}

// ---------------------------------------------------------------- metrics from a registry

TEST(OtlpEncodingTest, RegistryFamiliesBecomeSumsGaugesAndHistograms) {
  Registry registry;
  registry.counter("requests_total", "requests served", {"route"}).with({"/a"}).inc(3);
  registry.gauge("queue_depth", "queued").with({}).set(7);
  auto& h = registry.histogram("latency_seconds", "latency", {}, {0.1, 0.5}).with({});
  h.observe(0.05);
  h.observe(0.2);
  h.observe(0.3);
  h.observe(2);
  const auto metrics = metrics_from_registry(registry, 100, 200);
  ASSERT_EQ(metrics.size(), 3u);

  EXPECT_EQ(metrics[0].name, "requests") << "the _total suffix is dropped";
  EXPECT_EQ(metrics[0].kind, MetricKind::sum);
  EXPECT_TRUE(metrics[0].monotonic);
  EXPECT_EQ(metrics[0].description, "requests served");
  EXPECT_EQ(metrics[0].start_unix_nano, 100u);
  EXPECT_EQ(metrics[0].time_unix_nano, 200u);
  ASSERT_EQ(metrics[0].numbers.size(), 1u);
  EXPECT_EQ(metrics[0].numbers[0].value, 3);
  EXPECT_EQ(metrics[0].numbers[0].attributes, json::object({{"route", "/a"}}));

  EXPECT_EQ(metrics[1].name, "queue_depth");
  EXPECT_EQ(metrics[1].kind, MetricKind::gauge);
  ASSERT_EQ(metrics[1].numbers.size(), 1u);
  EXPECT_EQ(metrics[1].numbers[0].value, 7);

  EXPECT_EQ(metrics[2].name, "latency_seconds");
  EXPECT_EQ(metrics[2].kind, MetricKind::histogram);
  ASSERT_EQ(metrics[2].histograms.size(), 1u);
  const auto& p = metrics[2].histograms[0];
  EXPECT_EQ(p.count, 4u);
  EXPECT_DOUBLE_EQ(p.sum, 2.55);
  EXPECT_EQ(p.bounds, (std::vector<double>{0.1, 0.5}));
  EXPECT_EQ(p.bucket_counts, (std::vector<uint64_t>{1, 2, 1})) << "per bucket, not cumulative";
  EXPECT_TRUE(p.attributes.empty()) << "le is no attribute";
}

// ---------------------------------------------------------------- partial success

TEST(OtlpEncodingTest, PartialSuccessFromProtobuf) {
  // ExportTraceServiceResponse{partial_success = 1 {rejected_spans = 1: 3, error_message = 2}}
  const std::string body = bytes({0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'w', 'h', 'y'});
  const PartialSuccess p = parse_partial_success(body, false);
  EXPECT_EQ(p.rejected, 3);
  EXPECT_EQ(p.error_message, "why");

  // An unknown field first is skipped; a large count takes a multi-byte varint.
  const std::string with_unknown =
      bytes({0x10, 0x05, 0x0a, 0x05, 0x08, 0xac, 0x02, 0x20, 0x01});  // 300; unknown field 4
  EXPECT_EQ(parse_partial_success(with_unknown, false).rejected, 300);
}

TEST(OtlpEncodingTest, PartialSuccessFromJsonAsStringOrNumber) {
  const PartialSuccess p = parse_partial_success(
      R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"why"}})", true);
  EXPECT_EQ(p.rejected, 3);
  EXPECT_EQ(p.error_message, "why");
  EXPECT_EQ(parse_partial_success(R"({"partialSuccess":{"rejectedLogRecords":4}})", true).rejected,
            4);
  EXPECT_EQ(
      parse_partial_success(R"({"partialSuccess":{"rejectedDataPoints":"5"}})", true).rejected, 5);
}

TEST(OtlpEncodingTest, EmptyOrUnreadableAnswersRejectNothing) {
  for (bool json_body : {false, true}) {
    EXPECT_EQ(parse_partial_success("", json_body).rejected, 0);
  }
  EXPECT_EQ(parse_partial_success("{}", true).rejected, 0);
  EXPECT_EQ(parse_partial_success("not json", true).rejected, 0);
  EXPECT_EQ(parse_partial_success(R"({"partialSuccess":{}})", true).rejected, 0);
  EXPECT_EQ(parse_partial_success(bytes({0x0a, 0x7f, 0x08}), false).rejected, 0)
      << "a length past the end";
  EXPECT_EQ(parse_partial_success(bytes({0xff}), false).rejected, 0) << "a truncated varint";
}

// Counts outside [0, INT64_MAX] (found by fuzz/otlp_response_fuzz.cpp: 1.1e19 read back as a
// negative count): negative means nothing, beyond int64 the most there can be.
TEST(OtlpEncodingTest, PartialSuccessCountsAreNeverNegative) {
  EXPECT_EQ(parse_partial_success(R"({"partialSuccess":{"rejectedSpans":11111111111111111111}})",
                                  true)
                .rejected,
            INT64_MAX);
  EXPECT_EQ(parse_partial_success(R"({"partialSuccess":{"rejectedSpans":-4}})", true).rejected, 0);
  EXPECT_EQ(parse_partial_success(R"({"partialSuccess":{"rejectedSpans":"-4"}})", true).rejected,
            0);
  // rejected_spans = -1 as an int64 varint (ten bytes).
  const std::string minus_one = bytes({0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0x01});
  EXPECT_EQ(parse_partial_success(minus_one, false).rejected, 0);
}

// ---------------------------------------------------------------- OTEL_* configuration

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string thrown_by(const EnvLookup& env, std::optional<std::string> flag = std::nullopt) {
  try {
    otlp_options_from(env, flag, "svc");
  } catch (const OtlpConfigError& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(OtlpOptionsTest, NothingSetExportsNothingWithTheDefaults) {
  const OtlpOptions o = otlp_options_from(env_of({}), std::nullopt, "trafficsim-target");
  EXPECT_FALSE(o.any());
  EXPECT_EQ(o.protocol, OtlpProtocol::protobuf);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(10000));
  EXPECT_FALSE(o.gzip);
  EXPECT_EQ(o.resource.attributes.at("service.name"), "trafficsim-target");
}

TEST(OtlpOptionsTest, BaseEndpointGetsEachSignalsPathAppended) {
  const OtlpOptions o = otlp_options_from(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}}), std::nullopt, "svc");
  ASSERT_TRUE(o.traces_endpoint && o.metrics_endpoint && o.logs_endpoint);
  EXPECT_EQ(o.traces_endpoint->host, "collector");
  EXPECT_EQ(o.traces_endpoint->port, 4318);
  EXPECT_EQ(o.traces_endpoint->target, "/v1/traces");
  EXPECT_EQ(o.metrics_endpoint->target, "/v1/metrics");
  EXPECT_EQ(o.logs_endpoint->target, "/v1/logs");

  const OtlpOptions slash = otlp_options_from(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"}}), std::nullopt, "svc");
  EXPECT_EQ(slash.traces_endpoint->target, "/v1/traces") << "a trailing slash is not doubled";
  const OtlpOptions prefixed = otlp_options_from(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://gw.example/otlp"}}), std::nullopt, "svc");
  EXPECT_EQ(prefixed.logs_endpoint->target, "/otlp/v1/logs");
  EXPECT_TRUE(prefixed.logs_endpoint->tls());
}

TEST(OtlpOptionsTest, PerSignalEndpointIsUsedAsGiven) {
  const OtlpOptions o = otlp_options_from(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"},
              {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom/spans"}}),
      std::nullopt, "svc");
  EXPECT_EQ(o.traces_endpoint->host, "traces");
  EXPECT_EQ(o.traces_endpoint->port, 9999);
  EXPECT_EQ(o.traces_endpoint->target, "/custom/spans") << "no /v1/traces appended";
  EXPECT_EQ(o.metrics_endpoint->host, "base");
  EXPECT_EQ(o.metrics_endpoint->target, "/v1/metrics");

  const OtlpOptions only_logs = otlp_options_from(
      env_of({{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4318/v1/logs"}}), std::nullopt,
      "svc");
  EXPECT_FALSE(only_logs.traces_endpoint);
  EXPECT_FALSE(only_logs.metrics_endpoint);
  ASSERT_TRUE(only_logs.logs_endpoint);
  EXPECT_EQ(only_logs.logs_endpoint->target, "/v1/logs");
}

TEST(OtlpOptionsTest, FlagEndpointOverridesTheEnvironmentsBase) {
  const OtlpOptions o =
      otlp_options_from(env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"}}),
                        std::string("http://flag:4318"), "svc");
  EXPECT_EQ(o.traces_endpoint->host, "flag");
  EXPECT_EQ(o.traces_endpoint->target, "/v1/traces");
}

TEST(OtlpOptionsTest, HeadersAreKeyValuePairsWithPercentDecodedValues) {
  const OtlpOptions o = otlp_options_from(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
              {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr%3Dt, x-tenant=a%20b%2Cc ,empty="}}),
      std::nullopt, "svc");
  const http::HeaderList expected{{"api-key", "s3cr=t"}, {"x-tenant", "a b,c"}, {"empty", ""}};
  EXPECT_EQ(o.headers, expected);
}

TEST(OtlpOptionsTest, ProtocolTimeoutCompressionServiceAndResource) {
  const OtlpOptions o = otlp_options_from(
      env_of({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
              {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
              {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
              {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=dev,service.name=ignored"},
              {"OTEL_SERVICE_NAME", "checkout"},
              {"OTEL_TRACES_SAMPLER", "traceidratio"},
              {"OTEL_TRACES_SAMPLER_ARG", "0.25"}}),
      std::nullopt, "svc");
  EXPECT_EQ(o.protocol, OtlpProtocol::json);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(o.gzip);
  EXPECT_EQ(o.resource.attributes.at("service.name"), "checkout")
      << "OTEL_SERVICE_NAME wins over OTEL_RESOURCE_ATTRIBUTES";
  EXPECT_EQ(o.resource.attributes.at("deployment.environment"), "dev");
  EXPECT_DOUBLE_EQ(o.trace_ratio, 0.25);
}

TEST(OtlpOptionsTest, BadSettingsAreRefusedNamingTheVariable) {
  auto has = [](const std::string& what, std::string_view name) {
    return what.find(name) != std::string::npos;
  };
  std::string e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_PROTOCOL")) << e;
  EXPECT_TRUE(has(e, "grpc")) << e;
  e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_TIMEOUT")) << e;
  e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_TIMEOUT", "-5"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_TIMEOUT")) << e;
  e = thrown_by(env_of({{"OTEL_TRACES_SAMPLER", "traceidratio"},
                        {"OTEL_TRACES_SAMPLER_ARG", "1.5"}}));
  EXPECT_TRUE(has(e, "OTEL_TRACES_SAMPLER_ARG")) << e;
  e = thrown_by(env_of({{"OTEL_TRACES_SAMPLER", "traceidratio"},
                        {"OTEL_TRACES_SAMPLER_ARG", "half"}}));
  EXPECT_TRUE(has(e, "OTEL_TRACES_SAMPLER_ARG")) << e;
  e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_ENDPOINT")) << e;
  e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "not a url"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) << e;
  e = thrown_by(env_of({}), std::string("http://"));
  EXPECT_TRUE(has(e, "--otlp")) << e;
  e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_COMPRESSION")) << e;
  e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_HEADERS", "novalue"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_HEADERS")) << e;
  e = thrown_by(env_of({{"OTEL_EXPORTER_OTLP_HEADERS", "k=bad%zz"}}));
  EXPECT_TRUE(has(e, "OTEL_EXPORTER_OTLP_HEADERS")) << e;
}

}  // namespace
}  // namespace trafficsim::telemetry
