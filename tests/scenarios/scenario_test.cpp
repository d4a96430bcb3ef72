// Scenario files: every built-in loads and builds with its documented facts (streams, rates,
// mixes, templates that render to what the target expects), variables, error messages that name
// file, line and field, and the Black Friday demo clock (variables and sample sets: variables_test.cpp,
// samples_test.cpp).
#include "scenarios/scenario.hpp"
#include "support/process.hpp"
#include "scenario_test_support.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/random.hpp"
#include "scenarios/builtin.hpp"

namespace trafficsim::scenarios {
namespace {

using namespace test_support;

// ---- the built-ins ------------------------------------------------------------------------

TEST(Builtins, ListHasModesScenariosAndTheDemoScript) {
  auto list = builtin_list();
  std::vector<std::string> modes, scenarios, scripts;
  for (const auto& b : list) {
    EXPECT_FALSE(b.description.empty()) << b.name;
    if (b.kind == BuiltinKind::mode) modes.push_back(b.name);
    if (b.kind == BuiltinKind::scenario) scenarios.push_back(b.name);
    if (b.kind == BuiltinKind::script) scripts.push_back(b.name);
  }
  EXPECT_EQ(modes, (std::vector<std::string>{"normal_traffic", "latency_injection",
                                             "error_injection", "token_bloat"}));
  EXPECT_EQ(scenarios, (std::vector<std::string>{"normal", "peak", "error", "latency", "stress",
                                                 "blackfriday"}));
  EXPECT_EQ(scripts, (std::vector<std::string>{"demo-video"}));
  EXPECT_EQ(modes, mode_names());
  EXPECT_EQ(scenarios, scenario_names());
}

TEST(Builtins, SourcesAreFoundByNameWithOrWithoutExtension) {
  auto a = builtin_source("peak");
  auto b = builtin_source("peak.yaml");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->path, "scenarios/peak.yaml");
  EXPECT_TRUE(a->builtin);
  EXPECT_EQ(a->text, b->text);
  EXPECT_FALSE(builtin_source("nope"));
  EXPECT_FALSE(builtin_source("samples/job-emails"));  // not a scenario name
  EXPECT_TRUE(embedded_file("samples/job-emails.yaml"));
  auto r = resolve_source("normal_traffic");
  EXPECT_TRUE(r.builtin);
  EXPECT_EQ(r.path, "scenarios/normal_traffic.yaml");
  try {
    resolve_source("/no/such/file-or-builtin.yaml");
    ADD_FAILURE() << "no error";
  } catch (const ScenarioError& e) {
    EXPECT_TRUE(contains(e.what(), "/no/such/file-or-builtin.yaml")) << e.what();
    EXPECT_TRUE(contains(e.what(), "blackfriday")) << e.what();  // lists the built-ins
  }
}

TEST(Builtins, EveryModeAndScenarioLoadsAndBuildsWithDefaults) {
  for (const auto& b : builtin_list()) {
    if (b.kind == BuiltinKind::script) continue;
    SCOPED_TRACE(b.name);
    Scenario sc;
    ASSERT_NO_THROW(sc = load_builtin(b.name));
    EXPECT_EQ(sc.name, b.name);
    EXPECT_EQ(sc.description, b.description);
    EXPECT_FALSE(sc.streams.empty());
    std::optional<DemoClockSpec> clock;
    if (sc.demo_clock) clock = clock_at(kNow);
    EXPECT_EQ(sc.demo_clock, b.name == "blackfriday");
    load::Plan plan;
    ASSERT_NO_THROW(plan = build_plan(sc, build_options(clock)));
    EXPECT_EQ(plan.seed, 1u);
    EXPECT_GT(plan.duration.count(), 0);
    ASSERT_EQ(plan.streams.size(), sc.streams.size());
    for (const auto& s : plan.streams) {
      EXPECT_EQ(s.url.origin(), kUrl);
      EXPECT_FALSE(s.requests.empty());
      EXPECT_GT(s.profile.total_arrivals(), 0) << s.name;
      EXPECT_NEAR(s.profile.duration_s(), std::chrono::duration<double>(plan.duration).count(),
                  1e-9);
      // Enough connections for everything that can be in flight.
      double timeout_s = std::chrono::duration<double>(s.timeout).count();
      double peak = s.profile.peak_rate();
      EXPECT_GE(s.connections, static_cast<int>(peak * timeout_s)) << s.name;
      for (const auto& t : s.requests) {
        EXPECT_FALSE(t.name.empty());
        std::string target = render_target(t, s.name, 3);
        EXPECT_EQ(target.front(), '/') << target;
        EXPECT_EQ(target.find("{{"), std::string::npos) << target;
        EXPECT_EQ(render_body(t, s.name, 3).find("{{"), std::string::npos);
      }
    }
  }
}

TEST(Builtins, ADemoClockScenarioNeedsAClock) {
  auto sc = load_builtin("blackfriday");
  try {
    build_plan(sc, build_options());
    ADD_FAILURE() << "no error";
  } catch (const ScenarioError& e) {
    EXPECT_TRUE(contains(e.what(), "scenarios/blackfriday.yaml")) << e.what();
    EXPECT_TRUE(contains(e.what(), "demo clock")) << e.what();
  }
}

TEST(Builtins, ABadUrlIsAnErrorNamingTheStream) {
  auto sc = load_builtin("normal");
  auto b = build_options();
  b.url = "not a url";
  try {
    build_plan(sc, b);
    ADD_FAILURE() << "no error";
  } catch (const ScenarioError& e) {
    EXPECT_TRUE(contains(e.what(), "'normal'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "not a url")) << e.what();
  }
}

// ---- seed 000's modes -----------------------------------------------------------------------

TEST(NormalTraffic, OneTaggedStreamAtTenPerSecondForFiveMinutes) {
  auto sc = load_builtin("normal_traffic");
  ASSERT_EQ(sc.streams.size(), 1u);
  EXPECT_EQ(sc.streams[0].name, "HACKATHON_TRAFFIC_NORMAL_TRAFFIC");
  EXPECT_EQ(sc.streams[0].rate.kind, RateSpec::Kind::constant);
  EXPECT_DOUBLE_EQ(sc.streams[0].rate.rps, 10);
  ASSERT_TRUE(sc.duration);
  EXPECT_EQ(*sc.duration, 300s);
  EXPECT_TRUE(sc.used_params.count("rate"));

  auto plan = build_plan(sc, build_options());
  EXPECT_EQ(plan.duration, 300s);
  ASSERT_EQ(plan.streams.size(), 1u);
  const auto& s = plan.streams[0];
  EXPECT_EQ(s.name, "HACKATHON_TRAFFIC_NORMAL_TRAFFIC");
  EXPECT_DOUBLE_EQ(s.profile.rate_at(0), 10);
  EXPECT_DOUBLE_EQ(s.profile.rate_at(299), 10);
  EXPECT_NEAR(s.profile.total_arrivals(), 3000, 1e-6);
  EXPECT_EQ(s.timeout, 30s);
  EXPECT_FALSE(s.hard_cap);
  ASSERT_FALSE(s.requests.empty());
  for (const auto& t : s.requests) {
    EXPECT_EQ(t.method, "POST");
    EXPECT_EQ(render_target(t, s.name, 0), "/hackathon/classify");
    EXPECT_EQ(count_headers(t, "X-Traffic-Type"), 1);
    EXPECT_EQ(render_header(t, "X-Traffic-Type", s.name, 0), "HACKATHON_TRAFFIC_NORMAL_TRAFFIC");
    EXPECT_EQ(render_header(t, "Content-Type", s.name, 0), "application/json");
    EXPECT_FALSE(t.injected);
  }
}

TEST(NormalTraffic, BodiesAreValidClassifyRequestsDrawnFromManyEmails) {
  auto plan = build_plan(load_builtin("normal_traffic"), build_options());
  const auto& s = plan.streams[0];
  ASSERT_EQ(s.requests.size(), 1u);
  std::set<std::string> subjects;
  for (uint64_t k = 0; k < 200; ++k) {
    std::string body = render_body(s.requests[0], s.name, k);
    ASSERT_EQ(classify_rejection(body), "") << body;
    auto o = json::parse(body).as_object();
    EXPECT_FALSE(o.at("subject").as_string().empty());
    EXPECT_TRUE(contains(std::string(o.at("sender").as_string()), "@"));
    subjects.insert(std::string(o.at("subject").as_string()));
  }
  EXPECT_GE(subjects.size(), 30u);
  // Deterministic per (seed, stream, k).
  EXPECT_EQ(render_body(s.requests[0], s.name, 7), render_body(s.requests[0], s.name, 7));
}

TEST(NormalTraffic, TokenCountersReadTwoXxBodies) {
  auto plan = build_plan(load_builtin("normal_traffic"), build_options());
  const auto& s = plan.streams[0];
  EXPECT_TRUE(s.keep_bodies);
  EXPECT_EQ(s.counter_names, (std::vector<std::string>{"input_tokens", "output_tokens"}));
  ASSERT_TRUE(s.extractor);
  std::vector<int64_t> c(2, 0);
  s.extractor(s.requests[0], 200, R"({"category":"offer","tokens":{"input":120,"output":8}})", c);
  s.extractor(s.requests[0], 500, R"({"tokens":{"input":1000,"output":1000}})", c);
  EXPECT_EQ(c, (std::vector<int64_t>{120, 8}));
}

TEST(NormalTraffic, RateParamChangesTheRate) {
  auto plan = build_plan(load_builtin("normal_traffic", options({{"rate", "25"}})),
                         build_options());
  EXPECT_DOUBLE_EQ(plan.streams[0].profile.rate_at(10), 25);
  auto b = build_options();
  b.duration = 10s;
  plan = build_plan(load_builtin("normal_traffic"), b);
  EXPECT_EQ(plan.duration, 10s);
  EXPECT_NEAR(plan.streams[0].profile.total_arrivals(), 100, 1e-6);
}

TEST(LatencyInjection, SeventyThirtyWithDelayHeader2000To5000) {
  auto plan = build_plan(load_builtin("latency_injection"), build_options());
  ASSERT_EQ(plan.streams.size(), 1u);
  const auto& s = plan.streams[0];
  EXPECT_EQ(s.name, "HACKATHON_TRAFFIC_LATENCY_INJECTION");
  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_TRUE(s.groups.empty());
  EXPECT_DOUBLE_EQ(s.requests[0].weight, 70);
  EXPECT_DOUBLE_EQ(s.requests[1].weight, 30);
  EXPECT_FALSE(render_header(s.requests[0], "X-Fault-Delay-Ms", s.name, 0));
  long lo = 1 << 30, hi = 0;
  for (uint64_t k = 0; k < 2000; ++k) {
    auto v = render_header(s.requests[1], "X-Fault-Delay-Ms", s.name, k);
    ASSERT_TRUE(v);
    ASSERT_FALSE(v->empty());
    ASSERT_EQ(v->find_first_not_of("0123456789"), std::string::npos) << *v;
    long ms = std::stol(*v);
    ASSERT_GE(ms, 2000);
    ASSERT_LE(ms, 5000);
    lo = std::min(lo, ms);
    hi = std::max(hi, ms);
  }
  EXPECT_LT(lo, 2100);  // the whole range is used
  EXPECT_GT(hi, 4900);
  for (const auto& t : s.requests) {
    EXPECT_EQ(render_header(t, "X-Traffic-Type", s.name, 1), s.name);
    EXPECT_EQ(classify_rejection(render_body(t, s.name, 1)), "");
  }
}

TEST(ErrorInjection, HalfTheWeightIsMalformedAndExpects400) {
  auto plan = build_plan(load_builtin("error_injection"), build_options());
  ASSERT_EQ(plan.streams.size(), 1u);
  const auto& s = plan.streams[0];
  EXPECT_EQ(s.name, "HACKATHON_TRAFFIC_ERROR_INJECTION");
  double total = 0, injected = 0;
  int injected_templates = 0;
  for (const auto& t : s.requests) {
    total += t.weight;
    EXPECT_EQ(render_header(t, "X-Traffic-Type", s.name, 0), s.name);
    if (!t.injected) {
      EXPECT_TRUE(t.expected_statuses.empty());
      for (uint64_t k = 0; k < 50; ++k)
        EXPECT_EQ(classify_rejection(render_body(t, s.name, k)), "") << t.name;
      continue;
    }
    ++injected_templates;
    injected += t.weight;
    EXPECT_EQ(t.expected_statuses, std::vector<int>{400}) << t.name;
    EXPECT_TRUE(t.success_statuses.empty()) << t.name;
    EXPECT_TRUE(t.expects(400));
    EXPECT_FALSE(t.expects(200));
    for (uint64_t k = 0; k < 50; ++k) {
      std::string body = render_body(t, s.name, k);
      EXPECT_NE(classify_rejection(body), "") << t.name << ": " << body;
    }
  }
  EXPECT_GE(injected_templates, 5);
  EXPECT_DOUBLE_EQ(injected / total, 0.5);
}

TEST(TokenBloat, BodiesAreOverTwentyThousandCharactersAndFiveThousandTokens) {
  auto plan = build_plan(load_builtin("token_bloat"), build_options());
  ASSERT_EQ(plan.streams.size(), 1u);
  const auto& s = plan.streams[0];
  EXPECT_EQ(s.name, "HACKATHON_TRAFFIC_TOKEN_BLOAT");
  ASSERT_EQ(s.requests.size(), 1u);
  for (uint64_t k = 0; k < 5; ++k) {
    std::string body = render_body(s.requests[0], s.name, k);
    ASSERT_EQ(classify_rejection(body), "");
    auto o = json::parse(body).as_object();
    size_t b = o.at("body").as_string().size();
    size_t all = b + o.at("subject").as_string().size() + o.at("sender").as_string().size();
    EXPECT_GE(b, 20000u);
    EXPECT_GE(all / 4, 5000u);
  }
  EXPECT_EQ(render_header(s.requests[0], "X-Traffic-Type", s.name, 0), s.name);
}

// ---- seed 001's scenarios -------------------------------------------------------------------

TEST(Seed001, HardCapIsTwentyAndHigherRatesAreClampedWithANote) {
  for (const char* name : {"normal", "peak", "error", "latency", "stress"}) {
    SCOPED_TRACE(name);
    auto sc = load_builtin(name);
    ASSERT_EQ(sc.streams.size(), 1u);
    ASSERT_TRUE(sc.streams[0].hard_cap);
    EXPECT_DOUBLE_EQ(sc.streams[0].hard_cap->capacity, 20);
    EXPECT_DOUBLE_EQ(sc.streams[0].hard_cap->refill_per_s, 20);
    EXPECT_EQ(*sc.duration, 120s);
    EXPECT_TRUE(sc.used_params.count("max_rps"));

    auto plan = build_plan(sc, build_options());
    EXPECT_DOUBLE_EQ(plan.streams[0].profile.peak_rate(), 20);
    EXPECT_TRUE(plan.notes.empty());

    auto fast = load_builtin(name, options({{"max_rps", "50"}}));
    plan = build_plan(fast, build_options());
    EXPECT_DOUBLE_EQ(plan.streams[0].profile.peak_rate(), 20);
    ASSERT_EQ(plan.notes.size(), 1u);
    EXPECT_TRUE(contains(plan.notes[0], "clamped")) << plan.notes[0];
    EXPECT_TRUE(contains(plan.notes[0], std::string("'") + name + "'")) << plan.notes[0];

    // --hard-cap lifts it.
    auto b = build_options();
    b.hard_cap = 100;
    plan = build_plan(fast, b);
    EXPECT_DOUBLE_EQ(plan.streams[0].profile.peak_rate(), 50);
    EXPECT_TRUE(plan.notes.empty());
  }
}

TEST(Seed001, NormalAndStressAreConstantRotations) {
  for (const char* name : {"normal", "stress"}) {
    SCOPED_TRACE(name);
    auto plan = build_plan(load_builtin(name, options({{"max_rps", "10"}})), build_options());
    const auto& s = plan.streams[0];
    EXPECT_DOUBLE_EQ(s.profile.rate_at(0), 10);
    EXPECT_DOUBLE_EQ(s.profile.rate_at(119), 10);
    EXPECT_EQ(s.requests.size(), 4u);
    ASSERT_EQ(s.groups.size(), 1u);
    EXPECT_TRUE(s.groups[0].rotate);
    EXPECT_FALSE(s.gap_jitter_s);
  }
}

TEST(Seed001, PeakRampsUpHoldsAndRampsDown) {
  auto plan = build_plan(load_builtin("peak"), build_options());
  const auto& p = plan.streams[0].profile;
  EXPECT_DOUBLE_EQ(p.duration_s(), 120);
  EXPECT_DOUBLE_EQ(p.rate_at(0), 0);
  EXPECT_NEAR(p.rate_at(15), 10, 1e-9);
  EXPECT_NEAR(p.rate_at(30), 20, 1e-9);
  EXPECT_NEAR(p.rate_at(60), 20, 1e-9);
  EXPECT_NEAR(p.rate_at(89.9), 20, 1e-9);
  EXPECT_NEAR(p.rate_at(105), 10, 1e-9);
  EXPECT_NEAR(p.rate_at(119.99), 0, 0.01);
  EXPECT_DOUBLE_EQ(p.knots().back().rate_rps, 0);
  EXPECT_DOUBLE_EQ(p.peak_rate(), 20);
}

TEST(Seed001, LatencyAddsAPauseOf100To500ms) {
  auto plan = build_plan(load_builtin("latency"), build_options());
  const auto& s = plan.streams[0];
  ASSERT_TRUE(s.gap_jitter_s);
  EXPECT_DOUBLE_EQ(s.gap_jitter_s->first, 0.1);
  EXPECT_DOUBLE_EQ(s.gap_jitter_s->second, 0.5);
  EXPECT_EQ(s.timeout, 10s);
}

TEST(Seed001, ErrorHasUsersAndErrorGroupsWeighted70To30) {
  auto plan = build_plan(load_builtin("error"), build_options());
  const auto& s = plan.streams[0];
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_DOUBLE_EQ(s.groups[0].weight, 70);
  EXPECT_TRUE(s.groups[0].rotate);
  EXPECT_DOUBLE_EQ(s.groups[1].weight, 30);
  ASSERT_EQ(s.requests.size(), 5u);
  int users = 0;
  for (const auto& t : s.requests) {
    if (t.group == 0) {
      ++users;
      EXPECT_FALSE(t.injected) << t.name;
      EXPECT_TRUE(t.expects(200));
      EXPECT_FALSE(t.expects(500));
    } else {
      EXPECT_EQ(t.group, 1u);
      EXPECT_EQ(t.name, "GET /api/v1/users/error");
      EXPECT_TRUE(t.injected);
      EXPECT_EQ(t.expected_statuses, (std::vector<int>{500, 502, 503, 504}));
      EXPECT_EQ(t.success_statuses, std::vector<int>{200});
      EXPECT_EQ(render_target(t, s.name, 0), "/api/v1/users/error?errorRate=0.5");
    }
  }
  EXPECT_EQ(users, 4);
  auto half = build_plan(load_builtin("error", options({{"error_rate", "0.9"}})), build_options());
  EXPECT_EQ(render_target(half.streams[0].requests.back(), s.name, 0),
            "/api/v1/users/error?errorRate=0.9");
}

TEST(Seed001, EndpointsFilterKeepsTheNamedUsersRequests) {
  for (const char* name : {"normal", "peak", "latency", "stress"}) {
    SCOPED_TRACE(name);
    auto sc = load_builtin(name, options({{"endpoints", "get,update"}}));
    const auto& r = sc.streams[0].requests;
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].name, "GET /api/v1/users/{id}");
    EXPECT_EQ(r[1].name, "PATCH /api/v1/users/{id}");
    EXPECT_EQ(r[1].method, "PATCH");
  }
  auto sc = load_builtin("error", options({{"endpoints", "get, update"}}));
  const auto& s = sc.streams[0];
  ASSERT_EQ(s.requests.size(), 3u);
  EXPECT_EQ(s.requests[0].name, "GET /api/v1/users/{id}");
  EXPECT_EQ(s.requests[1].name, "PATCH /api/v1/users/{id}");
  EXPECT_EQ(s.requests[2].name, "GET /api/v1/users/error");
  EXPECT_TRUE(s.requests[2].injected);
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.requests[0].group, 0u);
  EXPECT_EQ(s.requests[2].group, 1u);
  EXPECT_DOUBLE_EQ(s.groups[1].weight, 30);

