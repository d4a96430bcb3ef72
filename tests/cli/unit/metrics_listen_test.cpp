// --metrics-listen's page: every sample of the client-side exposition gets the segment labels,
// whatever form its line has; comments and blank lines stay as they are.
#include <gtest/gtest.h>

#include "cli/metrics_listen.hpp"

namespace trafficsim::cli {
namespace {

TEST(MetricsListen, EverySampleGetsTheSegmentLabels) {
  const std::string in =
      "# HELP http_requests_total Requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{endpoint=\"/x\",status=\"200\"} 5\n"
      "plain_total 3\n"
      "empty_labels{} 1\n"
      "\n"
      "h_bucket{le=\"+Inf\"} 2 1700000000000";
  EXPECT_EQ(with_labels(in, "segment=\"1\",segments=\"4\""),
            "# HELP http_requests_total Requests.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{segment=\"1\",segments=\"4\",endpoint=\"/x\",status=\"200\"} 5\n"
            "plain_total{segment=\"1\",segments=\"4\"} 3\n"
            "empty_labels{segment=\"1\",segments=\"4\"} 1\n"
            "\n"
            "h_bucket{segment=\"1\",segments=\"4\",le=\"+Inf\"} 2 1700000000000");
  EXPECT_EQ(with_labels("", "segment=\"0\""), "");
}

}  // namespace
}  // namespace trafficsim::cli
