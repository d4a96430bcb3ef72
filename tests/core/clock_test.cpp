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
                          "99999999999", "2025-12-01T17:31:56Zjunk"}) {
    std::string err;
    EXPECT_FALSE(parse_start_instant(bad, &err).has_value()) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

}  // namespace
}  // namespace trafficsim::core