  // "all" and an empty list keep everything.
  EXPECT_EQ(load_builtin("normal", options({{"endpoints", "all"}})).streams[0].requests.size(), 4u);
  EXPECT_EQ(load_builtin("normal", options({{"endpoints", "list"}})).streams[0].requests.size(),
            1u);
}

TEST(Seed001, AnUnknownEndpointIsAnErrorNamingIt) {
  try {
    load_builtin("normal", options({{"endpoints", "get,delete"}}));
    ADD_FAILURE() << "no error";
  } catch (const ScenarioError& e) {
    std::string m = e.what();
    EXPECT_TRUE(contains(m, "scenarios/normal.yaml:14:")) << m;
    EXPECT_TRUE(contains(m, "streams[0](normal).endpoints")) << m;
    EXPECT_TRUE(contains(m, "'delete'")) << m;
    EXPECT_TRUE(contains(m, "update")) << m;  // lists the known ones
  }
}

// ---- seed 002's Black Friday ------------------------------------------------------------------

TEST(BlackFriday, BaselineAndDemoStreams) {
  auto sc = load_builtin("blackfriday");
  EXPECT_TRUE(sc.demo_clock);
  EXPECT_FALSE(sc.duration);
  ASSERT_EQ(sc.streams.size(), 2u);
  const auto& base = sc.streams[0];
  EXPECT_EQ(base.name, "baseline");
  EXPECT_EQ(base.rate.kind, RateSpec::Kind::constant);
  EXPECT_NEAR(base.rate.rps, 100.0 / 60, 1e-9);
  EXPECT_EQ(base.timeout, 2s);
  ASSERT_EQ(base.requests.size(), 1u);
  EXPECT_EQ(base.requests[0].target, "/products?category=electronics");
  EXPECT_EQ(base.requests[0].expected_statuses, range(200, 499));
  EXPECT_TRUE(base.requests[0].expects(404));  // a 4xx is an answer, not an error
  EXPECT_TRUE(base.requests[0].expects(200));
  EXPECT_FALSE(base.requests[0].expects(500));
  EXPECT_FALSE(base.requests[0].expects(199));
  ASSERT_EQ(base.thresholds.size(), 1u);
  EXPECT_EQ(base.thresholds[0].metric, Threshold::Metric::error_rate);

  const auto& demo = sc.streams[1];
  EXPECT_EQ(demo.name, "demo");
  EXPECT_EQ(demo.timeout, 6s);
  EXPECT_EQ(demo.rate.kind, RateSpec::Kind::demo_minutes);
  ASSERT_EQ(demo.requests.size(), 1u);
  EXPECT_EQ(demo.requests[0].expected_statuses, range(200, 499));
  for (uint64_t k = 0; k < 20; ++k) {
    std::string target = render_target(demo.requests[0], "demo", k);
    ASSERT_TRUE(target.starts_with("/products/recommendations?category=electronics&user_id=user-"))
        << target;
    int id = std::stoi(target.substr(target.rfind('-') + 1));
    EXPECT_GE(id, 1000);
    EXPECT_LE(id, 9999);
  }
  auto expected = blackfriday_rpm_table(800, 4200);
  ASSERT_EQ(demo.rate.points.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_DOUBLE_EQ(demo.rate.points[i].first, expected[i].first);
    EXPECT_NEAR(demo.rate.points[i].second, expected[i].second / 60, 1e-9);
  }
}

