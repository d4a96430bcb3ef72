// Prometheus text exposition read back: names, labels with escapes, special values, timestamps,
// and lenience towards what is not a sample line.
#include "telemetry/exposition_parser.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace trafficsim::telemetry {
namespace {

TEST(ExpositionParser, ReadsSamplesLabelsAndSpecialValues) {
  auto e = parse_exposition(
      "# HELP x_total Things.\n"
      "# TYPE x_total counter\n"
      "x_total{route=\"/a\",status=\"200\"} 12\n"
      "x_total{route=\"/b \\\"q\\\" \\\\ \\n\",status=\"500\"} 3 1700000000000\n"
      "\n"
      "h_bucket{le=\"+Inf\"} +Inf\n"
      "g NaN\r\n"
      "up 1e3\n");
  ASSERT_EQ(e.samples.size(), 5u);
  EXPECT_EQ(e.malformed_lines, 0u);
  EXPECT_EQ(e.samples[0].name, "x_total");
  EXPECT_EQ(*e.samples[0].label("route"), "/a");
  EXPECT_EQ(e.samples[0].value, 12);
  EXPECT_EQ(*e.samples[1].label("route"), "/b \"q\" \\ \n");
  EXPECT_EQ(e.samples[1].value, 3);  // the timestamp is not the value
  EXPECT_TRUE(std::isinf(e.samples[2].value));
  EXPECT_TRUE(std::isnan(e.samples[3].value));
  EXPECT_EQ(e.samples[4].value, 1000);
  EXPECT_EQ(e.samples[4].label("le"), nullptr);
}

TEST(ExpositionParser, MalformedLinesAreSkippedAndCounted) {
  auto e = parse_exposition("ok 1\n{x=\"1\"} 2\nbad{x=1} 3\nunterminated{x=\"1} 4\nnovalue\nv abc\nok 2\n");
  ASSERT_EQ(e.samples.size(), 2u);
  EXPECT_EQ(e.malformed_lines, 5u);
}

}  // namespace
}  // namespace trafficsim::telemetry
