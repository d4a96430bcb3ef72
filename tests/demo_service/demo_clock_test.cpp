#include "demo_service/demo_clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <string>

#include "core/random.hpp"

namespace trafficsim::demo_service {
namespace {

// ---- the table ------------------------------------------------------------------------------

TEST(DemoPhaseTableTest, BoundariesFallIntoTheRightPhase) {
  const std::map<double, DemoPhase> expected{
      {-5, DemoPhase::calm},      {0, DemoPhase::calm},         {0.99, DemoPhase::calm},
      {1, DemoPhase::warming},    {4.99, DemoPhase::warming},   {5, DemoPhase::surge},
      {9.99, DemoPhase::surge},   {10, DemoPhase::degraded},    {14.99, DemoPhase::degraded},
      {15, DemoPhase::critical},  {19.99, DemoPhase::critical}, {20, DemoPhase::collapse},
      {100, DemoPhase::collapse},
  };
  for (const auto& [minute, phase] : expected) {
    EXPECT_EQ(demo_phase_rule(minute).phase, phase) << "minute " << minute;
  }
  EXPECT_EQ(demo_phase_rule(std::nan("")).phase, DemoPhase::calm);
}

TEST(DemoPhaseTableTest, IsExactlyTheBlackFridayScript) {
  struct Row {
    DemoPhase phase;
    double from, min_ms, max_ms, ratio;
  };
  const std::vector<Row> expected{
      {DemoPhase::calm, 0, 100, 300, 0},           {DemoPhase::warming, 1, 100, 300, 0.02},
      {DemoPhase::surge, 5, 100, 300, 0.15},       {DemoPhase::degraded, 10, 500, 1200, 0.45},
      {DemoPhase::critical, 15, 1200, 2500, 0.65}, {DemoPhase::collapse, 20, 2500, 3200, 0.78},
  };
  const auto& table = demo_phase_table();
  ASSERT_EQ(table.size(), expected.size());
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(table[i].phase, expected[i].phase) << i;
    EXPECT_EQ(table[i].from_minute, expected[i].from) << i;
    EXPECT_EQ(table[i].min_delay_ms, expected[i].min_ms) << i;
    EXPECT_EQ(table[i].max_delay_ms, expected[i].max_ms) << i;
    EXPECT_EQ(table[i].failure_ratio, expected[i].ratio) << i;
  }
  EXPECT_EQ(&demo_phase_rule(12), &table[3]);  // the rule is the table's, not a copy
}

TEST(DemoPhaseTableTest, NamesEveryPhase) {
  EXPECT_EQ(demo_phase_name(DemoPhase::calm), "calm");
  EXPECT_EQ(demo_phase_name(DemoPhase::warming), "warming");
  EXPECT_EQ(demo_phase_name(DemoPhase::surge), "surge");
  EXPECT_EQ(demo_phase_name(DemoPhase::degraded), "degraded");
  EXPECT_EQ(demo_phase_name(DemoPhase::critical), "critical");
  EXPECT_EQ(demo_phase_name(DemoPhase::collapse), "collapse");
}

// ---- environment ----------------------------------------------------------------------------

// getenv over a map; absent keys are unset.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

constexpr double kNow = 1'764'320'000;  // 2025-11-28, Black Friday

TEST(DemoSettingsTest, DefaultsWhenNothingIsSet) {
  const FakeEnv env;
  const DemoSettings settings = demo_settings_from_env(env.fn(), kNow);
  EXPECT_FALSE(settings.enabled);
  EXPECT_EQ(settings.mode, "");
  EXPECT_EQ(settings.clock.start_unix, kNow);
  EXPECT_EQ(settings.clock.time_scale, 1.0);
  EXPECT_EQ(settings.clock.duration_minutes, 30);
}

TEST(DemoSettingsTest, ReadsEveryVariable) {
  const FakeEnv env{{{"DEMO_MODE", "blackfriday"},
                     {"DEMO_START_TIMESTAMP", "1764300000.5"},
                     {"DEMO_TIME_SCALE", "60"},
                     {"DEMO_DURATION_MINUTES", "25"}}};
  const DemoSettings settings = demo_settings_from_env(env.fn(), kNow);
  EXPECT_TRUE(settings.enabled);
  EXPECT_EQ(settings.mode, "blackfriday");
  EXPECT_EQ(settings.clock.start_unix, 1764300000.5);
  EXPECT_EQ(settings.clock.time_scale, 60);
  EXPECT_EQ(settings.clock.duration_minutes, 25);
}

TEST(DemoSettingsTest, ModeIsCaseInsensitiveAndCanBeSwitchedOff) {
  EXPECT_TRUE(demo_settings_from_env(FakeEnv{{{"DEMO_MODE", "BlackFriday"}}}.fn(), kNow).enabled);
  for (const char* off : {"", "off", "none", "OFF"}) {
    const DemoSettings settings = demo_settings_from_env(FakeEnv{{{"DEMO_MODE", off}}}.fn(), kNow);
    EXPECT_FALSE(settings.enabled) << off;
    EXPECT_EQ(settings.mode, "") << off;
  }
}

TEST(DemoSettingsTest, EmptyStartTimestampMeansNow) {
  const FakeEnv env{{{"DEMO_MODE", "blackfriday"}, {"DEMO_START_TIMESTAMP", ""}}};
  EXPECT_EQ(demo_settings_from_env(env.fn(), kNow).clock.start_unix, kNow);
}

TEST(DemoSettingsTest, ErrorsNameTheVariableAndTheValue) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"DEMO_MODE", "cybermonday"},    {"DEMO_START_TIMESTAMP", "yesterday"},
      {"DEMO_START_TIMESTAMP", "-5"},  {"DEMO_START_TIMESTAMP", "12abc"},
      {"DEMO_START_TIMESTAMP", "nan"}, {"DEMO_TIME_SCALE", "0"},
      {"DEMO_TIME_SCALE", "-2"},       {"DEMO_TIME_SCALE", "3601"},
      {"DEMO_TIME_SCALE", "fast"},     {"DEMO_DURATION_MINUTES", "0"},
      {"DEMO_DURATION_MINUTES", "-1"}, {"DEMO_DURATION_MINUTES", "half an hour"},
  };
  for (const auto& [name, value] : bad) {
    const FakeEnv env{{{name, value}}};
    try {
      demo_settings_from_env(env.fn(), kNow);
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const ConfigError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(name), std::string::npos) << message;
      EXPECT_NE(message.find(value), std::string::npos) << message;
    }
  }
}