TEST(BlackFriday, CheckoutStreamOnlyWhenAskedFor) {
  for (const auto& o : {options({{"checkout", "true"}}), options({}, {{"CHECKOUT_ENABLED", "1"}})}) {
    auto sc = load_builtin("blackfriday", o);
    ASSERT_EQ(sc.streams.size(), 3u);
    const auto& c = sc.streams[2];
    EXPECT_EQ(c.name, "checkout");
    EXPECT_NEAR(c.rate.rps, 1.0, 1e-9);  // 60 rpm
    EXPECT_EQ(c.timeout, 8s);
    ASSERT_EQ(c.requests.size(), 1u);
    EXPECT_EQ(c.requests[0].method, "POST");
    auto body = render_body(c.requests[0], "checkout", 0);
    auto v = json::parse(body).as_object();
    EXPECT_TRUE(std::string(v.at("user_id").as_string()).starts_with("user-")) << body;
  }
  EXPECT_EQ(load_builtin("blackfriday", options({{"checkout", "false"}})).streams.size(), 2u);
  // The param wins over the environment.
  EXPECT_EQ(load_builtin("blackfriday", options({{"checkout", "false"}},
                                                {{"CHECKOUT_ENABLED", "true"}}))
                .streams.size(),
            2u);
  EXPECT_EQ(load_builtin("blackfriday", options({}, {{"BASELINE_ENABLED", "false"}}))
                .streams.size(),
            1u);
}

