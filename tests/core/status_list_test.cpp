#include "core/status_list.hpp"

#include <gtest/gtest.h>

namespace trafficsim::core {
namespace {

TEST(StatusListTest, AcceptsStatusesRangesAndClasses) {
  EXPECT_EQ(parse_status_list("200,201"), (std::vector<int>{200, 201}));
  auto range = parse_status_list("200-499");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->size(), 300u);
  EXPECT_EQ(range->front(), 200);
  EXPECT_EQ(range->back(), 499);
  auto cls = parse_status_list("2xx, 404");
  ASSERT_TRUE(cls);
  EXPECT_EQ(cls->size(), 101u);
  EXPECT_EQ(cls->back(), 404);
  EXPECT_EQ(parse_status_list("204,200,204"), (std::vector<int>{200, 204}));
  EXPECT_EQ(parse_status_item("5XX"), (std::pair{500, 599}));
}

TEST(StatusListTest, NamesTheItemThatIsNotAStatus) {
  for (const char* text : {"", "abc", "200,", "600", "99", "500-400", "6xx", "2xx-3xx", "1000",
                           "200-", "-200", "+200"}) {
    std::string bad = "unset";
    EXPECT_EQ(parse_status_list(text, &bad), std::nullopt) << text;
    EXPECT_NE(bad, "unset") << text;
  }
  std::string bad;
  parse_status_list("200, 7xx ,404", &bad);
  EXPECT_EQ(bad, "7xx");
}

}  // namespace
}  // namespace trafficsim::core
