#include "core/text_template.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/random.hpp"

namespace trafficsim::core {
namespace {

RenderContext ctx_at(uint64_t k, uint64_t seed = 42, std::string_view stream = "checkout") {
  return RenderContext{seed, stream_key(stream), k};
}

std::shared_ptr<const SampleSet> emails_set() {
  auto set = std::make_shared<SampleSet>();
  set->name = "emails";
  set->fields = {"subject", "sender", "body"};
  for (int i = 0; i < 10; ++i) {
    const std::string n = std::to_string(i);
    set->records.push_back({"subject " + n, "sender" + n + "@example.org", "body of mail " + n});
  }
  return set;
}

std::shared_ptr<const SampleSet> words_set() {
  auto set = std::make_shared<SampleSet>();
  set->name = "words";
  set->fields = {""};
  for (const char* w : {"alpha", "beta", "gamma", "delta"}) set->records.push_back({w});
  return set;
}

std::vector<std::shared_ptr<const SampleSet>> all_sets() {
  return {emails_set(), words_set()};
}

// The TemplateError thrown by compiling `text`; fails the test when none is thrown.
TemplateError compile_error(std::string_view text) {
  try {
    TextTemplate::compile(text, all_sets());
  } catch (const TemplateError& e) {
    return e;
  }
  ADD_FAILURE() << "no TemplateError for " << text;
  return TemplateError("", 0);
}

TEST(TextTemplateTest, DefaultIsEmptyStatic) {
  TextTemplate t;
  EXPECT_TRUE(t.is_static());
  EXPECT_EQ(t.static_text(), "");
  EXPECT_EQ(t.source(), "");
  EXPECT_EQ(t.max_size(), 0u);
  EXPECT_EQ(t.render(ctx_at(1)), "");
}

TEST(TextTemplateTest, LiteralTextPassesThrough) {
  const std::string text = "GET /products?q=a}}b {x} { {";
  auto t = TextTemplate::compile(text);
  EXPECT_TRUE(t.is_static());
  EXPECT_EQ(t.static_text(), text);
  EXPECT_EQ(t.source(), text);
  EXPECT_EQ(t.render(ctx_at(7)), text);
  EXPECT_GE(t.max_size(), text.size());
}

TEST(TextTemplateTest, QuotedLiteralEmitsBracesAndFoldsIntoStaticText) {
  auto t = TextTemplate::compile(R"(a {{"{{x}}"}} b {{ "say \"hi\" \\" }})");
  EXPECT_TRUE(t.is_static());
  EXPECT_EQ(t.static_text(), R"(a {{x}} b say "hi" \)");
  EXPECT_EQ(t.render(ctx_at(1)), t.static_text());
}

TEST(TextTemplateTest, RenderAppendsToBuffer) {
  auto t = TextTemplate::compile("k={{seq}}");
  std::string out = "prefix:";
  t.render(out, ctx_at(12));
  EXPECT_EQ(out, "prefix:k=12");
}

TEST(TextTemplateTest, SeqIsArrivalIndex) {
  auto t = TextTemplate::compile("/items/{{ seq }}");
  EXPECT_FALSE(t.is_static());
  EXPECT_EQ(t.render(ctx_at(0)), "/items/0");
  EXPECT_EQ(t.render(ctx_at(18446744073709551615ULL)), "/items/18446744073709551615");
}