TEST(BlackFriday, SeedTableAndItsScaling) {
  auto seed = blackfriday_rpm_table(800, 4200);
  std::vector<std::pair<double, double>> want = {
      {0, 0}, {1, 800}, {5, 2100}, {10, 3400}, {15, 4200}};
  ASSERT_EQ(seed.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_DOUBLE_EQ(seed[i].first, want[i].first);
    EXPECT_NEAR(seed[i].second, want[i].second, 1e-9);
  }
  auto t = blackfriday_rpm_table(1000, 5000);
  EXPECT_NEAR(t[1].second, 1000, 1e-9);
  EXPECT_NEAR(t[2].second, 1000 + 4000 * (1300.0 / 3400), 1e-9);
  EXPECT_NEAR(t[3].second, 1000 + 4000 * (2600.0 / 3400), 1e-9);
  EXPECT_NEAR(t[4].second, 5000, 1e-9);
  EXPECT_DOUBLE_EQ(t[0].second, 0);
}

TEST(BlackFriday, EnvironmentChangesTheDemoTable) {
  auto sc = load_builtin("blackfriday",
                         options({}, {{"DEMO_BASE_RPM", "1000"}, {"DEMO_PEAK_RPM", "5000"}}));
  auto want = blackfriday_rpm_table(1000, 5000);
  const auto& pts = sc.streams[1].rate.points;
  ASSERT_EQ(pts.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(pts[i].second * 60, want[i].second, 1e-6) << i;
  EXPECT_TRUE(sc.used_params.count("DEMO_BASE_RPM"));
  auto plan = build_plan(sc, build_options(clock_at(kNow)));
  EXPECT_NEAR(plan.streams[1].profile.rate_at(15), 5000.0 / 60, 1e-9);

  // BASELINE_RPM moves the baseline.
  auto b = load_builtin("blackfriday", options({}, {{"BASELINE_RPM", "600"}}));
  EXPECT_NEAR(b.streams[0].rate.rps, 10, 1e-9);

  // A peak below the base is an error naming the field.
  std::string m = load_error(*builtin_source("blackfriday"),
                             options({}, {{"DEMO_BASE_RPM", "900"}, {"DEMO_PEAK_RPM", "500"}}));
  EXPECT_TRUE(contains(m, "scenarios/blackfriday.yaml:28:")) << m;
  EXPECT_TRUE(contains(m, "streams[1](demo).rate.blackfriday")) << m;
}

TEST(BlackFriday, DemoProfileFromTheStartOfTheClock) {
  auto sc = load_builtin("blackfriday");
  auto plan = build_plan(sc, build_options(clock_at(kNow, 60)));
  // The whole 30-minute story at one demo minute per second.
  EXPECT_EQ(plan.duration, 30s);
  const auto& base = plan.streams[0].profile;
  EXPECT_NEAR(base.rate_at(0), 100.0 / 60, 1e-9);
  EXPECT_NEAR(base.rate_at(29), 100.0 / 60, 1e-9);
  const auto& demo = plan.streams[1].profile;
  EXPECT_EQ(plan.streams[1].timeout, 6s);
  EXPECT_DOUBLE_EQ(demo.duration_s(), 30);
  EXPECT_NEAR(demo.rate_at(0), 0, 1e-9);
  EXPECT_NEAR(demo.rate_at(0.5), 400.0 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(1), 800.0 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(5), 2100.0 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(10), 3400.0 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(15), 4200.0 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(29.9), 4200.0 / 60, 1e-9);
  EXPECT_NEAR(demo.peak_rate(), 70, 1e-9);
}

TEST(BlackFriday, ALateStartBeginsMidStory) {
  auto sc = load_builtin("blackfriday");
  // The clock started 14 demo minutes ago (14 s at scale 60).
  auto clock = clock_at(kNow - 14, 60);
  EXPECT_NEAR(demo_minute(clock, kNow), 14, 1e-9);
  auto plan = build_plan(sc, build_options(clock));
  EXPECT_EQ(plan.duration, 16s);  // (30 - 14) demo minutes
  const auto& demo = plan.streams[1].profile;
  double at14 = 3400 + (4200 - 3400) * 4.0 / 5;  // rpm
  EXPECT_NEAR(demo.rate_at(0), at14 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(0.5), (at14 + 4200) / 2 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(1), 70, 1e-9);
  EXPECT_NEAR(demo.rate_at(15.9), 70, 1e-9);
}

TEST(BlackFriday, DefaultDurationIsWhatIsLeftOfTheStory) {
  auto sc = load_builtin("blackfriday");
  auto d = [&](DemoClockSpec c) { return build_plan(sc, build_options(c)).duration; };
  EXPECT_EQ(d(clock_at(kNow, 60)), 30s);
  EXPECT_EQ(d(clock_at(kNow, 1)), 1800s);
  EXPECT_EQ(d(clock_at(kNow - 600, 1)), 1200s);  // minute 10 at real time
  EXPECT_EQ(d(clock_at(kNow - 20, 60)), 10s);
  EXPECT_EQ(d(clock_at(kNow - 45, 60)), 1s);  // past the end: still one demo minute
  DemoClockSpec c = clock_at(kNow, 60);
  c.duration_minutes = 20;
  EXPECT_EQ(d(c), 20s);
  // A start in the future waits for it.
  EXPECT_EQ(d(clock_at(kNow + 5, 60)), 35s);
  // --duration overrides.
  auto b = build_options(clock_at(kNow, 60));
  b.duration = 7s;
  EXPECT_EQ(build_plan(sc, b).duration, 7s);
  EXPECT_DOUBLE_EQ(build_plan(sc, b).streams[1].profile.duration_s(), 7);
}

TEST(BlackFriday, AFutureStartHoldsMinuteZero) {
  auto sc = load_builtin("blackfriday");
  auto plan = build_plan(sc, build_options(clock_at(kNow + 5, 60)));
  const auto& demo = plan.streams[1].profile;
  EXPECT_NEAR(demo.rate_at(0), 0, 1e-9);
  EXPECT_NEAR(demo.rate_at(4.9), 0, 1e-9);
  EXPECT_NEAR(demo.rate_at(6), 800.0 / 60, 1e-9);
  EXPECT_NEAR(demo.rate_at(20), 4200.0 / 60, 1e-9);
}

TEST(DemoClock, MinuteAndProfile) {
  DemoClockSpec c = clock_at(1000, 60);
  EXPECT_DOUBLE_EQ(demo_minute(c, 1000), 0);
  EXPECT_DOUBLE_EQ(demo_minute(c, 1030), 30);
  EXPECT_DOUBLE_EQ(demo_minute(c, 900), 0);  // before the start
  c.time_scale = 1;
  EXPECT_DOUBLE_EQ(demo_minute(c, 1120), 2);

  std::vector<std::pair<double, double>> pts = {{0, 10}, {2, 30}};
  auto p = demo_minutes_profile(pts, clock_at(1000, 1), 1060, 300);  // minute 1
  EXPECT_NEAR(p.rate_at(0), 20, 1e-9);
  EXPECT_NEAR(p.rate_at(30), 25, 1e-9);
  EXPECT_NEAR(p.rate_at(60), 30, 1e-9);
  EXPECT_NEAR(p.rate_at(200), 30, 1e-9);
  // Cut short: the end is interpolated.
  auto q = demo_minutes_profile(pts, clock_at(1000, 1), 1000, 60);
  EXPECT_DOUBLE_EQ(q.duration_s(), 60);
  EXPECT_NEAR(q.knots().back().rate_rps, 20, 1e-9);
  EXPECT_NEAR(q.rate_at(30), 15, 1e-9);
}

// ---- error messages: file, line, field --------------------------------------------------------

struct BadFile {
  const char* what;
  const char* text;
  const char* location;  // "my.yaml:LINE: FIELD"
  const char* detail;    // more text the message must hold
};

TEST(Errors, NameFileLineAndField) {
  const std::vector<BadFile> cases = {
      {"unknown top-level key", R"(
name: t
duration: 1s
strams: []
)",
       "my.yaml:3: strams", "unknown key"},
      {"unknown stream key", R"(
duration: 1s
streams:
  - name: s
    rat: 10
    requests:
      - path: /
)",
       "my.yaml:4: streams[0].rat", "unknown key"},
      {"bad rate", R"(
duration: 1s
streams:
  - name: s
    rate: fast
    requests:
      - path: /
)",
       "my.yaml:4: streams[0](s).rate", "'fast'"},
      {"zero peak", R"(
duration: 1s
streams:
  - name: s
    rate: {peak: 0}
    requests:
      - path: /
)",
       "my.yaml:4: streams[0](s).rate.peak", "'0'"},
      {"bad duration", R"(
duration: soon
streams:
  - name: s
    rate: 1
    requests:
      - path: /
)",
       "my.yaml:1: duration", "'soon'"},
      {"zero duration", R"(
duration: 0s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
)",
       "my.yaml:1: duration", "positive"},
      {"bad timeout", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    timeout: -3s
    requests:
      - path: /
)",
       "my.yaml:5: streams[0](s).timeout", "'-3s'"},
      {"bad expect on a request", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
        expect: 6xx
)",
       "my.yaml:7: streams[0](s).requests[0].expect", "'6xx'"},
      {"bad expect on a stream", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    expect: 200-700
    requests:
      - path: /
)",
       "my.yaml:5: streams[0](s).expect", "'200-700'"},
      {"success also expected as failure", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
        expect_failure: 5xx
        expect: 200,503
)",
       "my.yaml:8: streams[0](s).requests[0].expect", "503"},
      {"duplicate stream names", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
  - name: s
    rate: 2
    requests:
      - path: /
)",
       "my.yaml:7: streams[1]", "duplicate stream name 's'"},
      {"stream without requests", R"(
duration: 1s
streams:
  - name: s
    rate: 1
)",
       "my.yaml:3: streams[0](s)", "requests"},
      {"stream with an empty request list", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests: []
)",
       "my.yaml:3: streams[0](s)", "requests"},
      {"stream without a name", R"(
duration: 1s
streams:
  - rate: 1
    requests:
      - path: /
)",
       "my.yaml:3: streams[0]", "name"},
      {"stream without a rate", R"(
duration: 1s
streams:
  - name: s
    requests:
      - path: /
)",
       "my.yaml:3: streams[0](s)", "rate"},
      {"no streams", R"(
duration: 1s
name: x
)",
       "my.yaml:1: streams", "non-empty list"},
      {"path without a leading slash", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: api/users
)",
       "my.yaml:6: streams[0](s).requests[0].path", "must start with '/'"},
      {"request without a path", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - name: x
)",
       "my.yaml:6: streams[0](s).requests[0]", "path"},
      {"bad template placeholder", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
        body: '{"id": "{{uuidd}}"}'
)",
       "my.yaml:7: streams[0](s).requests[0].body", "uuidd"},
      {"unknown sample set", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /u/{{sample nope}}
)",
       "my.yaml:6: streams[0](s).requests[0].path", "nope"},
      {"bad method", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
        method: "GE T"
)",
       "my.yaml:7: streams[0](s).requests[0].method", "not a method"},
      {"bad header name", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
        headers: {"Bad Name": x}
)",
       "my.yaml:7: streams[0](s).requests[0].headers.Bad Name", "header name"},
      {"unknown request key in a group", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - group: g
        requests:
          - path: /
            wieght: 3
)",
       "my.yaml:9: streams[0](s).requests[0].requests[0].wieght", "unknown key"},
      {"bad threshold on a stream", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
    thresholds:
      - p95 < fast
)",
       "my.yaml:8: streams[0](s).thresholds[0]", "p95 < fast"},
      {"bad threshold on the run", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
thresholds:
  - error_rate < 1%
  - latency is fine
)",
       "my.yaml:9: thresholds[1]", "latency is fine"},
      {"a demo script", R"(
name: d
phases:
  - mode: normal_traffic
    duration: 1s
)",
       "my.yaml:3: phases", "demo script"},
      {"every weight zero", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /
        weight: 0
)",
       "my.yaml:3: streams[0](s)", "weight"},
      {"demo rates without the demo clock", R"(
duration: 1s
streams:
  - name: s
    rate:
      blackfriday: {}
    requests:
      - path: /
)",
       "my.yaml:5: streams[0](s).rate.blackfriday", "demo_clock"},
      {"two rate shapes", R"(
duration: 1s
streams:
  - name: s
    rate: {peak: 5, constant: 3}
    requests:
      - path: /
)",
       "my.yaml:4: streams[0](s).rate", "exactly one"},
      {"gap jitter min above max", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    gap_jitter: [500ms, 100ms]
    requests:
      - path: /
)",
       "my.yaml:5: streams[0](s).gap_jitter", "min is above max"},
      {"bad arrivals", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    arrivals: bursty
    requests:
      - path: /
)",
       "my.yaml:5: streams[0](s).arrivals", "'bursty'"},
      {"bad enabled", R"(
duration: 1s
streams:
  - name: s
    enabled: perhaps
    rate: 1
    requests:
      - path: /
)",
       "my.yaml:4: streams[0].enabled", "'perhaps'"},
      {"every stream disabled", R"(
duration: 1s
streams:
  - name: s
    enabled: false
    rate: 1
    requests:
      - path: /
)",
       "my.yaml:3: streams", "disabled"},
      {"bad counter path", R"(
duration: 1s
streams:
  - name: s
    rate: 1
    count: {tokens: "tokens."}
    requests:
      - path: /
)",
       "my.yaml:5: streams[0](s).count.tokens", "dotted path"},
      {"yaml syntax error", R"(
duration: 1s
streams:
  - name: s
   rate: [1
)",
       "my.yaml:", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string m = load_error(yaml(c.text));
    ASSERT_FALSE(m.empty()) << "loaded without an error";
    EXPECT_TRUE(m.starts_with(c.location)) << m;
    EXPECT_TRUE(contains(m, c.detail)) << m;
  }
}

