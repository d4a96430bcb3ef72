// Demo scripts: seed 000's built-in demo-video (phases, rates, durations, narration, and that each
// phase's scenario loads and builds with the phase's variables), and script errors that name
// file, line and field; scenario files relative to the script.
#include "scenarios/demo_script.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/builtin.hpp"
#include "scenarios/scenario.hpp"
#include "scenario_test_support.hpp"
#include "support/process.hpp"

namespace trafficsim::scenarios {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Line 1 is the first line after R"(.
Source script(const char* text, std::string path = "show.yaml") {
  std::string t = text;
  if (!t.empty() && t.front() == '\n') t.erase(0, 1);
  return Source{std::move(path), t, false};
}

using namespace test_support;

constexpr const char* kTinyScenario =
    "duration: 1s\n"
    "streams:\n"
    "  - name: tiny\n"
    "    rate: ${rate:-1}\n"
    "    requests: [{path: /tiny}]\n";

// ---- demo-video -------------------------------------------------------------------------------

TEST(DemoVideo, FivePhasesOfSeed000) {
  auto src = builtin_source("demo-video");
  ASSERT_TRUE(src);
  EXPECT_TRUE(is_demo_script(*src));
  auto s = load_demo_script(*src);
  EXPECT_EQ(s.name, "demo-video");
  EXPECT_FALSE(s.description.empty());
  ASSERT_EQ(s.phases.size(), 5u);

  struct Want {
    const char* mode;
    const char* rate;
    std::chrono::seconds duration;
  };
  const Want want[] = {{"normal_traffic", "10", 30s},
                       {"latency_injection", "20", 60s},
                       {"latency_injection", "20", 30s},
                       {"token_bloat", "30", 30s},
                       {"normal_traffic", "5", 30s}};
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const auto& p = s.phases[i];
    EXPECT_EQ(p.kind, "mode");
    EXPECT_EQ(p.ref, want[i].mode);
    EXPECT_EQ(p.params.at("rate"), want[i].rate);
    EXPECT_EQ(p.duration, want[i].duration);
    EXPECT_TRUE(p.title.starts_with("Step " + std::to_string(i + 1) + ":")) << p.title;
    EXPECT_FALSE(p.narration.empty());
    EXPECT_NE(p.narration.back(), '\n');  // the folded scalar's newline is trimmed
    EXPECT_NE(p.narration.back(), ' ');
    EXPECT_TRUE(p.source.builtin);
    EXPECT_EQ(p.source.path, std::string("scenarios/") + want[i].mode + ".yaml");
    EXPECT_GT(p.line, 0);
  }
  EXPECT_EQ(s.phases[0].line, 10);
  EXPECT_EQ(s.total(), 180s);
}

TEST(DemoVideo, EveryPhaseLoadsAndBuildsAtItsRate) {
  auto s = load_demo_script(*builtin_source("demo-video"));
  for (const auto& p : s.phases) {
    SCOPED_TRACE(p.title);
    auto sc = load_scenario(p.source, options(p.params));
    BuildOptions b;
    b.url = "http://127.0.0.1:9";
    b.duration = p.duration;
    auto plan = build_plan(sc, b);
    EXPECT_EQ(plan.duration, p.duration);
    ASSERT_EQ(plan.streams.size(), 1u);
    EXPECT_DOUBLE_EQ(plan.streams[0].profile.rate_at(1), std::stod(p.params.at("rate")));
  }
}

TEST(DemoScript, IsDemoScript) {
  EXPECT_TRUE(is_demo_script(script("phases: []\n")));
  EXPECT_FALSE(is_demo_script(*builtin_source("normal_traffic")));
  EXPECT_FALSE(is_demo_script(script("phases: [unclosed\n")));
  EXPECT_FALSE(is_demo_script(script("- phases\n")));
}

TEST(DemoScript, DefaultsAndParams) {
  auto s = load_demo_script(script(R"(
phases:
  - scenario: peak
    max_rps: 15
    duration: 1m
    set: {endpoints: "get,list", hard_cap: 30}
  - mode: token_bloat
    duration: 90s
)",
                                   "dir/my-show.yaml"));
  EXPECT_EQ(s.name, "my-show");
  EXPECT_EQ(s.description, "");
  ASSERT_EQ(s.phases.size(), 2u);
  const auto& p = s.phases[0];
  EXPECT_EQ(p.title, "Phase 1");
  EXPECT_EQ(p.narration, "");
  EXPECT_EQ(p.kind, "scenario");
  EXPECT_EQ(p.ref, "peak");
  EXPECT_EQ(p.source.path, "scenarios/peak.yaml");
  EXPECT_EQ(p.duration, 60s);
  EXPECT_EQ(p.line, 2);
  EXPECT_EQ(p.params, (std::map<std::string, std::string>{
                          {"max_rps", "15"}, {"endpoints", "get,list"}, {"hard_cap", "30"}}));
  EXPECT_EQ(s.phases[1].title, "Phase 2");
  EXPECT_EQ(s.phases[1].line, 6);
  EXPECT_TRUE(s.phases[1].params.empty());
  EXPECT_EQ(s.total(), 150s);

  // The phase's variables reach its scenario.
  auto sc = load_scenario(p.source, options(p.params));
  EXPECT_EQ(sc.streams.at(0).requests.size(), 2u);
  EXPECT_DOUBLE_EQ(sc.streams.at(0).hard_cap->refill_per_s, 30);
  EXPECT_DOUBLE_EQ(sc.streams.at(0).rate.rps, 15);
}

// ---- files ------------------------------------------------------------------------------------

