#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace trafficsim::core {
namespace {

TEST(Utf8Test, PrefixNeverEndsInsideACharacter) {
  const std::string text = "ab\xC3\xA9\xE2\x82\xAC";  // "abé€": 2 + 2 + 3 bytes
  EXPECT_EQ(utf8_prefix(text, 100), text);
  EXPECT_EQ(utf8_prefix(text, 7), text);
  EXPECT_EQ(utf8_prefix(text, 6), "ab\xC3\xA9");  // € would be cut: dropped whole
  EXPECT_EQ(utf8_prefix(text, 5), "ab\xC3\xA9");
  EXPECT_EQ(utf8_prefix(text, 3), "ab");  // é would be cut
  EXPECT_EQ(utf8_prefix(text, 0), "");
}

}  // namespace
}  // namespace trafficsim::core
