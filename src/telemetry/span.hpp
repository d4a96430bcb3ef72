#pragma once
// A finished span as this process records it, its OTLP-JSON form (opentelemetry-proto "JSON
// Protobuf Encoding": hex ids, integer enums, 64-bit integers as decimal strings), and a ring of
// the most recent spans for GET /debug/traces.
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/trace_context.hpp"

namespace trafficsim::telemetry {

enum class SpanKind : int { internal = 1, server = 2, client = 3 };  // OTLP integer values
enum class SpanStatusCode : int { unset = 0, ok = 1, error = 2 };

// A time-stamped annotation on a span (e.g. "pool.wait_start" on a database query span).
struct SpanEvent {
  uint64_t time_unix_nano = 0;
  std::string name;
  boost::json::object attributes;
};

struct Span {
  core::TraceId trace_id{};
  core::SpanId span_id{};
  core::SpanId parent_span_id{};  // all-zero for a root span
  std::string name;
  SpanKind kind = SpanKind::server;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  SpanStatusCode status = SpanStatusCode::unset;
  std::string status_message;
  boost::json::object attributes;  // e.g. {"traffic.type":"demo","db.rows_scanned":500000}
  std::vector<SpanEvent> events;
};

// One OTLP span object: traceId, spanId, parentSpanId (omitted for roots), name, kind,
// startTimeUnixNano / endTimeUnixNano (decimal strings), status {code, message}, and attributes
// as [{key, value: AnyValue}]. Attribute values map by JSON kind: string -> stringValue,
// integer -> intValue (decimal string; an unsigned above INT64_MAX becomes doubleValue), double ->
// doubleValue ("NaN", "Infinity", "-Infinity" when not finite, as proto3 JSON writes them), bool ->
// boolValue, array -> arrayValue, object -> kvlistValue, null -> an empty AnyValue.
boost::json::object span_to_otlp_json(const Span& span);

// The most recent spans in memory, oldest overwritten first. Thread-safe (a mutex: one add per
// finished span, reads are rare).
class SpanBuffer {
 public:
  // capacity >= 1, otherwise std::invalid_argument.
  explicit SpanBuffer(size_t capacity = 2048);

  void add(Span span);
  // Up to `limit` spans, newest first (copies).
  std::vector<Span> recent(size_t limit) const;
  // Spans ever added, including those since overwritten.
  uint64_t total_added() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<Span> ring_;  // grows to capacity_, then slot total_added_ % capacity_ is next
  uint64_t total_added_ = 0;
};

}  // namespace trafficsim::telemetry