TEST(DemoScript, FilesAreRelativeToTheScript) {
  TempDir dir;
  auto scenario = dir.write("shows/parts/tiny.yaml", kTinyScenario);
  auto path = dir.write("shows/show.yaml",
                        "phases:\n"
                        "  - file: parts/tiny.yaml\n"
                        "    rate: 4\n"
                        "    duration: 2s\n"
                        "  - file: peak.yaml\n"  // not next to the script: the built-in
                        "    duration: 2s\n");
  auto s = load_demo_script(read_source(path.string()));
  ASSERT_EQ(s.phases.size(), 2u);
  EXPECT_EQ(s.phases[0].kind, "file");
  EXPECT_EQ(s.phases[0].ref, "parts/tiny.yaml");
  EXPECT_FALSE(s.phases[0].source.builtin);
  EXPECT_EQ(fs::path(s.phases[0].source.path), scenario);
  EXPECT_EQ(s.phases[0].source.text, kTinyScenario);
  auto sc = load_scenario(s.phases[0].source, options(s.phases[0].params));
  EXPECT_EQ(sc.streams.at(0).name, "tiny");
  EXPECT_DOUBLE_EQ(sc.streams.at(0).rate.rps, 4);

  EXPECT_EQ(s.phases[1].kind, "file");
  EXPECT_TRUE(s.phases[1].source.builtin);
  EXPECT_EQ(s.phases[1].source.path, "scenarios/peak.yaml");

  // A file next to the script wins over the built-in of the same name.
  dir.write("shows/peak.yaml", kTinyScenario);
  s = load_demo_script(read_source(path.string()));
  EXPECT_FALSE(s.phases[1].source.builtin);
  EXPECT_EQ(s.phases[1].source.text, kTinyScenario);
}

TEST(DemoScript, FileErrors) {
  TempDir dir;
  dir.write("nested.yaml", "phases:\n  - mode: normal_traffic\n    duration: 1s\n");
  auto path = dir.write("show.yaml",
                        "phases:\n"
                        "  - file: nested.yaml\n"
                        "    duration: 1s\n");
  std::string m = script_error(read_source(path.string()));
  EXPECT_TRUE(contains(m, "show.yaml:2: phases[0].file")) << m;
  EXPECT_TRUE(contains(m, "demo script")) << m;

  path = dir.write("show2.yaml",
                   "phases:\n"
                   "  - title: t\n"
                   "    file: missing/nothing.yaml\n"
                   "    duration: 1s\n");
  m = script_error(read_source(path.string()));
  EXPECT_TRUE(contains(m, "show2.yaml:3: phases[0].file")) << m;
  EXPECT_TRUE(contains(m, "nothing.yaml")) << m;
}

// ---- errors -----------------------------------------------------------------------------------

struct BadScript {
  const char* what;
  const char* text;
  const char* location;
  const char* detail;
};

TEST(DemoScript, ErrorsNameFileLineAndField) {
  const std::vector<BadScript> cases = {
      {"unknown mode", R"(
phases:
  - mode: normal_traffik
    duration: 30s
)",
       "show.yaml:2: phases[0].mode", "unknown mode 'normal_traffik'"},
      {"unknown scenario", R"(
phases:
  - mode: normal_traffic
    duration: 30s
  - scenario: blackfrid
    duration: 30s
)",
       "show.yaml:4: phases[1].scenario", "unknown scenario 'blackfrid'"},
      {"mode and scenario", R"(
phases:
  - title: both
    mode: normal_traffic
    scenario: peak
    duration: 30s
)",
       "show.yaml:2: phases[0]", "exactly one of mode:, scenario: or file:"},
      {"none of mode, scenario, file", R"(
phases:
  - title: none
    duration: 30s
)",
       "show.yaml:2: phases[0]", "exactly one"},
      {"missing duration", R"(
name: x
phases:
  - mode: normal_traffic
    rate: 10
)",
       "show.yaml:3: phases[0]", "duration"},
      {"bad duration", R"(
phases:
  - mode: normal_traffic
    duration: forever
)",
       "show.yaml:3: phases[0].duration", "positive duration"},
      {"zero duration", R"(
phases:
  - mode: normal_traffic
    duration: 0s
)",
       "show.yaml:3: phases[0].duration", "positive duration"},
      {"unknown phase key", R"(
phases:
  - mode: normal_traffic
    duraton: 30s
)",
       "show.yaml:3: phases[0].duraton", "unknown key"},
      {"unknown top-level key", R"(
name: x
phase:
  - mode: normal_traffic
phases:
  - mode: normal_traffic
    duration: 1s
)",
       "show.yaml:2: phase", "unknown key"},
      {"empty phases", R"(
phases: []
)",
       "show.yaml:1: phases", "non-empty"},
      {"phase not a mapping", R"(
phases:
  - normal_traffic
)",
       "show.yaml:2: phases[0]", "mapping"},
      {"set not a mapping", R"(
phases:
  - mode: normal_traffic
    duration: 1s
    set: [a, b]
)",
       "show.yaml:4: phases[0].set", "mapping"},
      {"narration not a scalar", R"(
phases:
  - mode: normal_traffic
    narration: [a]
    duration: 1s
)",
       "show.yaml:3: phases[0].narration", "single value"},
      {"not a script", R"(
duration: 1s
streams: []
)",
       "show.yaml: not a demo script", "trafficsim run"},
      {"yaml syntax", R"(
phases:
  - mode: [normal_traffic
)",
       "show.yaml:", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string m = script_error(script(c.text));
    ASSERT_FALSE(m.empty()) << "loaded without an error";
    EXPECT_TRUE(m.starts_with(c.location)) << m;
    EXPECT_TRUE(contains(m, c.detail)) << m;
  }
}

}  // namespace
}  // namespace trafficsim::scenarios
