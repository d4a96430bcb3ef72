// The one retry rule of our outbound calls (PagerDuty, the LLM, OTLP): what is worth another attempt,
// how Retry-After is read (both of RFC 9110's forms), and the jittered back-off's bounds.
#include "http/retry_policy.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace trafficsim::http {
namespace {

using namespace std::chrono_literals;

http::ClientResult answered(int status, std::string retry_after = {}) {
  http::ClientResult r;
  r.status = status;
  if (!retry_after.empty()) r.headers = {{"Retry-After", retry_after}};
  return r;
}

http::ClientResult failed(http::ClientOutcome outcome) {
  http::ClientResult r;
  r.outcome = outcome;
  r.error = "connect: Connection refused";
  return r;
}

TEST(RetryPolicy, RateLimitsServerErrorsAndTransportFailuresAreRetried) {
  EXPECT_TRUE(is_retryable(answered(429)));
  EXPECT_TRUE(is_retryable(answered(500)));
  EXPECT_TRUE(is_retryable(answered(503)));
  EXPECT_TRUE(is_retryable(failed(http::ClientOutcome::timeout)));
  EXPECT_TRUE(is_retryable(failed(http::ClientOutcome::connect_error)));
  EXPECT_TRUE(is_retryable(failed(http::ClientOutcome::io_error)));
  EXPECT_FALSE(is_retryable(answered(400)));
  EXPECT_FALSE(is_retryable(answered(401)));
  EXPECT_FALSE(is_retryable(answered(202)));
  EXPECT_FALSE(is_retryable(failed(http::ClientOutcome::bad_url)));
  EXPECT_FALSE(is_retryable(failed(http::ClientOutcome::tls_error)));
  EXPECT_TRUE(is_success(answered(202)));
  EXPECT_FALSE(is_success(answered(302)));
  EXPECT_FALSE(is_success(failed(http::ClientOutcome::timeout)));
}

TEST(RetryPolicy, RetryAfterReadsSecondsAndHttpDates) {
  EXPECT_EQ(retry_after(answered(429, "0"), 0), 0ms);
  EXPECT_EQ(retry_after(answered(429, " 120 "), 0), 120s);
  // 2026-12-01T17:32:06Z is 10 s after 1 796 146 316.
  EXPECT_EQ(retry_after(answered(429, "Tue, 01 Dec 2026 17:32:06 GMT"), 1'796'146'316.0), 10s);
  EXPECT_EQ(retry_after(answered(429, "Tue, 01 Dec 2026 17:32:06 GMT"), 1'796'146'400.0), 0ms);
  EXPECT_FALSE(retry_after(answered(429), 0));
  EXPECT_FALSE(retry_after(answered(429, "soon"), 0));
  EXPECT_FALSE(retry_after(answered(429, "-1"), 0));
}

TEST(RetryPolicy, BackoffDoublesUpToTheCapWithJitterInItsUpperHalf) {
  for (uint64_t bits : {uint64_t{0}, ~uint64_t{0}, uint64_t{0x123456789abcdef}}) {
    auto d1 = backoff_delay(1, 100ms, 1s, bits);
    auto d3 = backoff_delay(3, 100ms, 1s, bits);
    auto d9 = backoff_delay(9, 100ms, 1s, bits);
    EXPECT_GE(d1, 50ms);
    EXPECT_LE(d1, 100ms);
    EXPECT_GE(d3, 200ms);
    EXPECT_LE(d3, 400ms);
    EXPECT_GE(d9, 500ms);
    EXPECT_LE(d9, 1s);
  }
  EXPECT_EQ(backoff_delay(1, 100ms, 1s, 0), 50ms);
  EXPECT_NE(jitter_bits(), jitter_bits());
}

TEST(RetryPolicy, DescribeIsOneLine) {
  auto r = answered(400);
  r.body = "{\"status\":\"invalid event\",\n\"message\":\"Event object is invalid\"}";
  EXPECT_EQ(describe(r),
            "HTTP 400: {\"status\":\"invalid event\", \"message\":\"Event object is invalid\"}");
  EXPECT_EQ(describe(answered(503)), "HTTP 503");
  EXPECT_EQ(describe(failed(http::ClientOutcome::connect_error)), "connect: Connection refused");
}

}  // namespace
}  // namespace trafficsim::http