TEST(Errors, NoDurationIsAnErrorAtBuildTime) {
  auto sc = load_scenario(yaml(R"(
streams:
  - name: s
    rate: 1
    requests:
      - path: /
)"),
                          options());
  EXPECT_FALSE(sc.duration);
  try {
    build_plan(sc, build_options());
    ADD_FAILURE() << "no error";
  } catch (const ScenarioError& e) {
    EXPECT_TRUE(contains(e.what(), "my.yaml")) << e.what();
    EXPECT_TRUE(contains(e.what(), "duration")) << e.what();
  }
  auto b = build_options();
  b.duration = 3s;
  EXPECT_EQ(build_plan(sc, b).duration, 3s);
}

TEST(Errors, ReadingAMissingFileNamesIt) {
  TempDir dir;
  try {
    read_source((dir.path() / "absent.yaml").string());
    ADD_FAILURE() << "no error";
  } catch (const ScenarioError& e) {
    EXPECT_TRUE(contains(e.what(), "absent.yaml")) << e.what();
  }
  EXPECT_THROW(read_source(dir.path().string()), ScenarioError);  // a directory
}

// A status list with trailing junk after a range ("200-499x") is accepted as 200-499: the range
// branch of read_statuses() (src/scenarios/request_spec.cpp, the `item.find('-')` case) reads
// both ends with std::atoi, which stops at the first non-digit, while a single status rejects any
// non-digit.
// DISABLED until the range branch validates its two numbers.
TEST(Errors, ARangeWithTrailingJunkIsRejected) {
  for (const char* bad : {"200-499x", "200x-499", "200-4o0"}) {
    SCOPED_TRACE(bad);
    std::string m = load_error(Source{"my.yaml",
                                      std::string("duration: 1s\n"
                                                  "streams:\n"
                                                  "  - name: s\n"
                                                  "    rate: 1\n"
                                                  "    expect: ") +
                                          bad +
                                          "\n"
                                          "    requests:\n"
                                          "      - path: /\n",
                                      false});
    EXPECT_TRUE(m.starts_with("my.yaml:5: streams[0](s).expect")) << m;
  }
}