TEST(DemoSettingsTest, AcceptsTheLimitsOfTheRanges) {
  const FakeEnv env{{{"DEMO_TIME_SCALE", "3600"},
                     {"DEMO_START_TIMESTAMP", "0"},
                     {"DEMO_DURATION_MINUTES", "0.5"}}};
  const DemoSettings settings = demo_settings_from_env(env.fn(), kNow);
  EXPECT_EQ(settings.clock.time_scale, 3600);
  EXPECT_EQ(settings.clock.start_unix, 0);
  EXPECT_EQ(settings.clock.duration_minutes, 0.5);
}

// ---- the clock ------------------------------------------------------------------------------

DemoSettings black_friday(double start, double time_scale) {
  DemoSettings settings;
  settings.enabled = true;
  settings.mode = "blackfriday";
  settings.clock.start_unix = start;
  settings.clock.time_scale = time_scale;
  return settings;
}

TEST(DemoClockTest, TimeScale60MakesEachRealSecondADemoMinute) {
  double now = 1000;
  const DemoClock clock(black_friday(1000, 60), [&] { return now; });
  EXPECT_DOUBLE_EQ(clock.minute(), 0);
  EXPECT_EQ(clock.rule().phase, DemoPhase::calm);
  now = 1001;
  EXPECT_DOUBLE_EQ(clock.minute(), 1);
  EXPECT_EQ(clock.rule().phase, DemoPhase::warming);
  now = 1005.5;
  EXPECT_DOUBLE_EQ(clock.minute(), 5.5);
  EXPECT_EQ(clock.rule().phase, DemoPhase::surge);
  now = 1012;
  EXPECT_EQ(clock.rule().phase, DemoPhase::degraded);
  now = 1017;
  EXPECT_EQ(clock.rule().phase, DemoPhase::critical);
  now = 1020;
  EXPECT_EQ(clock.rule().phase, DemoPhase::collapse);
}