TEST(TextTemplateTest, UuidIsVersion4LowerCase) {
  auto t = TextTemplate::compile("{{uuid}}");
  const std::regex pattern("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (uint64_t k = 0; k < 500; ++k) {
    const std::string u = t.render(ctx_at(k));
    ASSERT_EQ(u.size(), 36u);
    ASSERT_TRUE(std::regex_match(u, pattern)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 500u);  // differs across k
  EXPECT_EQ(t.render(ctx_at(3)), t.render(ctx_at(3)));
}

TEST(TextTemplateTest, IntStaysInBoundsAndReachesBothEnds) {
  auto t = TextTemplate::compile("{{int -3 4}}");
  std::set<int64_t> seen;
  for (uint64_t k = 0; k < 1000; ++k) {
    const int64_t v = std::stoll(t.render(ctx_at(k)));
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 4);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_TRUE(seen.count(-3));
  EXPECT_TRUE(seen.count(4));
}

TEST(TextTemplateTest, IntAcceptsFullSignedRangeAndSinglePoint) {
  EXPECT_EQ(TextTemplate::compile("{{int 7 7}}").render(ctx_at(5)), "7");
  auto full = TextTemplate::compile("{{int -9223372036854775808 9223372036854775807}}");
  for (uint64_t k = 0; k < 100; ++k) {
    const std::string v = full.render(ctx_at(k));
    ASSERT_LE(v.size(), full.max_size());
    ASSERT_NO_THROW((void)std::stoll(v));
  }
}

TEST(TextTemplateTest, ChoiceIsRoughlyUniformAndHonoursQuotes) {
  auto t = TextTemplate::compile(R"({{choice "New York" Paris Tokyo}})");
  std::map<std::string, int> counts;
  for (uint64_t k = 0; k < 3000; ++k) ++counts[t.render(ctx_at(k))];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [word, count] : counts) {
    EXPECT_TRUE(word == "New York" || word == "Paris" || word == "Tokyo") << word;
    EXPECT_GT(count, 850) << word;  // expected 1000, sd ~26
    EXPECT_LT(count, 1150) << word;
  }
}

TEST(TextTemplateTest, SampleFieldsOfOneArrivalComeFromOneRecordAcrossTemplates) {
  const auto sets = all_sets();
  auto subject = TextTemplate::compile("/mail?s={{sample emails.subject}}", sets);
  auto body = TextTemplate::compile(R"({"body":"{{sample emails.body}}"})", sets);
  std::set<std::string> distinct;
  for (uint64_t k = 0; k < 200; ++k) {
    const std::string s = subject.render(ctx_at(k));
    const std::string b = body.render(ctx_at(k));
    const std::string n = s.substr(std::string("/mail?s=subject ").size());
    EXPECT_EQ(b, R"({"body":"body of mail )" + n + "\"}");
    distinct.insert(n);
  }
  EXPECT_EQ(distinct.size(), 10u);
}

TEST(TextTemplateTest, SampleOfSingleFieldSetNeedsNoFieldAndIsUniform) {
  auto t = TextTemplate::compile("{{sample words}}", all_sets());
  auto explicit_field = TextTemplate::compile("{{sample words.}}", all_sets());
  std::map<std::string, int> counts;
  for (uint64_t k = 0; k < 4000; ++k) {
    const std::string w = t.render(ctx_at(k));
    ASSERT_EQ(w, explicit_field.render(ctx_at(k)));
    ++counts[w];
  }
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [word, count] : counts) {
    EXPECT_GT(count, 850) << word;  // expected 1000, sd ~27
    EXPECT_LT(count, 1150) << word;
  }
}

TEST(TextTemplateTest, SampleDoesNotDependOnOtherDrawsInTheTemplate) {
  const auto sets = all_sets();
  auto plain = TextTemplate::compile("{{sample emails.subject}}", sets);
  auto mixed = TextTemplate::compile("{{uuid}} {{int 1 9}} {{sample emails.subject}}", sets);
  for (uint64_t k = 0; k < 50; ++k) {
    const std::string m = mixed.render(ctx_at(k));
    EXPECT_EQ(m.substr(m.rfind("subject")), plain.render(ctx_at(k)));
  }
}

TEST(TextTemplateTest, BloatIsLongEnoughAndStartsWithTheDrawnRecord) {
  const auto sets = all_sets();
  auto bloat = TextTemplate::compile("{{bloat emails.body 100}}", sets);
  auto subject = TextTemplate::compile("{{sample emails.subject}}", sets);
  for (uint64_t k = 0; k < 100; ++k) {
    const std::string text = bloat.render(ctx_at(k));
    const std::string n = subject.render(ctx_at(k)).substr(std::string("subject ").size());
    ASSERT_GE(text.size(), 100u);
    ASSERT_LE(text.size(), bloat.max_size());
    ASSERT_EQ(text.rfind("body of mail " + n + "\n\n", 0), 0u) << text;
    // Stops as soon as it is long enough: without its last record it would be too short.
    const size_t last_separator = text.rfind("\n\n");
    ASSERT_NE(last_separator, std::string::npos);
    EXPECT_LT(last_separator, 100u);
  }
}