// build_plan's contract (src/scenarios/scenario.hpp, the comment above build_plan) says it
// throws ScenarioError when there is "nothing to send", but a scenario whose only stream has rate
// 0 (a file's `rate: 0`, or `--set rate=0` on a built-in mode) builds a plan with zero arrivals
// that would run for its whole duration sending nothing: build_plan (scenario.cpp, build_plan)
// never checks the total. DISABLED until build_plan rejects a plan with no arrivals.
TEST(Errors, APlanWithNothingToSendIsAnError) {
  auto sc = load_builtin("normal_traffic", options({{"rate", "0"}}));
  EXPECT_DOUBLE_EQ(sc.streams.at(0).rate.rps, 0);
  EXPECT_THROW(build_plan(sc, build_options()), ScenarioError);
}

// "Variables: ${name} or ${name:-default} in any value of the file" (scenario.hpp, LoadOptions),
// but the values of an inline sample list are taken raw (Reader::sample_set in scenario.cpp uses
// item.Scalar() / kv.second.Scalar(), never interpolate()), so `${greeting:-hi}` is sent
// literally. DISABLED until inline sample values are interpolated (or the header documents the
// exception).
// ---- what a file can say ----------------------------------------------------------------------

TEST(Format, RateShapes) {
  auto sc = load_scenario(yaml(R"(
duration: 60s
streams:
  - name: c
    rate: 600rpm
    requests: [{path: /}]
  - name: r
    rate: {ramp: {from: 0, to: 2.5k}}
    requests: [{path: /}]
  - name: st
    rate: {steps: [[10s, 5], [20s, 10]]}
    requests: [{path: /}]
  - name: t
    rate: {table: [[0s, 0], [10s, 10]]}
    requests: [{path: /}]
  - name: p
    rate: {peak: 40/s}
    requests: [{path: /}]
)"),
                          options());
  auto plan = build_plan(sc, build_options());
  ASSERT_EQ(plan.streams.size(), 5u);
  EXPECT_DOUBLE_EQ(plan.streams[0].profile.rate_at(30), 10);
  EXPECT_NEAR(plan.streams[1].profile.rate_at(30), 1250, 1e-9);
  EXPECT_NEAR(plan.streams[2].profile.rate_at(5), 5, 1e-9);
  EXPECT_NEAR(plan.streams[2].profile.rate_at(15), 10, 1e-9);
  EXPECT_NEAR(plan.streams[2].profile.rate_at(50), 10, 1e-9);  // the last step holds
  EXPECT_NEAR(plan.streams[3].profile.rate_at(5), 5, 1e-9);
  EXPECT_NEAR(plan.streams[3].profile.rate_at(40), 10, 1e-9);
  EXPECT_NEAR(plan.streams[4].profile.rate_at(30), 40, 1e-9);
  EXPECT_NEAR(plan.streams[4].profile.rate_at(0), 0, 1e-9);
}

