#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace trafficsim::core {
namespace {

using namespace std::chrono_literals;

TEST(ClockTest, MonotonicNowNeverGoesBack) {
  int64_t a = monotonic_now_ns();
  int64_t b = monotonic_now_ns();
  EXPECT_GT(a, 0);
  EXPECT_GE(b, a);
}

TEST(ClockTest, UnixNowAgreesWithTheSystemClock) {
  double before = std::chrono::duration<double>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  double now = unix_now_s();
  EXPECT_GE(now, before);
  EXPECT_GT(now, 1.7e9);  // after 2023
}

TEST(ClockTest, FormatsRfc3339InUtcWithTheAskedFraction) {
  std::chrono::system_clock::time_point t{std::chrono::seconds(1'764'610'316) + 123'456'789ns};
  EXPECT_EQ(format_rfc3339(t), "2025-12-01T17:31:56.123Z");
  EXPECT_EQ(format_rfc3339(t, 6), "2025-12-01T17:31:56.123456Z");
  EXPECT_EQ(format_rfc3339(t, 0), "2025-12-01T17:31:56Z");
  EXPECT_EQ(format_rfc3339(t, 12), "2025-12-01T17:31:56.123456789Z");
  EXPECT_EQ(format_rfc3339(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(ClockTest, TruncatesTheFractionInsteadOfRoundingIntoTheNextSecond) {
  std::chrono::system_clock::time_point t{std::chrono::seconds(59) + 999'999'999ns};
  EXPECT_EQ(format_rfc3339(t), "1970-01-01T00:00:59.999Z");
  EXPECT_EQ(format_rfc3339(59.9996), "1970-01-01T00:00:59.999Z");
}

TEST(ClockTest, InstantsBefore1970KeepAPositiveFraction) {
  std::chrono::system_clock::time_point t{-500ms};
  EXPECT_EQ(format_rfc3339(t), "1969-12-31T23:59:59.500Z");
}

TEST(ClockTest, ParseStartInstantReadsRfc3339AndUnixSeconds) {
  std::string err;
  EXPECT_EQ(parse_start_instant("2025-12-01T17:31:56Z", &err), 1764610316.0);
  EXPECT_EQ(parse_start_instant("2025-12-01t18:31:56+01:00", &err), 1764610316.0);
  EXPECT_EQ(parse_start_instant("2025-12-01T17:01:56-00:30", &err), 1764610316.0);
  EXPECT_EQ(parse_start_instant("2024-02-29T00:00:00.5Z", &err), 1709164800.5);
  EXPECT_EQ(parse_start_instant("1764610316", &err), 1764610316.0);
  EXPECT_EQ(parse_start_instant("1764610316.25", &err), 1764610316.25);
  EXPECT_EQ(format_rfc3339(*parse_start_instant("1764610316", &err), 0), "2025-12-01T17:31:56Z");
}

TEST(ClockTest, ParseStartInstantRefusesWhatIsNotAnInstant) {
  for (const char* bad : {"", "soon", "2025-12-01T17:31:56", "2025-12-01 17:31:56Z",
                          "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-12-01T24:00:00Z",
                          "2025-12-01T17:31:56.Z", "2025-12-01T17:31:56+1:00", "1.2.3", "-5",
                          "99999999999", "2025-12-01T17:31:56Zjunk", "9999-12-31T23:59:59Z",
                          "0001-01-01T00:00:00Z", "9000000001", "2263-01-01T00:00:00Z"}) {
    std::string err;
    EXPECT_FALSE(parse_start_instant(bad, &err).has_value()) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

}  // namespace
}  // namespace trafficsim::core

namespace {
int64_t unix_ns_of(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

TEST(ClockTest, ParsesRfc3339WithFractionsAndOffsets) {
  using trafficsim::core::parse_rfc3339;
  auto z = parse_rfc3339("2026-12-02T21:00:00Z");
  ASSERT_TRUE(z);
  EXPECT_EQ(unix_ns_of(*z), 1'796'245'200LL * 1'000'000'000);
  auto off = parse_rfc3339("2026-12-02T21:00:00.250+01:00");
  ASSERT_TRUE(off);
  EXPECT_EQ(unix_ns_of(*off), (1'796'245'200LL - 3600) * 1'000'000'000 + 250'000'000);
  auto ns = parse_rfc3339("2026-12-02t20:00:00.123456789-00:30");
  ASSERT_TRUE(ns);
  EXPECT_EQ(unix_ns_of(*ns), (1'796'245'200LL - 3600 + 1800) * 1'000'000'000 + 123'456'789);
  EXPECT_EQ(trafficsim::core::format_rfc3339(*off, 6), "2026-12-02T20:00:00.250000Z");
  for (const char* bad : {"", "2026-12-02", "2026-12-02T21:00:00", "2026-13-02T21:00:00Z",
                          "2026-02-30T21:00:00Z", "2026-12-02T24:00:00Z", "2026-12-02T21:00:00.Z",
                          "2026-12-02T21:00:00+0100", "2026-12-02T21:00:00Zjunk", "1796000000"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(ClockTest, ParsesUnixSecondsToTheNanosecond) {
  using trafficsim::core::parse_unix_seconds;
  auto whole = parse_unix_seconds("1796000000");
  ASSERT_TRUE(whole);
  EXPECT_EQ(unix_ns_of(*whole), 1'796'000'000LL * 1'000'000'000);
  auto half = parse_unix_seconds("1796000000.5");
  ASSERT_TRUE(half);
  EXPECT_EQ(unix_ns_of(*half), 1'796'000'000LL * 1'000'000'000 + 500'000'000);
  for (const char* bad : {"", "-1", "1e9", "1796000000.", ".5", "12abc", "2026-12-02T21:00:00Z"})
    EXPECT_FALSE(parse_unix_seconds(bad)) << bad;
}
