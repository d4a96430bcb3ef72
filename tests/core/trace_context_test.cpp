#include "core/trace_context.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace trafficsim::core {
namespace {

// The example from the W3C specification.
constexpr std::string_view kSpecExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ParsesTheSpecExample) {
  const auto context = parse_traceparent(kSpecExample);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(to_hex(context->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(context->span_id), "00f067aa0ba902b7");
  EXPECT_EQ(context->flags, 0x01);
  EXPECT_TRUE(context->valid());
}

TEST(TraceContextTest, TraceparentRoundTrips) {
  const auto context = parse_traceparent(kSpecExample);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->traceparent(), kSpecExample);

  TraceContext unsampled{random_trace_id(), random_span_id(), 0x00};
  const auto parsed = parse_traceparent(unsampled.traceparent());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id, unsampled.trace_id);
  EXPECT_EQ(parsed->span_id, unsampled.span_id);
  EXPECT_EQ(parsed->flags, 0x00);
}

TEST(TraceContextTest, TraceparentIsLowercaseWithFixedLayout) {
  TraceContext context;
  context.trace_id.fill(0xAB);
  context.span_id.fill(0xCD);
  context.flags = 0x01;
  EXPECT_EQ(context.traceparent(), "00-abababababababababababababababab-cdcdcdcdcdcdcdcd-01");
}

TEST(TraceContextTest, DefaultContextIsInvalidUntilBothIdsAreSet) {
  TraceContext context;
  EXPECT_FALSE(context.valid());
  context.trace_id = random_trace_id();
  EXPECT_FALSE(context.valid());
  context.span_id = random_span_id();
  EXPECT_TRUE(context.valid());
}

TEST(TraceContextTest, RejectsMalformedHeaders) {
  const std::vector<std::string> malformed = {
      "",
      "00",
      // Uppercase hex anywhere.
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      // All-zero ids.
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // Version ff is forbidden; non-hex version.
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // Version 00 with anything after the flags, even a well-formed extension.
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      // Wrong field lengths or separators.
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      // Surrounding whitespace is the HTTP layer's job; here it is malformed.
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // Higher version continued without a separator.
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
  };
  for (const auto& header : malformed) {
    EXPECT_FALSE(parse_traceparent(header).has_value()) << '"' << header << '"';
  }
}

TEST(TraceContextTest, HigherVersionsMayCarryMoreFields) {
  const auto exact = parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(to_hex(exact->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");

  const auto extended =
      parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future");
  ASSERT_TRUE(extended.has_value());
  EXPECT_EQ(to_hex(extended->span_id), "00f067aa0ba902b7");
  EXPECT_EQ(extended->flags, 0x09);
  // We only speak version 00, so that is what we propagate.
  EXPECT_EQ(extended->traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09");
}

TEST(TraceContextTest, ToHexIsLowercaseTwoDigitsPerByte) {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(to_hex(bytes), "00010fa0ff");
  EXPECT_EQ(to_hex(std::span<const uint8_t>()), "");
}

TEST(TraceContextTest, RandomIdsAreNonZeroAndDistinct) {
  std::set<TraceId> traces;
  std::set<SpanId> spans;
  for (int i = 0; i < 10000; ++i) {
    const TraceId trace = random_trace_id();
    const SpanId span = random_span_id();
    ASSERT_TRUE((TraceContext{trace, span}.valid()));
    traces.insert(trace);
    spans.insert(span);
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(TraceContextTest, ThreadsDrawDifferentIds) {
  // Each thread has its own generator; they must not be seeded alike.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  std::vector<std::vector<TraceId>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&drawn, t] {
      for (int i = 0; i < kPerThread; ++i) drawn[t].push_back(random_trace_id());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<TraceId> all;
  for (const auto& ids : drawn) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
}

}  // namespace
}  // namespace trafficsim::core
