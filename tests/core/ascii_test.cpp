#include "core/ascii.hpp"

#include <gtest/gtest.h>

namespace trafficsim::core {
namespace {

TEST(AsciiTest, FoldsOnlyAsciiLetters) {
  EXPECT_EQ(to_lower_ascii("Content-Length: 5 ÄB"), "content-length: 5 Äb");
  EXPECT_TRUE(iequals_ascii("Transfer-Encoding", "transfer-encoding"));
  EXPECT_FALSE(iequals_ascii("Host", "Hosts"));
  EXPECT_FALSE(iequals_ascii("[", "{"));  // 0x5B and 0x7B differ by the case bit: not letters
  static_assert(iequals_ascii("GET", "get"));
}

}  // namespace
}  // namespace trafficsim::core
