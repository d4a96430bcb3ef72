#pragma once
// The OTLP/HTTP exporter: spans, log records and metrics to `/v1/traces`, `/v1/logs`,
// `/v1/metrics` of a collector or backend, in protobuf (the default) or JSON.
//
// Producers (request handlers, the load engine's drain, the activity generator) only queue: a
// bounded queue per signal (2 048 items by default) that drops and counts rather than ever
// blocking. One thread of the exporter's own batches (512 spans or 1 s by default), encodes,
// compresses (gzip when asked), POSTs and retries 429 / 502 / 503 / 504 and dropped connections
// with exponential back-off and jitter, honouring Retry-After; 400, 413 and other codes are not
// retried. A partial success's rejected count is read and reported. Metrics are collected from a
// callback every metric interval (10 s by default) and once more at shutdown; shutdown exports
// what is queued of all three signals within its deadline (5 s by default).
#include <chrono>
#include <stdexcept>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/simple_get.hpp"
#include "http/url.hpp"
#include "telemetry/otlp.hpp"

namespace trafficsim::telemetry {

enum class OtlpProtocol { protobuf, json };
enum class Signal { traces = 0, metrics = 1, logs = 2 };
std::string_view signal_name(Signal s);  // "traces", "metrics", "logs"

// A bad setting (flag or OTEL_* variable): what() names the field, e.g.
// "OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not supported (http/protobuf or http/json)".
struct OtlpConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OtlpOptions {
  // Full URLs of each signal's endpoint; a signal without one is not exported.
  std::optional<http::Url> traces_endpoint;
  std::optional<http::Url> metrics_endpoint;
  std::optional<http::Url> logs_endpoint;
  OtlpProtocol protocol = OtlpProtocol::protobuf;
  http::HeaderList headers;  // OTEL_EXPORTER_OTLP_HEADERS
  std::chrono::milliseconds timeout{10000};
  bool gzip = false;
  Resource resource;
  double trace_ratio = 1.0;  // OTEL_TRACES_SAMPLER(_ARG): what producers should sample

  size_t max_queue = 2048;   // items per signal
  size_t max_batch = 512;    // items per request
  std::chrono::milliseconds batch_delay{1000};
  std::chrono::milliseconds metric_interval{10000};  // OTEL_METRIC_EXPORT_INTERVAL
  std::chrono::milliseconds shutdown_deadline{5000};
  int max_attempts = 5;  // per batch, the first included
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{5000};

  bool any() const { return traces_endpoint || metrics_endpoint || logs_endpoint; }
};

// The environment as name -> value (tests pass their own; the CLI passes the process's).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_environment();

// Options from the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (a base URL: /v1/<signal> is
// appended), OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT (used as given), _PROTOCOL
// (http/protobuf, http/json), _HEADERS (k=v,k=v, values percent-decoded), _TIMEOUT (ms),
// _COMPRESSION (gzip, none), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES (k=v,...),
// OTEL_TRACES_SAMPLER (always_on, always_off, traceidratio, parentbased_*) with _ARG,
// OTEL_METRIC_EXPORT_INTERVAL (ms). `flag_endpoint` (--otlp URL) is a base URL that overrides
// OTEL_EXPORTER_OTLP_ENDPOINT. `default_service` names the service when OTEL_SERVICE_NAME is
// unset. Throws OtlpConfigError naming the variable or flag at fault.
OtlpOptions otlp_options_from(const EnvLookup& env, const std::optional<std::string>& flag_endpoint,
                              std::string_view default_service);

struct SignalStats {
  uint64_t sent = 0;      // items the receiver accepted (rejected ones excluded)
  uint64_t dropped = 0;   // items never sent: queue full, or still queued past the shutdown
  uint64_t failed = 0;    // items in requests that failed for good, plus rejected items
  uint64_t retried = 0;   // requests retried
  uint64_t rejected = 0;  // items a partial success rejected (also counted in failed)
  uint64_t requests = 0;  // requests that ended (success or for good)
  std::string last_error;
};

class OtlpExporter {
 public:
  // Starts the exporter's thread. `collect_metrics` (may be empty) is called on that thread at
  // every metric interval and at shutdown.
  explicit OtlpExporter(OtlpOptions options,
                        std::function<std::vector<MetricData>()> collect_metrics = {});
  ~OtlpExporter();  // shutdown()
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queue one item and return at once. False when the signal's queue is full or the exporter is
  // shutting down (counted as dropped), or when the signal is not exported (not counted).
  bool add_span(Span span);
  bool add_log(LogRecord log);
  // Queue many spans at once (one lock): returns how many were taken.
  size_t add_spans(std::vector<Span>& spans);

  // Sets (or, with an empty function, clears) what metrics are collected from. When this returns,
  // no call of the previous source is running: an owner clears it before it goes away.
  void set_metrics_source(std::function<std::vector<MetricData>()> collect_metrics);

  // Exports what is queued and the final metrics, then stops the thread; at most
  // options.shutdown_deadline. What is still queued then counts as dropped. Idempotent.
  void shutdown();

  SignalStats stats(Signal signal) const;
  size_t queued(Signal signal) const;  // items waiting (spans, logs; 0 for metrics)
  const OtlpOptions& options() const;
  bool exports(Signal signal) const;

  // Registers trafficsim_otlp_items_total{signal,outcome} (sent, dropped, failed, retried) and
  // trafficsim_otlp_queue_items{signal} on a registry, read at each scrape.
  void register_metrics(Registry& registry);

  // {"traces": {"sent":..,"dropped":..,"failed":..,"retried":..}, "metrics": {...}, "logs": {...}}
  // for the signals that are exported (run reports' "export").
  boost::json::object stats_json() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace trafficsim::telemetry
