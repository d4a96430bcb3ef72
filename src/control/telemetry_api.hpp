#pragma once
// The dashboard's Traces, Logs and Metrics pages' REST face (docs/control-api.md, "Traces, logs
// and metrics"), read from the bounded in-process buffers of every attached source (the demo
// target; later the synthetic activity): nothing is stored here but the metrics' short history.
//
//   GET /api/v1/traces?traffic_type=&route=&status=&min_ms=&max_ms=&limit=  recent traces
//   GET /api/v1/traces/{trace_id}                                             one trace's spans
//   GET /api/v1/logs?after=CURSOR&level=&limit=                               the live tail
//   GET /api/v1/telemetry/metrics                                             chart-ready series
//   GET /api/v1/telemetry/segments        a distributed run's segments (serve --segments; 404 else)
//
// Every route is a GET behind the key rule (as /api/v1/monitors). Thread-safe: handlers run on
// the server's io threads; the source list and the metrics history each have a mutex.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "control/request_guard.hpp"
#include "http/server.hpp"
#include "telemetry/log_buffer.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::telemetry {
class Registry;
}

namespace trafficsim::control {

class TelemetryMetrics;

// One producer of telemetry: any of the three may be null (that page shows nothing of it). The
// pointers must stay valid until the source is removed or the API is destroyed.
struct TelemetrySource {
  std::string name;  // shown as the trace's / record's source: "demo-target", "activity"
  const telemetry::SpanBuffer* spans = nullptr;
  const telemetry::LogBuffer* logs = nullptr;
  const telemetry::Registry* registry = nullptr;
  // Or an exposition from elsewhere (the segments of a distributed run, jobs::SegmentWatch),
  // read when there is no registry.
  std::function<std::string()> exposition;
};

class TelemetryApi {
 public:
  // `now_unix_s`: the clock the metrics sampler reads (tests inject one); empty: the system's.
  explicit TelemetryApi(std::function<double()> now_unix_s = {});
  ~TelemetryApi();
  TelemetryApi(const TelemetryApi&) = delete;
  TelemetryApi& operator=(const TelemetryApi&) = delete;

  // Attaches a source (any time, from any thread); a second source of the same name replaces
  // the first. remove_source detaches one (before its buffers go away).
  void add_source(TelemetrySource source);
  void remove_source(std::string_view name);
  std::vector<TelemetrySource> sources() const;

  // The answer of GET /api/v1/telemetry/segments (serve --segments: jobs::SegmentWatch::to_json);
  // without one the route is 404. Set before the server starts.
  void set_segments(std::function<boost::json::object()> segments);

  static bool is_telemetry_path(std::string_view path);
  // Answers a request under /api/v1/traces, /api/v1/logs or /api/v1/telemetry (after the Host
  // check); throws control::ApiFailure or answers an error itself.
  void route(const http::ServerRequest& request, const http::Reply& reply,
             const RequestGuard& guard);

  // The JSON answers themselves (what the routes send; the tests call them too). `query` is the
  // request's query string; a bad parameter throws ApiFailure naming it.
  boost::json::object traces_json(std::string_view query) const;
  // nullopt: no span of that trace is held (404). A malformed id throws ApiFailure (400).
  std::optional<boost::json::object> trace_json(std::string_view trace_id_hex) const;
  boost::json::object logs_json(std::string_view query) const;
  boost::json::object metrics_json();

  // Bounds: traces listed per answer, log records per answer.
  static constexpr size_t kMaxTraceLimit = 500;
  static constexpr size_t kDefaultTraceLimit = 50;
  static constexpr size_t kMaxLogLimit = 1000;
  static constexpr size_t kDefaultLogLimit = 200;

 private:
  mutable std::mutex sources_mutex_;
  std::vector<TelemetrySource> sources_;
  std::unique_ptr<TelemetryMetrics> metrics_;
  std::function<boost::json::object()> segments_;
};

}  // namespace trafficsim::control
