// Seed 003's activity as a pure function of (seed, tick): counts, tables, ranges, shares, the
// warning and error schedule, levels and determinism, asserted over many ticks without a clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "activity/activity_generator.hpp"
#include "core/trace_context.hpp"

namespace trafficsim::activity {
namespace {

using namespace std::chrono_literals;
using telemetry::Severity;

constexpr uint64_t kStart = 1'800'000'000'000'000'000ULL;  // a run's start, Unix ns

std::vector<Activity> many_ticks(const ActivityGenerator& g, uint64_t ticks) {
  std::vector<Activity> all;
  for (uint64_t k = 0; k < ticks; ++k)
    for (auto& a : g.tick(k, kStart)) all.push_back(std::move(a));
  return all;
}

std::set<std::string> as_set(const std::vector<std::string_view>& v) {
  return {v.begin(), v.end()};
}

TEST(ActivityGenerator, EachTickHasThreeToSixActivitiesTimesTheIntensity) {
  for (double intensity : {1.0, 2.5, 0.5, 10.0}) {
    ActivityGenerator g({.seed = 11, .intensity = intensity});
    const auto lo = static_cast<size_t>(std::floor(3 * intensity));
    const auto hi = static_cast<size_t>(std::ceil(6 * intensity));
    std::set<size_t> seen;
    double sum = 0;
    const int ticks = 4000;
    for (int k = 0; k < ticks; ++k) {
      const size_t n = g.activities_in_tick(static_cast<uint64_t>(k));
      EXPECT_GE(n, lo) << "intensity " << intensity;
      EXPECT_LE(n, hi) << "intensity " << intensity;
      EXPECT_EQ(g.tick(static_cast<uint64_t>(k), kStart).size(), n);
      seen.insert(n);
      sum += static_cast<double>(n);
      if (k > 200) break;  // tick() is the costly part; the mean below uses the counts alone
    }
    for (int k = 201; k < ticks; ++k) sum += static_cast<double>(g.activities_in_tick(k));
    EXPECT_NEAR(sum / ticks, 4.5 * intensity, 0.1 * intensity) << "intensity " << intensity;
    if (intensity == 1.0) {
      EXPECT_EQ(seen, (std::set<size_t>{3, 4, 5, 6}));
    }
  }
}

TEST(ActivityGenerator, IntensityAndIntervalMustBePositive) {
  EXPECT_THROW(ActivityGenerator({.seed = 1, .intensity = 0}), std::invalid_argument);
  EXPECT_THROW(ActivityGenerator({.seed = 1, .intensity = -1}), std::invalid_argument);
  EXPECT_THROW(ActivityGenerator({.seed = 1, .intensity = 1, .interval = 0ns}),
               std::invalid_argument);
}

TEST(ActivityGenerator, AllFourKindsAppearInRoughlyEqualShares) {
  ActivityGenerator g({.seed = 3});
  std::map<ActivityKind, int> count;
  const auto all = many_ticks(g, 2000);
  for (const auto& a : all) ++count[a.kind];
  EXPECT_EQ(count.size(), 4u);
  EXPECT_EQ(count.count(ActivityKind::log), 0u) << "warnings and errors are not tick activities";
  for (const auto& [kind, n] : count)
    EXPECT_NEAR(static_cast<double>(n) / static_cast<double>(all.size()), 0.25, 0.03)
        << kind_name(kind);
}

TEST(ActivityGenerator, HttpRequestsUseTheSeedsMethodsAndRoutesAndAreMostly200) {
  ActivityGenerator g({.seed = 5});
  std::set<std::string> methods, routes;
  std::map<int, int> statuses;
  int n = 0;
  for (const auto& a : many_ticks(g, 3000)) {
    if (a.kind != ActivityKind::http) continue;
    ++n;
    methods.insert(std::string(a.method));
    routes.insert(std::string(a.route));
    ++statuses[a.status];
    const auto& attrs = a.spans.at(0).attributes;
    EXPECT_EQ(attrs.at("http.request.method").as_string(), a.method);
    EXPECT_EQ(attrs.at("http.route").as_string(), a.route);
    EXPECT_EQ(attrs.at("http.response.status_code").as_int64(), a.status);
    EXPECT_EQ(a.spans[0].kind, telemetry::SpanKind::server);
    EXPECT_EQ(a.spans[0].name, std::string(a.method) + " " + std::string(a.route));
  }
  ASSERT_GT(n, 2500);
  EXPECT_EQ(methods, (std::set<std::string>{"GET", "POST", "PUT", "DELETE"}));
  EXPECT_EQ(routes,
            (std::set<std::string>{"/users", "/orders", "/products", "/api/health", "/search"}));
  EXPECT_EQ(statuses.size(), 4u);
  for (int s : {200, 201, 301, 404}) EXPECT_GT(statuses[s], 0) << s;
  const double ok_share = static_cast<double>(statuses[200]) / n;
  EXPECT_GT(ok_share, 0.5) << "mostly 200";
  EXPECT_NEAR(ok_share, 0.60, 0.03);
  for (int s : {201, 301, 404}) {
    EXPECT_LT(statuses[s], statuses[200] / 3) << "only some " << s;
    EXPECT_GT(static_cast<double>(statuses[s]) / n, 0.05) << s;
  }
}

TEST(ActivityGenerator, DurationsStayInEachKindsRangeAndSpansEndByTheirTick) {
  const auto interval = 2s;
  ActivityGenerator g({.seed = 9, .interval = interval});
  std::map<ActivityKind, std::pair<int64_t, int64_t>> seen;  // min, max in us
  for (uint64_t k = 0; k < 2000; ++k) {
    const uint64_t at = kStart + k * 2'000'000'000ULL;
    for (const auto& a : g.tick(k, kStart)) {
      ASSERT_EQ(a.spans.size(), 1u);
      const auto& s = a.spans[0];
      EXPECT_EQ(static_cast<int64_t>(s.end_unix_nano - s.start_unix_nano), a.duration_us * 1000);
      EXPECT_LE(s.end_unix_nano, at) << "a span is never in the future when emitted";
      EXPECT_GE(s.start_unix_nano, at - 2'000'000'000ULL) << "within the tick's window";
      auto [it, fresh] = seen.try_emplace(a.kind, a.duration_us, a.duration_us);
      it->second.first = std::min(it->second.first, a.duration_us);
      it->second.second = std::max(it->second.second, a.duration_us);
    }
  }
  auto in = [&](ActivityKind kind, int64_t lo_us, int64_t hi_us) {
    const auto [mn, mx] = seen.at(kind);
    EXPECT_GE(mn, lo_us) << kind_name(kind);
    EXPECT_LE(mx, hi_us) << kind_name(kind);
    // The whole range is used, not a corner of it.
    EXPECT_LT(mn, lo_us + (hi_us - lo_us) / 20) << kind_name(kind);
    EXPECT_GT(mx, hi_us - (hi_us - lo_us) / 20) << kind_name(kind);
  };
  in(ActivityKind::http, 5'000, 150'000);
  in(ActivityKind::db, 1'000, 50'000);
  in(ActivityKind::job, 50'000, 500'000);
  in(ActivityKind::cache, 100, 2'000);
}

TEST(ActivityGenerator, CacheOperationsHitThreeTimesInFour) {
  ActivityGenerator g({.seed = 21});
  int hits = 0, total = 0;
  std::set<std::string> keys;
  for (uint64_t k = 0; k < 40'000; ++k) {
    const auto a = g.stress_activity(k, kStart);
    if (a.kind != ActivityKind::cache) continue;
    ++total;
    hits += a.cache_hit;
    const auto& attrs = a.spans.at(0).attributes;
    EXPECT_EQ(attrs.at("cache.hit").as_bool(), a.cache_hit);
    keys.insert(std::string(attrs.at("cache.key").as_string()));
  }
  ASSERT_GT(total, 8000);
  EXPECT_NEAR(static_cast<double>(hits) / total, 0.75, 0.015);
  EXPECT_EQ(keys, (std::set<std::string>{"user:123", "product:456", "session:abc", "config:main"}));
}

TEST(ActivityGenerator, EachKindCarriesTheSeedsAttributes) {
  ActivityGenerator g({.seed = 4});
  std::set<std::string> tables, jobs;
  for (const auto& a : many_ticks(g, 1500)) {
    const auto& attrs = a.spans.at(0).attributes;
    EXPECT_EQ(attrs.at("traffic.type").as_string(), "activity");
    switch (a.kind) {
      case ActivityKind::db:
        EXPECT_EQ(attrs.at("db.system").as_string(), "postgresql");
        EXPECT_EQ(attrs.at("db.sql.table").as_string(), a.table);
        tables.insert(std::string(a.table));
        break;
      case ActivityKind::job:
        EXPECT_EQ(attrs.at("job.type").as_string(), a.job_type);
        jobs.insert(std::string(a.job_type));
        break;
      case ActivityKind::cache:
        EXPECT_TRUE(attrs.contains("cache.key"));
        EXPECT_TRUE(attrs.at("cache.hit").is_bool());
        break;
      default:
        break;
    }
  }
  EXPECT_EQ(tables, as_set(ActivityTables::tables()));
  EXPECT_EQ(tables, (std::set<std::string>{"users", "orders", "products", "sessions", "events"}));
  EXPECT_EQ(jobs, (std::set<std::string>{"send_email", "process_payment", "generate_report",
                                         "sync_inventory"}));
}

TEST(ActivityGenerator, LogLevelsFollowTheKindAndJobsLogAtStartAndCompletion) {
  ActivityGenerator g({.seed = 8});
  std::set<ActivityKind> kinds;
  for (const auto& a : many_ticks(g, 300)) {
    kinds.insert(a.kind);
    const auto& s = a.spans.at(0);
    for (const auto& rec : a.logs) {
      EXPECT_EQ(rec.trace_id, s.trace_id) << "a record is tied to its span";
      EXPECT_EQ(rec.span_id, s.span_id);
      EXPECT_FALSE(rec.body.empty());
      EXPECT_TRUE(rec.attributes.contains("duration_ms") || a.kind == ActivityKind::job);
    }
    switch (a.kind) {
      case ActivityKind::http:
        ASSERT_EQ(a.logs.size(), 1u);
        EXPECT_EQ(a.logs[0].severity, Severity::info);
        break;
      case ActivityKind::db:
      case ActivityKind::cache:
        ASSERT_EQ(a.logs.size(), 1u);
        EXPECT_EQ(a.logs[0].severity, Severity::debug) << kind_name(a.kind);
        break;
      case ActivityKind::job:
        ASSERT_EQ(a.logs.size(), 2u);
        EXPECT_EQ(a.logs[0].severity, Severity::info);
        EXPECT_EQ(a.logs[1].severity, Severity::info);
        EXPECT_EQ(a.logs[0].time_unix_nano, s.start_unix_nano) << "at start";
        EXPECT_EQ(a.logs[1].time_unix_nano, s.end_unix_nano) << "at completion";
        EXPECT_NE(a.logs[0].body.find("started"), std::string::npos);
        EXPECT_NE(a.logs[1].body.find("completed"), std::string::npos);
        break;
      case ActivityKind::log:
        ADD_FAILURE() << "no alerts among tick activities";
    }
    EXPECT_EQ(a.message, a.logs.back().body);
    EXPECT_EQ(a.level, a.logs.back().severity);
  }
  EXPECT_EQ(kinds.size(), 4u);
}

TEST(ActivityGenerator, AWarningEveryTenSecondsAndAnErrorEveryTwentyFourWithTheSeedsMessages) {
  ActivityGenerator g({.seed = 13});
  const auto alerts = g.alerts_between(0, 240'000'000'000LL, kStart);
  std::vector<uint64_t> warn_at, err_at;
  std::set<std::string> warn_msgs, err_msgs;
  for (const auto& a : alerts) {
    EXPECT_EQ(a.kind, ActivityKind::log);
    EXPECT_TRUE(a.spans.empty());
    ASSERT_EQ(a.logs.size(), 1u) << "exactly one record each";
    const auto& rec = a.logs[0];
    EXPECT_EQ(rec.body, a.message);
    EXPECT_TRUE(rec.attributes.contains("component"));
    if (rec.severity == Severity::warn) {
      warn_at.push_back(rec.time_unix_nano - kStart);
      warn_msgs.insert(rec.body);
    } else {
      EXPECT_EQ(rec.severity, Severity::error);
      err_at.push_back(rec.time_unix_nano - kStart);
      err_msgs.insert(rec.body);
    }
  }
  ASSERT_EQ(warn_at.size(), 24u);
  ASSERT_EQ(err_at.size(), 10u);
  for (size_t i = 0; i < warn_at.size(); ++i) EXPECT_EQ(warn_at[i], (i + 1) * 10'000'000'000ULL);
  for (size_t i = 0; i < err_at.size(); ++i) EXPECT_EQ(err_at[i], (i + 1) * 24'000'000'000ULL);
  EXPECT_EQ(warn_msgs, (std::set<std::string>{"Connection pool running low", "Slow query detected",
                                              "Rate limit approaching", "Memory usage elevated"}));
  EXPECT_EQ(err_msgs,
            (std::set<std::string>{"Connection timeout to external API",
                                   "Failed to process webhook", "Database deadlock detected"}));
  // At 120 s both are due: the warning first, then the error, in time order throughout.
  for (size_t i = 1; i < alerts.size(); ++i)
    EXPECT_LE(alerts[i - 1].logs[0].time_unix_nano, alerts[i].logs[0].time_unix_nano);
}

TEST(ActivityGenerator, AlertWindowsOfAnyWidthCountEachAlertOnce) {
  ActivityGenerator g({.seed = 13});
  const auto whole = g.alerts_between(0, int64_t{600'000'000'000}, kStart);
  constexpr int64_t kEnd = 600'000'000'000LL;
  for (int64_t width : {int64_t{700'000'000}, int64_t{2'000'000'000}, int64_t{1'000'000},
                        int64_t{24'000'000'000}}) {
    std::vector<std::string> pieces;
    for (int64_t after = -width; after < kEnd; after += width) {
      for (const auto& a : g.alerts_between(after, std::min(after + width, kEnd), kStart))
        pieces.push_back(a.message + "@" + std::to_string(a.logs[0].time_unix_nano));
    }
    std::vector<std::string> expected;
    for (const auto& a : whole)
      expected.push_back(a.message + "@" + std::to_string(a.logs[0].time_unix_nano));
    EXPECT_EQ(pieces, expected) << "window " << width;
  }
  EXPECT_TRUE(g.alerts_between(0, 9'999'999'999LL, kStart).empty()) << "the first at 10 s";
}

TEST(ActivityGenerator, OneSeedGivesTheSameActivitiesWhateverTheStartTime) {
  ActivityGenerator a({.seed = 7}), b({.seed = 7}), other({.seed = 8});
  const uint64_t later = kStart + 123'456'789;
  for (uint64_t k = 0; k < 50; ++k) {
    auto x = a.tick(k, kStart), y = b.tick(k, later), z = other.tick(k, kStart);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].message, y[i].message);
      EXPECT_EQ(x[i].spans[0].trace_id, y[i].spans[0].trace_id);
      EXPECT_EQ(x[i].spans[0].span_id, y[i].spans[0].span_id);
      EXPECT_EQ(x[i].spans[0].attributes, y[i].spans[0].attributes);
      EXPECT_EQ(x[i].spans[0].start_unix_nano + 123'456'789, y[i].spans[0].start_unix_nano);
      if (i < z.size()) {
        EXPECT_NE(x[i].spans[0].trace_id, z[i].spans[0].trace_id);
      }
    }
  }
}

TEST(ActivityGenerator, IdsAreNeverZeroAndNeverRepeat) {
  ActivityGenerator g({.seed = 0});
  std::set<std::string> traces, spans;
  size_t n = 0;
  for (uint64_t k = 0; k < 20'000; ++k) {
    const auto a = g.stress_activity(k, kStart);
    ASSERT_EQ(a.spans.size(), 1u);
    const auto& s = a.spans[0];
    EXPECT_EQ(s.end_unix_nano, kStart);
    traces.insert(core::to_hex(s.trace_id));
    spans.insert(core::to_hex(s.span_id));
    ++n;
  }
  EXPECT_EQ(traces.size(), n);
  EXPECT_EQ(spans.size(), n);
  EXPECT_EQ(traces.count(std::string(32, '0')), 0u);
}

}  // namespace
}  // namespace trafficsim::activity