TEST(TextTemplateTest, PrecomputedBytesCountBloatAndFilteredSamplesNotTheSource) {
  const auto sets = all_sets();
  EXPECT_EQ(TextTemplate::compile("static text").precomputed_bytes(), 0u);
  EXPECT_EQ(TextTemplate::compile("{{uuid}} {{sample emails.body}}", sets).precomputed_bytes(), 0u);
  // {{bloat ... N}} holds at least N bytes of joined records.
  EXPECT_GE(TextTemplate::compile("{{bloat emails.body 100000}}", sets).precomputed_bytes(),
            100000u);
  // A filtered sample holds the filtered text of every record.
  size_t bodies = 0;
  for (const auto& r : sets[0]->records) bodies += r[static_cast<size_t>(sets[0]->field_index("body"))].size();
  EXPECT_GE(TextTemplate::compile("{{sample emails.body | json}}", sets).precomputed_bytes(),
            bodies);
}

TEST(TextTemplateTest, BloatWrapsAroundTheRecords) {
  auto set = std::make_shared<SampleSet>();
  set->name = "tiny";
  set->fields = {"v"};
  set->records = {{"a"}, {"b"}, {"c"}};
  auto t = TextTemplate::compile("{{bloat tiny.v 9}}", {set});
  std::set<std::string> seen;
  for (uint64_t k = 0; k < 100; ++k) seen.insert(t.render(ctx_at(k)));
  // 3 records joined by blank lines are 7 characters, 4 are 10: the first length >= 9.
  EXPECT_EQ(seen,
            (std::set<std::string>{"a\n\nb\n\nc\n\na", "b\n\nc\n\na\n\nb", "c\n\na\n\nb\n\nc"}));
}

TEST(TextTemplateTest, BloatOfOneLongRecordIsThatRecord) {
  auto set = std::make_shared<SampleSet>();
  set->name = "big";
  set->fields = {""};
  set->records = {{std::string(50, 'x')}};
  EXPECT_EQ(TextTemplate::compile("{{bloat big 10}}", {set}).render(ctx_at(1)),
            std::string(50, 'x'));
}