TEST(DemoClockTest, RealTimeScaleCountsMinutes) {
  double now = 1000 + 90;
  const DemoClock clock(black_friday(1000, 1), [&] { return now; });
  EXPECT_DOUBLE_EQ(clock.minute(), 1.5);
}

TEST(DemoClockTest, AStartInTheFutureHasNotBegun) {
  const DemoClock clock(black_friday(2000, 60), [] { return 1000.0; });
  EXPECT_EQ(clock.minute(), 0);
  EXPECT_EQ(clock.rule().phase, DemoPhase::calm);
}

// effect_at is what the recommendations handler calls: these tests exercise its production path.

TEST(DemoClockTest, DelaysStayInThePhaseRange) {
  const DemoClock clock(black_friday(0, 60));
  for (const double minute : {0.5, 3.0, 7.0, 12.0, 17.0, 25.0}) {
    const double now = minute;  // seconds = minutes at scale 60
    const PhaseRule& rule = demo_phase_rule(minute);
    double lowest = 1e9;
    double highest = 0;
    for (uint64_t i = 0; i < 2000; ++i) {
      const RecommendationEffect effect = clock.effect_at(now, core::mix64(i));
      ASSERT_EQ(effect.phase, rule.phase);
      ASSERT_DOUBLE_EQ(effect.minute, minute);
      lowest = std::min(lowest, effect.delay_ms);
      highest = std::max(highest, effect.delay_ms);
    }
    EXPECT_GE(lowest, rule.min_delay_ms) << minute;
    EXPECT_LE(highest, rule.max_delay_ms) << minute;
    const double width = rule.max_delay_ms - rule.min_delay_ms;
    EXPECT_LT(lowest, rule.min_delay_ms + 0.02 * width) << minute;
    EXPECT_GT(highest, rule.max_delay_ms - 0.02 * width) << minute;
  }
}

TEST(DemoClockTest, ScriptedFailuresFollowThePhaseRatio) {
  const DemoClock clock(black_friday(0, 60));
  for (const double minute : {0.5, 3.0, 7.0, 12.0, 17.0, 25.0}) {
    int failures = 0;
    for (uint64_t i = 0; i < 2000; ++i) failures += clock.effect_at(minute, core::mix64(i)).fail;
    EXPECT_NEAR(failures / 2000.0, demo_phase_rule(minute).failure_ratio, 0.05) << minute;
  }
  for (uint64_t i = 0; i < 2000; ++i) ASSERT_FALSE(clock.effect_at(0.5, core::mix64(i)).fail);
}

TEST(DemoClockTest, FailuresDoNotTrackTheDelayDrawnFromTheSameBits) {
  // With shared bits, a correlated implementation would fail only on the slowest requests.
  const DemoClock clock(black_friday(0, 60));
  double failed_delay_sum = 0;
  int failed = 0;
  for (uint64_t i = 0; i < 4000; ++i) {
    const RecommendationEffect effect = clock.effect_at(25.0, core::mix64(i));
    if (effect.fail) {
      failed_delay_sum += effect.delay_ms;
      ++failed;
    }
  }
  ASSERT_GT(failed, 0);
  EXPECT_NEAR(failed_delay_sum / failed, 2850, 50);  // the midpoint of 2500-3200
}

TEST(DemoClockTest, EffectDependsOnTheTimeGivenNotTheClocksOwnNow) {
  // The clock's own now says minute 0; the time passed in decides.
  const DemoClock clock(black_friday(0, 60), [] { return 0.0; });
  const RecommendationEffect effect = clock.effect_at(25.0, core::mix64(1));
  EXPECT_EQ(effect.phase, DemoPhase::collapse);
  EXPECT_GE(effect.delay_ms, 2500);
}

