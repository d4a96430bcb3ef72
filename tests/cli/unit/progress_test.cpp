// The live line says what it shows: the sent rate beside the target, the done rate, and
// "draining" with what is left once issuing has ended.
#include "cli/progress.hpp"

#include <gtest/gtest.h>

#include "cli/scenario_printing.hpp"

namespace trafficsim::cli {
namespace {

load::Snapshot open_model_snapshot() {
  load::Snapshot s;
  s.elapsed_s = 0.5;
  s.total_s = 8.6;
  s.total.target_rps = 10;
  s.total.interval_sent_rps = 10;
  s.total.interval_rps = 2;  // the first requests are still in flight
  s.total.in_flight = 4;
  return s;
}

TEST(ProgressTextTest, TheSentRateIsSetAgainstTheTargetAndTheDoneRateIsLabelled) {
  std::string line = progress_text(open_model_snapshot(), Style{});
  EXPECT_NE(line.find("sent     10.0/s (target 10.0/s)"), std::string::npos) << line;
  EXPECT_NE(line.find("done      2.0/s"), std::string::npos) << line;
  EXPECT_EQ(line.find("2.0 req/s (target"), std::string::npos) << line;
}

TEST(ProgressTextTest, WhileDrainingItSaysSoAndHowManyAreLeftInsteadOfAClockPastTheEnd) {
  auto s = open_model_snapshot();
  s.elapsed_s = 11.0;
  s.draining = true;
  s.total.in_flight = 12;
  std::string line = progress_text(s, Style{});
  EXPECT_NE(line.find("draining: 12 in flight"), std::string::npos) << line;
  EXPECT_EQ(line.find("11.0s"), std::string::npos) << line;
  EXPECT_NE(line.find("8.6s / 8.6s"), std::string::npos) << line;
}

TEST(ProgressTextTest, TheClosedModelShowsCompletionsOnly) {
  load::Snapshot s;
  s.elapsed_s = 1;
  s.total_s = 10;
  s.total.interval_rps = 1234;
  std::string line = progress_text(s, Style{});
  EXPECT_NE(line.find("1,234.0 req/s"), std::string::npos) << line;
  EXPECT_EQ(line.find("target"), std::string::npos) << line;
}

TEST(WrapWordsTest, WrapsAtWordsAndNeverCutsMidWord) {
  auto lines = wrap_words("Latency injection (0:30-1:00): p95 climbs past three seconds", 20);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "Latency injection");
  EXPECT_EQ(lines[1], "(0:30-1:00): p95");
  EXPECT_EQ(lines[2], "climbs past three");
  EXPECT_EQ(lines[3], "seconds");
  for (const auto& l : lines) EXPECT_LE(l.size(), 20u);
  EXPECT_EQ(wrap_words("short", 20), std::vector<std::string>{"short"});
  EXPECT_EQ(wrap_words("", 20), std::vector<std::string>{""});
  auto long_word = wrap_words("abcdefghijklmnopqrstuvwxyz", 10);
  ASSERT_EQ(long_word.size(), 3u);
  EXPECT_EQ(long_word[0], "abcdefghi-");
}

}  // namespace
}  // namespace trafficsim::cli