TEST(TextTemplateTest, PersonAgreesAcrossTemplatesAndEmailIsUniquePerArrival) {
  auto name = TextTemplate::compile("{{name}}");
  auto parts = TextTemplate::compile("{{first_name}}|{{last_name}}");
  auto email = TextTemplate::compile("{{email}}");
  const std::regex email_pattern("[a-z]+\\.[a-z]+\\.[0-9]+@example\\.com");
  std::set<std::string> emails;
  std::set<std::string> names;
  for (uint64_t k = 0; k < 500; ++k) {
    const std::string full = name.render(ctx_at(k));
    const std::string p = parts.render(ctx_at(k));
    const std::string first = p.substr(0, p.find('|'));
    const std::string last = p.substr(p.find('|') + 1);
    EXPECT_EQ(full, first + " " + last);
    std::string expected = first + "." + last + "." + std::to_string(k) + "@example.com";
    for (char& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string e = email.render(ctx_at(k));
    EXPECT_EQ(e, expected);
    EXPECT_TRUE(std::regex_match(e, email_pattern)) << e;
    emails.insert(e);
    names.insert(full);
  }
  EXPECT_EQ(emails.size(), 500u);
  EXPECT_GT(names.size(), 400u);  // 64 x 64 combinations: varied, few repeats
}

TEST(TextTemplateTest, JsonFilterEscapesForAJsonString) {
  auto set = std::make_shared<SampleSet>();
  set->name = "nasty";
  set->fields = {""};
  set->records = {{std::string("say \"hi\"\\ \n\r\t\b\f\x01\x1f caf\xC3\xA9")}};
  auto t = TextTemplate::compile(R"({"v":"{{sample nasty | json}}"})", {set});
  const std::string out = t.render(ctx_at(1));
  EXPECT_EQ(out, "{\"v\":\"say \\\"hi\\\"\\\\ \\n\\r\\t\\b\\f\\u0001\\u001f caf\xC3\xA9\"}");
  EXPECT_LE(out.size(), t.max_size());
  const boost::json::value parsed = boost::json::parse(out);
  EXPECT_EQ(std::string(parsed.at("v").as_string()), set->records[0][0]);
}

TEST(TextTemplateTest, MaxSizeBoundsWorstCaseJsonGrowth) {
  auto set = std::make_shared<SampleSet>();
  set->name = "controls";
  set->fields = {""};
  set->records = {{std::string(10, '\x01')}};
  auto t = TextTemplate::compile("{{sample controls | json | url}}", {set});
  const std::string out = t.render(ctx_at(1));
  EXPECT_EQ(out.size(), 10u * 8u);  // "\u0001" -> "%5Cu0001"
  EXPECT_LE(out.size(), t.max_size());
}

TEST(TextTemplateTest, UrlFilterPercentEncodesAllButUnreserved) {
  auto t = TextTemplate::compile(R"(/s?q={{choice "a b/c?d=e&f+g~h.i_j-k%" | url}})");
  EXPECT_EQ(t.render(ctx_at(1)), "/s?q=a%20b%2Fc%3Fd%3De%26f%2Bg~h.i_j-k%25");
  auto utf8 = TextTemplate::compile("{{\"caf\xC3\xA9\" | url}}");
  EXPECT_TRUE(utf8.is_static());
  EXPECT_EQ(utf8.static_text(), "caf%C3%A9");
}

TEST(TextTemplateTest, FiltersChainLeftToRight) {
  auto t = TextTemplate::compile(R"({{choice "a\"b" | json | url}})");
  EXPECT_EQ(t.render(ctx_at(1)), "a%5C%22b");  // json: a\"b, then url
  auto reversed = TextTemplate::compile(R"({{choice "a\"b" | url | json}})");
  EXPECT_EQ(reversed.render(ctx_at(1)), "a%22b");
}

TEST(TextTemplateTest, SameContextSameBytesDifferentSeedDifferentBytes) {
  const std::string text =
      "{{uuid}} {{int 0 1000000}} {{choice a b c d e f}} {{sample emails.sender}} {{email}}";
  auto a = TextTemplate::compile(text, all_sets());
  auto b = TextTemplate::compile(text, all_sets());
  EXPECT_EQ(a.render(ctx_at(9)), b.render(ctx_at(9)));
  EXPECT_EQ(a.render(ctx_at(9)), a.render(ctx_at(9)));
  EXPECT_NE(a.render(ctx_at(9, 1)), a.render(ctx_at(9, 2)));
  EXPECT_NE(a.render(ctx_at(9, 1, "s1")), a.render(ctx_at(9, 1, "s2")));
}

TEST(TextTemplateTest, CopiesShareTheCompiledTemplate) {
  auto t = TextTemplate::compile("{{uuid}}");
  TextTemplate copy = t;
  TextTemplate moved = std::move(copy);
  EXPECT_EQ(moved.render(ctx_at(4)), t.render(ctx_at(4)));
  EXPECT_EQ(moved.source(), "{{uuid}}");
}

