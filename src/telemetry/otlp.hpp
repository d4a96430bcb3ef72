#pragma once
// OTLP (OpenTelemetry Protocol) payloads for traces, metrics and logs, in the two HTTP encodings:
//
// - protobuf (`application/x-protobuf`, the SDKs' default): the wire format of the
//   opentelemetry-proto messages ExportTraceServiceRequest, ExportMetricsServiceRequest and
//   ExportLogsServiceRequest, written here from the specification (no generated code): varints,
//   fixed64 timestamps, length-delimited strings and sub-messages, packed repeated numbers;
// - JSON (`application/json`, "JSON Protobuf Encoding"): lowerCamelCase keys, hex trace and span
//   ids, enums as integers, 64-bit integers as decimal strings, NaN / Infinity as strings.
//
// Both encoders append to a caller's buffer (keep it and clear() it between batches: no
// allocation in steady state once it has grown) and write the same information: one resource,
// one instrumentation scope, the items in the order given.
#include <boost/json/object.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/trace_context.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::telemetry {

class Registry;

// The process that produced the data: service.name and friends (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES), plus the instrumentation scope every item is reported under.
struct Resource {
  boost::json::object attributes;  // {"service.name": "trafficsim-target", ...}
  std::string scope_name = "trafficsim";
  std::string scope_version;
};

// OTLP SeverityNumber values for the levels we log at.
enum class Severity : int { trace = 1, debug = 5, info = 9, warn = 13, error = 17, fatal = 21 };
// "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL".
std::string_view severity_text(Severity s);

struct LogRecord {
  uint64_t time_unix_nano = 0;
  uint64_t observed_unix_nano = 0;  // 0: the same as time_unix_nano
  Severity severity = Severity::info;
  std::string body;                 // the message, a string AnyValue
  boost::json::object attributes;   // structured fields
  core::TraceId trace_id{};         // all-zero: not tied to a span
  core::SpanId span_id{};
};

// A metric at one collection: a counter as a cumulative monotonic sum, a gauge, or a histogram
// with explicit bounds (cumulative temporality: each point counts since start_unix_nano).
enum class MetricKind { gauge, sum, histogram };

struct NumberPoint {
  boost::json::object attributes;
  double value = 0;
};

struct HistogramPoint {
  boost::json::object attributes;
  uint64_t count = 0;
  double sum = 0;
  std::vector<uint64_t> bucket_counts;  // per bucket, not cumulative: bounds.size() + 1 entries
  std::vector<double> bounds;           // explicit upper bounds, strictly increasing
};

struct MetricData {
  std::string name;
  std::string description;
  std::string unit;
  MetricKind kind = MetricKind::gauge;
  bool monotonic = true;  // sums only
  uint64_t start_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  std::vector<NumberPoint> numbers;        // gauge, sum
  std::vector<HistogramPoint> histograms;  // histogram
};

// Every family of a Prometheus registry as OTLP metrics at one collection: counters become
// monotonic cumulative sums (the `_total` suffix dropped from the name, as the OpenTelemetry
// Prometheus conventions do), gauges gauges, histograms histograms with the registry's bounds;
// label pairs become point attributes. start_unix_nano is when the registry began counting.
std::vector<MetricData> metrics_from_registry(const Registry& registry, uint64_t start_unix_nano,
                                              uint64_t now_unix_nano);

// ----- protobuf -----
void encode_traces_proto(std::string& out, const Resource& resource, std::span<const Span> spans);
void encode_metrics_proto(std::string& out, const Resource& resource,
                          std::span<const MetricData> metrics);
void encode_logs_proto(std::string& out, const Resource& resource,
                       std::span<const LogRecord> logs);

// ----- JSON -----
void encode_traces_json(std::string& out, const Resource& resource, std::span<const Span> spans);
void encode_metrics_json(std::string& out, const Resource& resource,
                         std::span<const MetricData> metrics);
void encode_logs_json(std::string& out, const Resource& resource,
                      std::span<const LogRecord> logs);

// One span / one log record as a JSON object text (the OTLP JSON form of the item alone), for
// JSON-lines sinks and the dashboard.
void append_span_json(std::string& out, const Span& span);
void append_log_json(std::string& out, const LogRecord& log);

// An Export*ServiceResponse's partial_success: how many items the receiver rejected and why.
// Reads the protobuf or the JSON form (by `json`); an empty or unreadable body reads as nothing
// rejected (the export itself succeeded).
struct PartialSuccess {
  int64_t rejected = 0;
  std::string error_message;
};
PartialSuccess parse_partial_success(std::string_view body, bool json);

}  // namespace trafficsim::telemetry