TEST(Format, StreamUrlConnectionsAndDemoMinutes) {
  auto sc = load_scenario(yaml(R"(
demo_clock: true
streams:
  - name: own
    url: http://127.0.0.2:8080
    connections: 5
    arrivals: poisson
    rate: 2
    requests: [{path: /}]
  - name: story
    rate:
      demo_minutes: [[0, 0], [2, 120rpm]]
    requests: [{path: /}]
)"),
                          options());
  EXPECT_FALSE(sc.duration);
  EXPECT_TRUE(sc.streams[0].poisson);
  auto plan = build_plan(sc, build_options(clock_at(kNow, 60)));
  EXPECT_EQ(plan.duration, 30s);
  EXPECT_EQ(plan.streams[0].url.origin(), "http://127.0.0.2:8080");
  EXPECT_EQ(plan.streams[0].connections, 5);
  EXPECT_EQ(plan.streams[0].process, core::ArrivalProcess::poisson);
  EXPECT_EQ(plan.streams[1].url.origin(), kUrl);
  EXPECT_EQ(plan.streams[1].process, core::ArrivalProcess::uniform);
  EXPECT_NEAR(plan.streams[1].profile.rate_at(0), 0, 1e-9);
  EXPECT_NEAR(plan.streams[1].profile.rate_at(1), 1, 1e-9);
  EXPECT_NEAR(plan.streams[1].profile.rate_at(2), 2, 1e-9);
  EXPECT_NEAR(plan.streams[1].profile.rate_at(20), 2, 1e-9);
}