TEST(TextTemplateTest, RenderingFromManyThreadsMatchesSingleThreaded) {
  auto t = TextTemplate::compile(
      R"({"id":"{{uuid}}","n":{{int 1 99}},"who":"{{name | json}}","s":"{{sample emails.body}}",)"
      R"("pad":"{{bloat emails.body 200 | json}}"})",
      all_sets());
  constexpr uint64_t kArrivals = 2000;
  std::vector<std::string> expected;
  for (uint64_t k = 0; k < kArrivals; ++k) expected.push_back(t.render(ctx_at(k)));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      std::string out;
      for (uint64_t k = 0; k < kArrivals; ++k) {
        out.clear();
        t.render(out, ctx_at(k));
        if (out != expected[k]) ++mismatches[static_cast<size_t>(w)];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(TextTemplateTest, RenderIntoReservedBufferKeepsItsStorage) {
  auto t = TextTemplate::compile(
      "{{uuid}} {{int -5 5 | url}} {{email | json}} {{sample emails.body | url}} {{seq}}",
      all_sets());
  std::string out;
  out.reserve(t.max_size());
  const char* storage = out.data();
  for (uint64_t k = 0; k < 100; ++k) {
    out.clear();
    t.render(out, ctx_at(k));
    ASSERT_LE(out.size(), t.max_size());
  }
  EXPECT_EQ(out.data(), storage);  // never reallocated
}

struct ErrorCase {
  std::string text;
  size_t offset;
  std::vector<std::string> message_parts;
};

TEST(TextTemplateTest, CompileErrorsNamePlaceholderProblemAndOffset) {
  const std::vector<ErrorCase> cases = {
      {"ab{{uuidd}}", 2, {"unknown function 'uuidd'", "{{uuidd}}"}},
      {"x {{uuid", 2, {"unclosed", "{{uuid"}},
      {"{{\"abc}}", 0, {"unclosed quote"}},
      {"a{{}}", 1, {"empty placeholder", "{{}}"}},
      {"{{int 5 1}}", 0, {"reversed", "{{int 5 1}}"}},
      {"{{int a 1}}", 0, {"'a' is not a 64-bit integer"}},
      {"{{int 1 99999999999999999999}}", 0, {"not a 64-bit integer"}},
      {"{{int 1}}", 0, {"'int' takes arguments A B, got 1"}},
      {"{{uuid 3}}", 0, {"'uuid' takes no arguments"}},
      {"{{choice}}", 0, {"at least one word"}},
      {"{{sample nope.x}}", 0, {"unknown sample set 'nope'", "emails, words"}},
      {"..{{sample emails.subjet}}",
       2,
       {"sample set 'emails' has no field 'subjet' (fields: subject, sender, body)",
        "{{sample emails.subjet}}"}},
      {"{{sample emails}}", 0, {"sample set 'emails' has 3 fields"}},
      {"{{sample}}", 0, {"'sample' takes arguments"}},
      {"{{bloat emails.body 0}}", 0, {"bloat length '0'"}},
      {"{{bloat emails.body 10000001}}", 0, {"bloat length"}},
      {"{{bloat emails.body}}", 0, {"'bloat' takes arguments SET.FIELD N"}},
      {"{{uuid | xml}}", 0, {"unknown filter 'xml'", "{{uuid | xml}}"}},
      {"{{uuid |}}", 0, {"filter name is missing"}},
      {"{{uuid | json json}}", 0, {"takes no arguments"}},
      {"{{\"a\" b}}", 0, {"quoted literal takes no arguments"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const TemplateError e = compile_error(c.text);
    EXPECT_EQ(e.offset(), c.offset);
    for (const auto& part : c.message_parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message: " << e.what() << "\nmissing: " << part;
    }
  }
}

TEST(TextTemplateTest, EmptySampleSetIsAnError) {
  auto set = std::make_shared<SampleSet>();
  set->name = "none";
  set->fields = {""};
  try {
    TextTemplate::compile("{{sample none}}", {set});
    FAIL() << "expected TemplateError";
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("sample set 'none' is empty"), std::string::npos);
    EXPECT_EQ(e.offset(), 0u);
  }
}

TEST(TextTemplateTest, SampleSetsStayAliveWithTheTemplate) {
  TextTemplate t;
  {
    auto sets = all_sets();
    t = TextTemplate::compile("{{sample words}}", sets);
  }
  const std::string w = t.render(ctx_at(3));
  EXPECT_TRUE(w == "alpha" || w == "beta" || w == "gamma" || w == "delta") << w;
}

}  // namespace
}  // namespace trafficsim::core
