#include "core/duration.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace trafficsim::core {
namespace {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(parse_duration("250ms"), nanoseconds(250ms));
  EXPECT_EQ(parse_duration("30s"), nanoseconds(30s));
  EXPECT_EQ(parse_duration("5m"), nanoseconds(5min));
  EXPECT_EQ(parse_duration("1h"), nanoseconds(1h));
  EXPECT_EQ(parse_duration("100us"), nanoseconds(100us));
  EXPECT_EQ(parse_duration("100\xC2\xB5s"), nanoseconds(100us));  // µs
  EXPECT_EQ(parse_duration("42ns"), nanoseconds(42));
}

TEST(DurationTest, ParsesCompoundsAndFractions) {
  EXPECT_EQ(parse_duration("1h30m"), nanoseconds(90min));
  EXPECT_EQ(parse_duration("1h02m03s"), nanoseconds(1h + 2min + 3s));
  EXPECT_EQ(parse_duration("2m30s"), nanoseconds(150s));
  EXPECT_EQ(parse_duration("1.5s"), nanoseconds(1500ms));
  EXPECT_EQ(parse_duration("0.1s"), nanoseconds(100ms));
  EXPECT_EQ(parse_duration("1.001s"), nanoseconds(1001ms));
  EXPECT_EQ(parse_duration("2.5ms"), nanoseconds(2500us));
  EXPECT_EQ(parse_duration("0.5h"), nanoseconds(30min));
  EXPECT_EQ(parse_duration("1.5us"), nanoseconds(1500));
}

TEST(DurationTest, BareNumberMeansSeconds) {
  EXPECT_EQ(parse_duration("30"), nanoseconds(30s));
  EXPECT_EQ(parse_duration("0"), nanoseconds(0));
  EXPECT_EQ(parse_duration("2.25"), nanoseconds(2250ms));
}

