#pragma once
// The demo service's Prometheus families (what /metrics shows), registered once at start-up.
// Hot paths use the family references directly; values computed on demand (pool depth, demo
// phase, the HTTP server's counters) are refreshed by the registry's on_collect hook in
// TargetService::Impl::register_metrics.
#include <cstdint>
#include <memory>
#include <vector>

#include "telemetry/metrics.hpp"

namespace trafficsim::http {
struct ServerCounters;
}

namespace trafficsim::demo_service {

struct ServiceMetrics {
  telemetry::CounterFamily& http_requests;
  telemetry::HistogramFamily& http_duration;
  telemetry::HistogramFamily& llm_duration;
  telemetry::CounterFamily& llm_tokens;
  telemetry::HistogramFamily& llm_tokens_per_request;
  telemetry::CounterFamily& llm_requests;
  telemetry::CounterFamily& llm_errors;
  telemetry::GaugeFamily& llm_error_rate;
  telemetry::HistogramFamily& db_duration;
  telemetry::CounterFamily& db_rows_scanned;
  telemetry::HistogramFamily& db_pool_wait;
  telemetry::CounterFamily& db_queries;
  telemetry::GaugeFamily& db_pool_queued;
  telemetry::GaugeFamily& db_pool_busy;
  telemetry::CounterFamily& recommendation_scripted_failures;
  telemetry::CounterFamily& checkout_requests;
  telemetry::CounterFamily& checkout_failures;
  telemetry::CounterFamily& fault_hits;
  telemetry::GaugeFamily& demo_minute;
  telemetry::GaugeFamily& demo_phase;
  telemetry::CounterFamily& access_log_dropped;

  // Registers every family above in `registry` (throws std::invalid_argument on a clash).
  static std::unique_ptr<ServiceMetrics> register_in(telemetry::Registry& registry);
};

// http::Server's counters as metric families. The table in service_metrics.cpp
// (kServerCounterRows) is the one place where a server counter becomes a family: exposing a new
// ServerCounters field is one row there.
class ServerCounterMetrics {
 public:
  explicit ServerCounterMetrics(telemetry::Registry& registry);
  // Brings the families up to `counters` (cumulative since the server started): counters grow by
  // what was added since the last call, gauges are set. Call from an on_collect hook (never
  // concurrently with itself).
  void update(const http::ServerCounters& counters);

 private:
  struct Series {
    telemetry::Counter* counter = nullptr;  // one of the two
    telemetry::Gauge* gauge = nullptr;
    uint64_t reported = 0;  // counters: the value already added
  };
  std::vector<Series> series_;  // one per row of kServerCounterRows, in its order
};

}  // namespace trafficsim::demo_service