TEST(DemoClockTest, DisabledDemoStaysCalmAndNeverFails) {
  DemoSettings off;  // enabled = false
  off.clock.start_unix = 0;
  const DemoClock clock(off, [] { return 1e9; });  // long after any start
  EXPECT_EQ(clock.minute(), 0);
  EXPECT_EQ(clock.rule().phase, DemoPhase::calm);
  for (uint64_t i = 0; i < 1000; ++i) {
    const RecommendationEffect effect = clock.effect_at(1e9, core::mix64(i));
    ASSERT_FALSE(effect.fail);
    ASSERT_EQ(effect.delay_ms, 0);  // without the demo the endpoint adds nothing
    ASSERT_EQ(effect.phase, DemoPhase::calm);
  }
}

TEST(DemoClockTest, DefaultClockIsTheSystemClock) {
  const double start = static_cast<double>(std::time(nullptr)) - 600;  // ten minutes ago
  const DemoClock clock(black_friday(start, 1));
  EXPECT_NEAR(clock.minute(), 10, 0.1);
}

TEST(DemoClockTest, ToJsonReportsSettingsMinuteAndPhase) {
  DemoSettings settings = black_friday(1000, 60);
  settings.clock.duration_minutes = 25;
  const DemoClock clock(settings, [] { return 1016.0; });
  const boost::json::object json = clock.to_json();
  EXPECT_EQ(json.size(), 7u);
  EXPECT_EQ(json.at("mode").as_string(), "blackfriday");
  EXPECT_TRUE(json.at("enabled").as_bool());
  EXPECT_EQ(json.at("start_timestamp").to_number<double>(), 1000);
  EXPECT_EQ(json.at("time_scale").to_number<double>(), 60);
  EXPECT_EQ(json.at("duration_minutes").to_number<double>(), 25);
  EXPECT_EQ(json.at("minute").to_number<double>(), 16);
  EXPECT_EQ(json.at("phase").as_string(), "critical");
}


TEST(DemoClockTest, StartBeginsTheStoryOverAndStopCalmsIt) {
  double now = 5000;
  DemoSettings off;
  DemoClock clock(off, [&] { return now; });
  EXPECT_FALSE(clock.settings().enabled);
  EXPECT_FALSE(clock.effect_at(now, 1).fail);
  clock.start(core::DemoClockSpec{5000, 60, 30});
  EXPECT_TRUE(clock.settings().enabled);
  EXPECT_EQ(clock.settings().mode, "blackfriday");
  now = 5021;
  EXPECT_EQ(clock.rule().phase, DemoPhase::collapse);
  clock.start(core::DemoClockSpec{5021, 60, 30});
  EXPECT_EQ(clock.rule().phase, DemoPhase::calm);
  clock.stop();
  now = 6000;
  EXPECT_DOUBLE_EQ(clock.minute(), 0);
  EXPECT_FALSE(clock.settings().enabled);
  EXPECT_DOUBLE_EQ(clock.effect_at(now, 1).delay_ms, 0);
  EXPECT_THROW(clock.start(core::DemoClockSpec{5000, 0, 30}), std::invalid_argument);
  EXPECT_THROW(clock.start(core::DemoClockSpec{5000, 4000, 30}), std::invalid_argument);
  EXPECT_THROW(clock.start(core::DemoClockSpec{5000, 1, 0}), std::invalid_argument);
  EXPECT_FALSE(clock.settings().enabled);  // a refused start changes nothing
}

// Readers on other threads always see one of the clocks written, never a mix of two.
TEST(DemoClockTest, ReadersSeeConsistentSettingsWhileItRestarts) {
  DemoClock clock(black_friday(1000, 1));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto s = clock.settings();
      // Every write below pairs start 1000*k with scale k.
      if (s.clock.start_unix != 1000 * s.clock.time_scale) torn.fetch_add(1);
    }
  });
  for (int k = 1; k <= 20000; ++k) {
    double scale = k % 50 + 1;
    clock.start(core::DemoClockSpec{1000.0 * scale, scale, 30});
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace trafficsim::demo_service