TEST(Format, HeadersTagsAndStaticTemplates) {
  auto sc = load_scenario(yaml(R"(
duration: 1s
streams:
  - name: s
    tag: CUSTOM_TAG
    rate: 1
    expect: 2xx
    headers: {Accept: text/plain, X-Common: a}
    requests:
      - name: first
        path: /a{{"{{"}}b
        headers: {x-common: b}
      - name: second
        path: /x
        headers: {X-Traffic-Type: mine}
        expect: 404
)"),
                          options());
  const auto& r = sc.streams.at(0).requests;
  ASSERT_EQ(r.size(), 2u);
  // Static: the literal is folded in and nothing is rendered per request.
  EXPECT_FALSE(r[0].dynamic);
  EXPECT_EQ(r[0].target, "/a{{b");
  EXPECT_EQ(r[0].method, "GET");
  EXPECT_EQ(count_headers(r[0], "X-Common"), 1);
  EXPECT_EQ(render_header(r[0], "Accept", "s", 0), "text/plain");
  EXPECT_EQ(render_header(r[0], "X-Common", "s", 0), "b");  // the request's replaces the stream's
  EXPECT_EQ(render_header(r[0], "X-Traffic-Type", "s", 0), "CUSTOM_TAG");
  EXPECT_EQ(r[0].expected_statuses, range(200, 299));
  EXPECT_EQ(count_headers(r[1], "X-Traffic-Type"), 1);
  EXPECT_EQ(render_header(r[1], "X-Traffic-Type", "s", 0), "mine");
  EXPECT_EQ(r[1].expected_statuses, std::vector<int>{404});
}

TEST(Format, DefaultsAndNames) {
  auto sc = load_scenario(Source{"some/dir/my-scenario.yaml",
                                 "duration: 2s\n"
                                 "streams:\n"
                                 "  - name: s\n"
                                 "    rate: 3\n"
                                 "    requests:\n"
                                 "      - path: /p\n"
                                 "        method: post\n",
                                 false},
                          options());
  EXPECT_EQ(sc.name, "my-scenario");
  const auto& s = sc.streams.at(0);
  EXPECT_EQ(s.timeout, 10s);
  EXPECT_FALSE(s.hard_cap);
  EXPECT_FALSE(s.poisson);
  EXPECT_EQ(s.requests.at(0).method, "POST");
  EXPECT_EQ(s.requests.at(0).name, "POST /p");
  EXPECT_TRUE(s.requests.at(0).expected_statuses.empty());
  EXPECT_EQ(render_header(s.requests.at(0), "X-Traffic-Type", "s", 0), "s");
}

}  // namespace

// ---- what a stream costs ------------------------------------------------------------------
// `rate: 10000000, connections: 32` built a backlog of rate x 10 = 100 M arrivals, which every
// worker preallocates (2.4 GB peak; 6 s to send 32 requests): a scenario stream now costs what a
// bench stream costs, whatever its rate and duration.
namespace {

Source fast_stream(const std::string& rate, const std::string& extra) {
  return Source{"fast.yaml",
                "duration: 2s\n"
                "streams:\n"
                "  - name: fast\n"
                "    rate: " + rate + "\n" + extra +
                "    timeout: 1s\n"
                "    requests:\n"
                "      - path: /\n",
                false};
}

TEST(BuildPlan, TheBacklogIsTheEngineDefaultWhateverTheRate) {
  const size_t bench_backlog = load::Stream{}.backlog;
  ASSERT_LE(bench_backlog, 10'000u);
  for (const char* rate : {"10", "100000", "10000000"}) {
    SCOPED_TRACE(rate);
    auto plan = build_plan(load_scenario(fast_stream(rate, "    connections: 32\n"), options()),
                           build_options());
    ASSERT_EQ(plan.streams.size(), 1u);
    EXPECT_EQ(plan.streams[0].backlog, bench_backlog);
    EXPECT_EQ(plan.streams[0].connections, 32);
  }
}

TEST(BuildPlan, SizedConnectionsFollowTheRateUpToTheDocumentedMaximum) {
  auto connections = [](const char* rate) {
    return build_plan(load_scenario(fast_stream(rate, ""), options()), build_options())
        .streams[0]
        .connections;
  };
  EXPECT_EQ(connections("100"), 100 * 1 * 125 / 100 + 8);  // rate x timeout x 1.25 + 8
  EXPECT_EQ(connections("1"), 16);                        // at least 16
  EXPECT_EQ(connections("100000"), kMaxSizedConnections);
  EXPECT_EQ(connections("10000000"), kMaxSizedConnections);
  EXPECT_LE(kMaxSizedConnections, 10'000);
}

}  // namespace
}  // namespace trafficsim::scenarios
