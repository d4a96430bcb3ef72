// The JSON-lines form: documented keys in a stable order, valid JSON on one line, time fields the
// only difference between two runs of one seed.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <regex>
#include <string>
#include <vector>

#include "activity/activity_generator.hpp"
#include "activity/json_lines.hpp"

namespace trafficsim::activity {
namespace {

constexpr uint64_t kStart = 1'800'000'000'000'000'000ULL;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e; (e = text.find('\n', b)) != std::string::npos; b = e + 1)
    out.push_back(text.substr(b, e - b));
  EXPECT_EQ(b, text.size()) << "every line ends with a newline";
  return out;
}

std::string render(const ActivityGenerator& g, uint64_t start, uint64_t ticks) {
  std::string out;
  for (uint64_t k = 0; k < ticks; ++k) {
    for (const auto& a : g.tick(k, start)) {
      for (const auto& s : a.spans) append_span_line(out, a, s);
      for (const auto& r : a.logs) append_log_line(out, a, r);
    }
  }
  for (const auto& a : g.alerts_between(0, 60'000'000'000LL, start))
    for (const auto& r : a.logs) append_log_line(out, a, r);
  return out;
}

std::vector<std::string> keys_of(const boost::json::object& o) {
  std::vector<std::string> k;
  for (const auto& kv : o) k.emplace_back(kv.key());
  return k;
}

TEST(ActivityJsonLines, ASpanLineHasTheDocumentedKeysInOrder) {
  ActivityGenerator g({.seed = 2});
  const auto acts = g.tick(0, kStart);
  ASSERT_FALSE(acts.empty());
  std::string out;
  append_span_line(out, acts[0], acts[0].spans[0]);
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 1u);
  const auto o = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(keys_of(o), (std::vector<std::string>{"type", "kind", "level", "message", "trace_id",
                                                  "span_id", "name", "span_kind", "status", "start",
                                                  "end", "duration_ms", "attributes"}));
  EXPECT_EQ(o.at("type").as_string(), "span");
  EXPECT_EQ(o.at("kind").as_string(), kind_name(acts[0].kind));
  EXPECT_EQ(o.at("message").as_string(), acts[0].message);
  EXPECT_EQ(o.at("trace_id").as_string().size(), 32u);
  EXPECT_EQ(o.at("span_id").as_string().size(), 16u);
  EXPECT_NEAR(o.at("duration_ms").to_number<double>(), acts[0].duration_us / 1000.0, 1e-9);
  EXPECT_TRUE(std::regex_match(std::string(o.at("start").as_string()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")));
  EXPECT_EQ(o.at("attributes").as_object(), acts[0].spans[0].attributes);
}

TEST(ActivityJsonLines, LogLinesCarryTimeLevelMessageFieldsAndTheirSpansIds) {
  ActivityGenerator g({.seed = 2});
  bool saw_debug = false, saw_info = false;
  for (uint64_t k = 0; k < 20; ++k) {
    for (const auto& a : g.tick(k, kStart)) {
      for (const auto& r : a.logs) {
        std::string out;
        append_log_line(out, a, r);
        const auto o = boost::json::parse(out).as_object();
        EXPECT_EQ(keys_of(o), (std::vector<std::string>{"type", "kind", "time", "level", "message",
                                                        "trace_id", "span_id", "fields"}));
        EXPECT_EQ(o.at("type").as_string(), "log");
        const std::string level(o.at("level").as_string());
        saw_debug |= level == "debug";
        saw_info |= level == "info";
        EXPECT_EQ(level,
                  a.kind == ActivityKind::db || a.kind == ActivityKind::cache ? "debug" : "info");
        EXPECT_EQ(o.at("fields").as_object(), r.attributes);
      }
    }
  }
  EXPECT_TRUE(saw_debug && saw_info);
}

TEST(ActivityJsonLines, WarningsAndErrorsAreOneLineEachWithoutIds) {
  ActivityGenerator g({.seed = 2});
  std::string out;
  for (const auto& a : g.alerts_between(0, 120'000'000'000LL, kStart)) {
    ASSERT_EQ(a.logs.size(), 1u);
    append_log_line(out, a, a.logs[0]);
  }
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 12u + 5u);
  int warnings = 0, errors = 0;
  for (const auto& l : lines) {
    const auto o = boost::json::parse(l).as_object();
    EXPECT_EQ(o.at("kind").as_string(), "log");
    EXPECT_FALSE(o.contains("trace_id"));
    const std::string level(o.at("level").as_string());
    warnings += level == "warning";
    errors += level == "error";
  }
  EXPECT_EQ(warnings, 12);
  EXPECT_EQ(errors, 5);
}

TEST(ActivityJsonLines, StringsAreEscaped) {
  std::string out;
  append_json_string(out, "a\"b\\c\nd\x01");
  EXPECT_EQ(out, R"("a\"b\\c\nd\u0001")");
  EXPECT_EQ(boost::json::parse(out).as_string(), "a\"b\\c\nd\x01");
}

TEST(ActivityJsonLines, OneSeedRendersTheSameLinesApartFromTimeFields) {
  ActivityGenerator a({.seed = 7}), b({.seed = 7});
  auto strip = [](std::string text) {
    static const std::regex time_field(R"re("(start|end|time)":"[^"]*")re");
    return std::regex_replace(text, time_field, "\"$1\":\"\"");
  };
  const std::string x = render(a, kStart, 30), y = render(b, kStart + 987'654'321, 30);
  EXPECT_NE(x, y) << "the time fields differ";
  EXPECT_EQ(strip(x), strip(y));
  EXPECT_GT(lines_of(x).size(), 100u);
}

}  // namespace
}  // namespace trafficsim::activity
