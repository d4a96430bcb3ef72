#include "telemetry/span.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace trafficsim::telemetry {
namespace {

namespace json = boost::json;

core::TraceId trace_id_from_byte(uint8_t b) {
  core::TraceId id{};
  id.fill(b);
  return id;
}

core::SpanId span_id_from_byte(uint8_t b) {
  core::SpanId id{};
  id.fill(b);
  return id;
}

Span named_span(std::string name) {
  Span span;
  span.trace_id = trace_id_from_byte(0x11);
  span.span_id = span_id_from_byte(0x22);
  span.name = std::move(name);
  return span;
}

TEST(SpanTest, OtlpJsonOfAChildSpan) {
  Span span;
  span.trace_id = trace_id_from_byte(0xab);
  span.span_id = span_id_from_byte(0x01);
  span.parent_span_id = span_id_from_byte(0x0f);
  span.name = "GET /users";
  span.kind = SpanKind::client;
  span.start_unix_nano = 1'700'000'000'123'456'789ULL;
  span.end_unix_nano = 1'700'000'000'223'456'789ULL;
  span.status = SpanStatusCode::error;
  span.status_message = "upstream timeout";
  span.attributes = {{"traffic.type", "demo"}, {"db.rows_scanned", 500000}};

  const json::value expected = json::parse(R"({
    "traceId": "abababababababababababababababab",
    "spanId": "0101010101010101",
    "parentSpanId": "0f0f0f0f0f0f0f0f",
    "name": "GET /users",
    "kind": 3,
    "startTimeUnixNano": "1700000000123456789",
    "endTimeUnixNano": "1700000000223456789",
    "attributes": [
      {"key": "traffic.type", "value": {"stringValue": "demo"}},
      {"key": "db.rows_scanned", "value": {"intValue": "500000"}}
    ],
    "status": {"code": 2, "message": "upstream timeout"}
  })");
  EXPECT_EQ(json::value(span_to_otlp_json(span)), expected)
      << json::serialize(span_to_otlp_json(span));
}

TEST(SpanTest, RootSpanOmitsParentAndUsesIntegerEnums) {
  Span span = named_span("root");
  const json::object out = span_to_otlp_json(span);
  EXPECT_FALSE(out.contains("parentSpanId"));
  EXPECT_EQ(out.at("kind"), 2);  // server, the default
  EXPECT_EQ(out.at("status").at("code"), 0);
  EXPECT_EQ(out.at("startTimeUnixNano"), "0");
  EXPECT_TRUE(out.at("attributes").as_array().empty());
}

TEST(SpanTest, AttributeValuesMapToAnyValueKinds) {
  Span span = named_span("kinds");
  span.attributes = {
      {"s", "text"},
      {"i", -7},
      {"u", uint64_t{1} << 63},
      {"d", 0.5},
      {"nan", std::nan("")},
      {"inf", -std::numeric_limits<double>::infinity()},
      {"b", true},
      {"list", json::array{1, "two"}},
      {"map", json::object{{"k", false}}},
      {"none", nullptr},
  };
  const json::object out = span_to_otlp_json(span);
  json::object by_key;
  for (const auto& attribute : out.at("attributes").as_array()) {
    by_key[attribute.at("key").as_string()] = attribute.at("value");
  }
  EXPECT_EQ(json::value(by_key.at("s")), json::parse(R"({"stringValue":"text"})"));
  EXPECT_EQ(json::value(by_key.at("i")), json::parse(R"({"intValue":"-7"})"));
  // Above INT64_MAX does not fit OTLP's int64; it is sent as a double instead.
  EXPECT_EQ(by_key.at("u").at("doubleValue").as_double(), 9223372036854775808.0);
  EXPECT_EQ(json::value(by_key.at("d")), json::parse(R"({"doubleValue":0.5})"));
  EXPECT_EQ(json::value(by_key.at("nan")), json::parse(R"({"doubleValue":"NaN"})"));
  EXPECT_EQ(json::value(by_key.at("inf")), json::parse(R"({"doubleValue":"-Infinity"})"));
  EXPECT_EQ(json::value(by_key.at("b")), json::parse(R"({"boolValue":true})"));
  EXPECT_EQ(json::value(by_key.at("list")),
            json::parse(R"({"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"two"}]}})"));
  EXPECT_EQ(json::value(by_key.at("map")),
            json::parse(R"({"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}})"));
  EXPECT_EQ(json::value(by_key.at("none")), json::parse("{}"));
  // The whole span must serialise to valid JSON (no bare NaN).
  EXPECT_NO_THROW(json::parse(json::serialize(out)));
}

TEST(SpanBufferTest, RecentIsNewestFirstAndLimited) {
  SpanBuffer buffer(4);
  for (int i = 0; i < 3; ++i) buffer.add(named_span("s" + std::to_string(i)));
  const auto two = buffer.recent(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].name, "s2");
  EXPECT_EQ(two[1].name, "s1");
  EXPECT_EQ(buffer.recent(100).size(), 3u);
  EXPECT_TRUE(buffer.recent(0).empty());
}

TEST(SpanBufferTest, KeepsOnlyTheLatestCapacitySpans) {
  SpanBuffer buffer(3);
  for (int i = 0; i < 10; ++i) buffer.add(named_span("s" + std::to_string(i)));
  const auto all = buffer.recent(100);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "s9");
  EXPECT_EQ(all[1].name, "s8");
  EXPECT_EQ(all[2].name, "s7");
  EXPECT_EQ(buffer.total_added(), 10u);
}

TEST(SpanBufferTest, EmptyBufferAndZeroCapacity) {
  SpanBuffer buffer;
  EXPECT_TRUE(buffer.recent(10).empty());
  EXPECT_EQ(buffer.total_added(), 0u);
  EXPECT_EQ(buffer.capacity(), 2048u);
  EXPECT_THROW(SpanBuffer(0), std::invalid_argument);
}

TEST(SpanBufferTest, ConcurrentAddsAreAllCounted) {
  SpanBuffer buffer(64);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&buffer] {
      for (int i = 0; i < kPerThread; ++i) {
        buffer.add(named_span("concurrent"));
        if (i % 100 == 0) buffer.recent(8);  // readers race with writers
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(buffer.total_added(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(buffer.recent(1000).size(), 64u);
}

}  // namespace
}  // namespace trafficsim::telemetry
