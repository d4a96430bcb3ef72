#include "activity/activity_metrics.hpp"

#include <string>

namespace trafficsim::activity {

namespace {

// Seconds; the bounds cover each kind's range (cache 0.1-2 ms, db 1-50 ms, http 5-150 ms,
// jobs 50-500 ms) with room on both sides.
std::vector<double> duration_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1};
}

}  // namespace

ActivityMetrics::ActivityMetrics(telemetry::Registry& registry)
    : http_requests_(registry.counter("activity_http_requests_total",
                                      "Simulated HTTP requests by method, route and status",
                                      {"method", "route", "status"})),
      http_duration_(registry.histogram("activity_http_request_duration_seconds",
                                        "Simulated HTTP request durations", {"method", "route"},
                                        duration_buckets())),
      db_duration_(registry.histogram("activity_db_query_duration_seconds",
                                      "Simulated database query durations by table", {"table"},
                                      duration_buckets())),
      job_duration_(registry.histogram("activity_job_duration_seconds",
                                       "Simulated background job durations by type", {"type"},
                                       duration_buckets())),
      cache_operations_(registry.counter("activity_cache_operations_total",
                                         "Simulated cache operations by result (hit, miss)",
                                         {"result"})),
      cache_hit_ratio_(registry
                           .gauge("activity_cache_hit_ratio",
                                  "Share of simulated cache operations that hit, so far")
                           .with(std::span<const std::string_view>())),
      log_records_(registry.counter("activity_log_records_total", "Simulated log records by level",
                                    {"level"})),
      spans_(
          registry.counter("activity_spans_total", "Simulated spans by activity kind", {"kind"})) {}

void ActivityMetrics::record(const Activity& a) {
  const double seconds = static_cast<double>(a.duration_us) / 1e6;
  switch (a.kind) {
    case ActivityKind::http: {
      const std::string status = std::to_string(a.status);
      http_requests_.with({a.method, a.route, status}).inc();
      http_duration_.with({a.method, a.route}).observe(seconds);
      break;
    }
    case ActivityKind::db:
      db_duration_.with({a.table}).observe(seconds);
      break;
    case ActivityKind::job:
      job_duration_.with({a.job_type}).observe(seconds);
      break;
    case ActivityKind::cache:
      cache_operations_.with({a.cache_hit ? "hit" : "miss"}).inc();
    {
      const uint64_t total = cache_total_.fetch_add(1, std::memory_order_relaxed) + 1;
      const uint64_t hits = a.cache_hit ? cache_hits_.fetch_add(1, std::memory_order_relaxed) + 1
                                        : cache_hits_.load(std::memory_order_relaxed);
      cache_hit_ratio_.set(static_cast<double>(hits) / static_cast<double>(total));
    }
      break;
    case ActivityKind::log:
      break;
  }
  if (!a.spans.empty()) spans_.with({kind_name(a.kind)}).inc(static_cast<double>(a.spans.size()));
  for (const auto& rec : a.logs) log_records_.with({level_name(rec.severity)}).inc();
}

}  // namespace trafficsim::activity