TEST(DurationTest, RejectsMalformed) {
  for (const char* text :
       {"",    "5x", "-1s", "s",  "1.2.3s", "1h30", "1.s", ".5s",  "+1s", "1 s", " 1s",
        "1s ", "1d", "2d",  "ms", "1e3s",   "1hh",  "h1",  "1,5s", "nan", "inf", "1s-1s"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(DurationTest, RejectsOverflow) {
  EXPECT_EQ(parse_duration("9999999999h"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854775808ns"), std::nullopt);  // INT64_MAX + 1
  EXPECT_EQ(parse_duration("99999999999999999999999s"), std::nullopt);
  EXPECT_EQ(parse_duration("2562047h48m"), std::nullopt);  // the sum overflows
  EXPECT_EQ(parse_duration("9223372036854775807ns"), nanoseconds(INT64_MAX));
  EXPECT_EQ(parse_duration("2562047h"), nanoseconds(2562047h));
}

TEST(DurationTest, FormatsShortestReadableForm) {
  EXPECT_EQ(format_duration(1h + 2min + 3s), "1h02m03s");
  EXPECT_EQ(format_duration(150s), "2m30s");
  EXPECT_EQ(format_duration(12500ms), "12.5s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(800us), "800us");
  EXPECT_EQ(format_duration(nanoseconds(0)), "0s");
  EXPECT_EQ(format_duration(1h), "1h");
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(1h + 3s), "1h00m03s");
  EXPECT_EQ(format_duration(2min), "2m");
  EXPECT_EQ(format_duration(125500ms), "2m05.5s");
  EXPECT_EQ(format_duration(1s), "1s");
  EXPECT_EQ(format_duration(nanoseconds(1500)), "1.5us");
  EXPECT_EQ(format_duration(nanoseconds(42)), "42ns");
  EXPECT_EQ(format_duration(1500us), "1.5ms");
  EXPECT_EQ(format_duration(-250ms), "-250ms");
  EXPECT_EQ(format_duration(25h), "25h");
}

TEST(DurationTest, FormatRoundingCarriesIntoTheNextUnit) {
  EXPECT_EQ(format_duration(nanoseconds(999'999'600)), "1s");
  EXPECT_EQ(format_duration(nanoseconds(59'999'600'000)), "1m");
  EXPECT_EQ(format_duration(nanoseconds(1'234'567'890)), "1.235s");
}

TEST(DurationTest, FormatHandlesExtremes) {
  EXPECT_FALSE(format_duration(nanoseconds::max()).empty());
  EXPECT_EQ(format_duration(nanoseconds::min()).front(), '-');
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  // Formatting keeps 3 decimals of the unit it picks, so a round trip is exact to that unit.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(0, 13);  // 1 ns .. ~3 h
  for (int i = 0; i < 5000; ++i) {
    auto ns = static_cast<int64_t>(std::pow(10.0, exponent(rng)));
    std::string text = format_duration(nanoseconds(ns));
    auto back = parse_duration(text);
    ASSERT_TRUE(back.has_value()) << text;
    double tolerance = std::max(0.5, static_cast<double>(ns) * 1e-3);
    EXPECT_NEAR(static_cast<double>(back->count()), static_cast<double>(ns), tolerance) << text;
  }
}

TEST(DurationTest, ParsesRates) {
  EXPECT_EQ(parse_rate_rps("100"), 100.0);
  EXPECT_EQ(parse_rate_rps("100rps"), 100.0);
  EXPECT_EQ(parse_rate_rps("100/s"), 100.0);
  EXPECT_EQ(parse_rate_rps("100/sec"), 100.0);
  EXPECT_EQ(parse_rate_rps("6000rpm"), 100.0);
  EXPECT_EQ(parse_rate_rps("6000/m"), 100.0);
  EXPECT_EQ(parse_rate_rps("6000/min"), 100.0);
  EXPECT_EQ(parse_rate_rps("2.5k"), 2500.0);
  EXPECT_EQ(parse_rate_rps("2.5krps"), 2500.0);
  EXPECT_EQ(parse_rate_rps("6krpm"), 100.0);
  EXPECT_EQ(parse_rate_rps("0.5"), 0.5);
}

TEST(DurationTest, RateZeroAndNegativeAreReturnedAsParsed) {
  EXPECT_EQ(parse_rate_rps("0"), 0.0);
  EXPECT_EQ(parse_rate_rps("-5"), -5.0);
  EXPECT_EQ(parse_rate_rps("-600rpm"), -10.0);
}

TEST(DurationTest, RejectsMalformedRates) {
  for (const char* text :
       {"",    "abc",    "10xps", "rps",  "k",   "1.2.3", "--5", "1e3", "nan", "inf", "10 rps",
        " 10", "10rps ", "10kk",  "10/h", "10/", ".5",    "5.",  "+5",  "-",   "10m"}) {
    EXPECT_EQ(parse_rate_rps(text), std::nullopt) << '"' << text << '"';
  }
}

}  // namespace
}  // namespace trafficsim::core

TEST(DurationLimitTest, OneMaximumForEveryDuration) {
  using namespace std::chrono_literals;
  
  EXPECT_EQ(trafficsim::core::duration_limit_error(720h), "");
  EXPECT_EQ(trafficsim::core::duration_limit_error(720h + 1ns), "must be at most 720h (30 days)");
  EXPECT_EQ(trafficsim::core::duration_limit_error(*trafficsim::core::parse_duration("876000h")),
            "must be at most 720h (30 days)");
  EXPECT_EQ(trafficsim::core::duration_limit_error(0ns), "must be positive");
  EXPECT_EQ(trafficsim::core::duration_limit_error(0ns, true), "");
}

TEST(DurationLimitTest, OneMaximumForEveryRate) {
  EXPECT_EQ(trafficsim::core::rate_limit_error(10'000'000), "");
  EXPECT_EQ(trafficsim::core::rate_limit_error(*trafficsim::core::parse_rate_rps("20000k")),
            "must be at most 10M req/s (10000k)");
  EXPECT_EQ(trafficsim::core::rate_limit_error(0), "must be positive");
  EXPECT_EQ(trafficsim::core::rate_limit_error(0, true), "");
  EXPECT_EQ(trafficsim::core::rate_limit_error(-1, true), "must not be negative");
}
