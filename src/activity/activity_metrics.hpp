#pragma once
// The activity's metrics on a Prometheus registry (and through metrics_from_registry, OTLP):
//   activity_http_requests_total{method,route,status}
//   activity_http_request_duration_seconds{method,route}   (histogram)
//   activity_db_query_duration_seconds{table}              (histogram)
//   activity_job_duration_seconds{type}                    (histogram)
//   activity_cache_operations_total{result}                (hit, miss)
//   activity_cache_hit_ratio                               (gauge: hits / operations so far)
//   activity_log_records_total{level}                      (debug, info, warning, error)
//   activity_spans_total{kind}                             (http, db, job, cache)
// Registration happens in the constructor (a registry holds one ActivityMetrics); record() may be
// called from several emitting threads (the dashboard's activity jobs share one), and the
// registry's own atomics make scrapes safe.
#include <atomic>
#include <cstdint>

#include "activity/activity_generator.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::activity {

class ActivityMetrics {
 public:
  explicit ActivityMetrics(telemetry::Registry& registry);

  void record(const Activity& activity);

 private:
  telemetry::CounterFamily& http_requests_;
  telemetry::HistogramFamily& http_duration_;
  telemetry::HistogramFamily& db_duration_;
  telemetry::HistogramFamily& job_duration_;
  telemetry::CounterFamily& cache_operations_;
  telemetry::Gauge& cache_hit_ratio_;
  telemetry::CounterFamily& log_records_;
  telemetry::CounterFamily& spans_;
  std::atomic<uint64_t> cache_hits_{0}, cache_total_{0};
};

}  // namespace trafficsim::activity
