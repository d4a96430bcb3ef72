// Body counters: the scan that reads numbers at dotted paths out of response bodies (token usage
// of the classify API) and the extractor that sums them over 2xx responses.
#include "scenarios/body_counters.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trafficsim::scenarios {
namespace {

constexpr const char* kClassify =
    R"({"category":"interview","confidence":0.93,"tokens":{"input":152,"output":11},)"
    R"("latency_ms":412})";

TEST(FindJsonNumber, TopLevelAndNestedPaths) {
  EXPECT_EQ(find_json_number(kClassify, "tokens.input"), 152);
  EXPECT_EQ(find_json_number(kClassify, "tokens.output"), 11);
  EXPECT_EQ(find_json_number(kClassify, "latency_ms"), 412);
  EXPECT_EQ(find_json_number(R"({"a":{"b":{"c":7}}})", "a.b.c"), 7);
  EXPECT_EQ(find_json_number(R"({"n":0})", "n"), 0);
  EXPECT_EQ(find_json_number(R"({"big":9007199254740})", "big"), 9007199254740LL);
}

TEST(FindJsonNumber, Whitespace) {
  EXPECT_EQ(find_json_number("{ \"tokens\" :\n {\r\n\t\"input\"\t:  \n 42 , \"output\": 3 } }",
                             "tokens.input"),
            42);
  EXPECT_EQ(find_json_number("{\n  \"tokens\": {\n    \"output\":   9\n  }\n}", "tokens.output"),
            9);
}

TEST(FindJsonNumber, NegativeAndFractional) {
  EXPECT_EQ(find_json_number(R"({"delta":-25})", "delta"), -25);
  EXPECT_EQ(find_json_number(R"({"delta": -3.9})", "delta"), -3);
  EXPECT_EQ(find_json_number(R"({"x": 12.75})", "x"), 12);
  EXPECT_EQ(find_json_number(R"({"x": -})", "x"), -1);
}

TEST(FindJsonNumber, AbsentOrNotANumberIsMinusOne) {
  EXPECT_EQ(find_json_number(kClassify, "tokens.total"), -1);
  EXPECT_EQ(find_json_number(kClassify, "usage.input"), -1);
  EXPECT_EQ(find_json_number(kClassify, "category"), -1);  // a string
  EXPECT_EQ(find_json_number(R"({"tokens":null})", "tokens"), -1);
  EXPECT_EQ(find_json_number(R"({"tokens":{"input":"12"}})", "tokens.input"), -1);
  EXPECT_EQ(find_json_number(R"({"tokens":true})", "tokens"), -1);
  EXPECT_EQ(find_json_number("", "tokens"), -1);
  EXPECT_EQ(find_json_number("not json at all", "tokens"), -1);
  EXPECT_EQ(find_json_number(R"({"tokens":)", "tokens"), -1);  // cut off
  EXPECT_EQ(find_json_number(R"({"tokens")", "tokens"), -1);
  // The key exists only as a value, never as a key.
  EXPECT_EQ(find_json_number(R"({"field":"tokens","n":3})", "tokens"), -1);
}

TEST(FindJsonNumber, KeysThatArePrefixesOrSuffixesOfOthersDoNotMatch) {
  EXPECT_EQ(find_json_number(R"({"input_tokens":99,"input":5})", "input"), 5);
  EXPECT_EQ(find_json_number(R"({"xinput":99,"input":5})", "input"), 5);
  EXPECT_EQ(find_json_number(R"({"inputs":99,"put":4,"input":5})", "input"), 5);
  EXPECT_EQ(find_json_number(R"({"input_tokens":99})", "input"), -1);
  EXPECT_EQ(find_json_number(R"({"my_tokens":{"input":1},"tokens":{"input":2}})", "tokens.input"),
            2);
  EXPECT_EQ(find_json_number(R"({"tokens":{"input_x":1,"input":2}})", "tokens.input"), 2);
  // The key's text inside a string value (escaped quotes) is not a key.
  EXPECT_EQ(find_json_number(R"({"msg":"say \"input\": 99","input":7})", "input"), 7);
  EXPECT_EQ(find_json_number(R"({"msg":"input","input":8})", "input"), 8);
}

TEST(FindJsonNumber, ASecondKeyIsSearchedAfterTheFirst) {
  // "tokens.input": the first "input" after the first "tokens" (an "input" before it is skipped).
  EXPECT_EQ(find_json_number(R"({"input":1,"tokens":{"input":2}})", "tokens.input"), 2);
  EXPECT_EQ(find_json_number(R"({"input":1,"tokens":{"output":2}})", "tokens.input"), -1);
}

TEST(FieldCounter, AddsOnlyForTwoXx) {
  auto counter = make_field_counter({"tokens.input", "tokens.output"});
  load::RequestTemplate t;
  std::vector<int64_t> c(2, 0);
  counter(t, 200, kClassify, c);
  EXPECT_EQ(c, (std::vector<int64_t>{152, 11}));
  counter(t, 201, kClassify, c);
  counter(t, 299, kClassify, c);
  EXPECT_EQ(c, (std::vector<int64_t>{456, 33}));
  for (int status : {0, 100, 199, 300, 304, 400, 404, 429, 500, 503}) {
    counter(t, status, kClassify, c);
    EXPECT_EQ(c, (std::vector<int64_t>{456, 33})) << status;
  }
}

TEST(FieldCounter, SkipsAbsentZeroAndNegativeValues) {
  auto counter = make_field_counter({"tokens.input", "tokens.output", "missing"});
  load::RequestTemplate t;
  std::vector<int64_t> c(3, 0);
  counter(t, 200, R"({"tokens":{"input":10}})", c);
  counter(t, 200, R"({"tokens":{"input":-5,"output":0}})", c);
  counter(t, 200, "", c);
  counter(t, 200, R"({"tokens":{"input":"lots","output":4}})", c);
  EXPECT_EQ(c, (std::vector<int64_t>{10, 4, 0}));
}

TEST(FieldCounter, FewerSlotsThanPathsIsSafe) {
  auto counter = make_field_counter({"tokens.input", "tokens.output"});
  load::RequestTemplate t;
  std::vector<int64_t> c(1, 0);
  counter(t, 200, kClassify, c);
  EXPECT_EQ(c, std::vector<int64_t>{152});
  std::vector<int64_t> none;
  counter(t, 200, kClassify, none);  // nothing to write to: no crash
}

}  // namespace
}  // namespace trafficsim::scenarios
