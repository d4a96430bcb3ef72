#include "http/query_string.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "http/api_error.hpp"

namespace trafficsim::http {
namespace {

TEST(QueryStringTest, FindsDecodedParameters) {
  EXPECT_EQ(query_param("limit=20&offset=40", "offset"), "40");
  EXPECT_EQ(query_param("?limit=20", "limit"), "20");
  EXPECT_EQ(query_param("q=hello+world%21&x=1", "q"), "hello world!");
  EXPECT_EQ(query_param("error%52ate=0.3", "errorRate"), "0.3");  // names are decoded too
  EXPECT_EQ(query_param("a=1&a=2", "a"), "1");                    // the first one wins
  EXPECT_EQ(query_param("a&b=", "a"), "");
  EXPECT_EQ(query_param("a&b=", "b"), "");
  EXPECT_EQ(query_param("a=1&&b=2", "b"), "2");
  EXPECT_EQ(query_param("x=a=b", "x"), "a=b");
}

TEST(QueryStringTest, AbsentParametersAreNullopt) {
  EXPECT_EQ(query_param("", "limit"), std::nullopt);
  EXPECT_EQ(query_param("limits=5&xlimit=3", "limit"), std::nullopt);
}

TEST(QueryStringTest, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%G1%4"), "%G1%4");
  EXPECT_EQ(percent_decode("%2f%2F"), "//");
}

TEST(ApiErrorTest, SerialisesCodeFieldAndMessage) {
  const ApiError error{422, "invalid_value", "email", "email must contain one '@'"};
  const auto json = error.to_json();
  EXPECT_EQ(json.at("error").as_string(), "invalid_value");
  EXPECT_EQ(json.at("field").as_string(), "email");
  EXPECT_EQ(json.at("message").as_string(), "email must contain one '@'");
  EXPECT_EQ(json.size(), 3u);
}

TEST(ApiErrorTest, LeavesOutAnEmptyField) {
  const ApiError error{500, "internal_error", "", "boom"};
  const auto json = error.to_json();
  EXPECT_FALSE(json.contains("field"));
  EXPECT_EQ(json.at("error").as_string(), "internal_error");
}

}  // namespace
}  // namespace trafficsim::http
