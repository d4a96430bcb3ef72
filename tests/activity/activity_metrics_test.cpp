// The activity's metrics agree with the activities they count: requests by method, route and
// status, durations by table and type, cache results and the hit ratio, records by level.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "activity/activity_generator.hpp"
#include "activity/activity_metrics.hpp"
#include "telemetry/exposition_parser.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::activity {
namespace {

double sample(const telemetry::Exposition& e, const std::string& name,
              std::map<std::string, std::string> labels = {}) {
  double sum = 0;
  for (const auto& s : e.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      const std::string* got = s.label(k);
      match = match && got != nullptr && *got == v;
    }
    if (match) sum += s.value;
  }
  return sum;
}

TEST(ActivityMetrics, CountWhatTheActivitiesDid) {
  telemetry::Registry registry;
  ActivityMetrics metrics(registry);
  ActivityGenerator g({.seed = 17});
  std::map<std::string, int> get_users_by_status, logs_by_level;
  std::map<std::string, int> kinds;
  int hits = 0, cache = 0, users_queries = 0, emails = 0;
  for (uint64_t k = 0; k < 3000; ++k) {
    const auto a = g.stress_activity(k, 1'000'000'000);
    metrics.record(a);
    ++kinds[std::string(kind_name(a.kind))];
    for (const auto& r : a.logs) ++logs_by_level[std::string(level_name(r.severity))];
    if (a.kind == ActivityKind::http && a.method == "GET" && a.route == "/users")
      ++get_users_by_status[std::to_string(a.status)];
    if (a.kind == ActivityKind::cache) {
      ++cache;
      hits += a.cache_hit;
    }
    if (a.kind == ActivityKind::db && a.table == "users") ++users_queries;
    if (a.kind == ActivityKind::job && a.job_type == "send_email") ++emails;
  }
  for (const auto& a : g.alerts_between(0, 60'000'000'000LL, 0)) {
    metrics.record(a);
    ++logs_by_level[std::string(level_name(a.level))];
  }
  const auto e = telemetry::parse_exposition(registry.expose());
  EXPECT_EQ(e.malformed_lines, 0u);
  for (const auto& [status, n] : get_users_by_status)
    EXPECT_EQ(sample(e, "activity_http_requests_total",
                     {{"method", "GET"}, {"route", "/users"}, {"status", status}}),
              n)
        << status;
  EXPECT_EQ(sample(e, "activity_db_query_duration_seconds_count", {{"table", "users"}}),
            users_queries);
  EXPECT_EQ(sample(e, "activity_job_duration_seconds_count", {{"type", "send_email"}}), emails);
  EXPECT_EQ(sample(e, "activity_cache_operations_total", {{"result", "hit"}}), hits);
  EXPECT_EQ(sample(e, "activity_cache_operations_total", {{"result", "miss"}}), cache - hits);
  EXPECT_DOUBLE_EQ(sample(e, "activity_cache_hit_ratio"), static_cast<double>(hits) / cache);
  for (const auto& [level, n] : logs_by_level)
    EXPECT_EQ(sample(e, "activity_log_records_total", {{"level", level}}), n) << level;
  EXPECT_EQ(logs_by_level["warning"], 6);
  EXPECT_EQ(logs_by_level["error"], 2);
  for (const auto& [kind, n] : kinds)
    EXPECT_EQ(sample(e, "activity_spans_total", {{"kind", kind}}), n) << kind;
  // Durations land in the buckets of their range: no HTTP request above 150 ms.
  EXPECT_EQ(sample(e, "activity_http_request_duration_seconds_bucket", {{"le", "0.15"}}),
            sample(e, "activity_http_request_duration_seconds_count"));
}

}  // namespace
}  // namespace trafficsim::activity
