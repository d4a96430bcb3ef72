// Monitor files: the built-ins load as the issue names them; every fault in a user's file is
// named FILE:LINE: FIELD.
#include "monitors/monitor_spec.hpp"

#include <gtest/gtest.h>

namespace trafficsim::monitors {
namespace {

using namespace std::chrono_literals;

TEST(MonitorSpec, TheBuiltInsAreTheSeedsMonitorsAndTheBurnRates) {
  const auto& all = builtin_monitors();
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].id, "llm_latency_spike");
  EXPECT_EQ(all[0].signal.kind, SignalKind::quantile);
  EXPECT_DOUBLE_EQ(all[0].signal.q, 0.95);
  EXPECT_DOUBLE_EQ(all[0].threshold, 3000);
  EXPECT_EQ(all[0].window, 1min);
  EXPECT_EQ(all[0].for_duration, 15s);
  EXPECT_EQ(all[1].id, "llm_error_burst");
  EXPECT_DOUBLE_EQ(all[1].threshold, 0.05);
  EXPECT_EQ(all[2].id, "cost_anomaly");
  EXPECT_DOUBLE_EQ(*all[2].baseline_factor, 3);
  EXPECT_EQ(all[2].baseline, 10min);
  EXPECT_EQ(all[2].for_duration, 30s);
  EXPECT_EQ(all[3].id, "recommendations_degraded");
  EXPECT_DOUBLE_EQ(all[3].threshold, 0.70);
  EXPECT_EQ(all[3].for_duration, 2min);
  EXPECT_EQ(all[4].id, "slo_burn_rate_page");
  ASSERT_EQ(all[4].burn.size(), 2u);
  EXPECT_EQ(all[4].burn[0].long_window, 1h);
  EXPECT_EQ(all[4].burn[0].short_window, 5min);
  EXPECT_DOUBLE_EQ(all[4].burn[0].factor, 14.4);
  EXPECT_EQ(all[4].burn[1].long_window, 6h);
  EXPECT_DOUBLE_EQ(all[4].burn[1].factor, 6);
  EXPECT_EQ(all[5].burn[0].long_window, 72h);
  EXPECT_DOUBLE_EQ(*all[5].objective, 0.999);
  EXPECT_EQ(all[5].history(), 72h);
}

TEST(MonitorSpec, TimeScaleDividesEveryWindowForAndBaseline) {
  MonitorSpec cost = builtin_monitors()[2].scaled(60);
  EXPECT_EQ(cost.window, 1s);
  EXPECT_EQ(cost.baseline, 10s);
  EXPECT_EQ(cost.for_duration, 500ms);
  EXPECT_EQ(cost.min_baseline, 500ms);
  MonitorSpec burn = builtin_monitors()[4].scaled(60);
  EXPECT_EQ(burn.burn[0].long_window, 1min);
  EXPECT_EQ(burn.burn[0].short_window, 5s);
}

TEST(MonitorSpec, LabelMatchersGlobAndNegate) {
  LabelMatcher five{"status", "5*", false};
  std::string s500 = "500", s404 = "404";
  EXPECT_TRUE(five.matches(&s500));
  EXPECT_FALSE(five.matches(&s404));
  EXPECT_FALSE(five.matches(nullptr));
  LabelMatcher not_five{"status", "5*", true};
  EXPECT_TRUE(not_five.matches(&s404));
  EXPECT_TRUE(not_five.matches(nullptr));
}

void expect_error(const std::string& text, const std::string& expected) {
  try {
    load_monitors(text, "my.yaml");
    ADD_FAILURE() << "accepted:\n" << text;
  } catch (const MonitorFileError& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(MonitorSpec, FaultsInAFileNameFileLineAndField) {
  expect_error("nope: 1\n", "my.yaml:1: nope");
  expect_error("monitors: []\n", "my.yaml:1: monitors");
  expect_error("monitors:\n  - name: a\n    signal: {ratio: x_total, of: y_total}\n", "monitors[0]: give one threshold");
  expect_error("monitors:\n  - name: a\n    above: 1\n", "monitors[0].signal");
  expect_error("monitors:\n  - name: a\n    signal: {ratio: x_total}\n    above: 1\n", "monitors[0].signal.of");
  expect_error("monitors:\n  - name: a\n    signal: {quantile: 1.5, metric: h}\n    above: 1\n",
               "my.yaml:3: monitors[0].signal.quantile");
  expect_error("monitors:\n  - name: a\n    signal: {mean: \"bad name\"}\n    above: 1\n", "monitors[0].signal.mean");
  expect_error("monitors:\n  - name: a\n    signal: {gauge: g}\n    above: 1\n    window: 5x\n",
               "my.yaml:5: monitors[0].window");
  expect_error("monitors:\n  - name: a\n    signal: {gauge: g}\n    above: 1\n    recover: 2\n",
               "monitors[0].recover: must not be above the threshold");
  expect_error("monitors:\n  - name: a\n    signal: {gauge: g}\n    above: 1\n    colour: red\n",
               "my.yaml:5: monitors[0].colour");
  expect_error("monitors:\n  - name: a\n    signal: {gauge: g}\n    above: 1\n  - name: A\n    signal: {gauge: g}\n    above: 2\n",
               "my.yaml:5: monitors[1].name: a second monitor with id 'a'");
  expect_error("monitors:\n  - name: a\n    signal: {ratio: e_total, of: r_total}\n    objective: 0.999\n    burn:\n      - {long: 5m, short: 1h, factor: 2}\n",
               "monitors[0].burn[0].short: must be shorter than long");
  expect_error("monitors:\n  - name: a\n    signal: {mean: t}\n    above_baseline: 3\n", "monitors[0].baseline");
  expect_error("monitors:\n  - name: a\n    signal: {gauge: g}\n    above: 1\n    no_data: maybe\n", "monitors[0].no_data");
}

TEST(MonitorSpec, AUserFileWithEveryKindLoads) {
  auto list = load_monitors(R"(monitors:
  - name: Slow checkout
    signal: {quantile: 0.99, metric: http_request_duration_seconds, match: {endpoint: /checkout}, scale: 1000, unit: ms}
    above: 800
    window: 30s
    for: 10s
  - name: Few users
    signal: {gauge: users_total}
    below: 10
    no_data: ok
)", "mine.yaml");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "slow_checkout");
  ASSERT_EQ(list[0].signal.metric.match.size(), 1u);
  EXPECT_EQ(list[0].signal.metric.match[0].pattern, "/checkout");
  EXPECT_EQ(list[1].comparison, Comparison::below);
  EXPECT_EQ(list[1].no_data, NoData::ok);
}

}  // namespace
}  // namespace trafficsim::monitors
