#pragma once
// A finished span as this process records it, its OTLP-JSON form (opentelemetry-proto "JSON
// Protobuf Encoding": hex ids, integer enums, 64-bit integers as decimal strings), and a ring of
// the most recent spans for GET /debug/traces.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
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

// A name and attributes many spans share (a load request template's, a route's), with their OTLP
// encodings made once: a span pointing to one costs a reference count instead of a map of its
// own. Immutable once made.
class SpanTemplate {
 public:
  SpanTemplate(std::string name, boost::json::object attributes);
  const std::string& name() const { return name_; }
  const boost::json::object& attributes() const { return attributes_; }
  // The attributes as protobuf Span.attributes fields (field 9, one KeyValue each).
  std::string_view proto_attributes() const { return proto_; }
  // The attributes as OTLP JSON KeyValue objects, comma-separated, without the brackets.
  std::string_view json_attributes() const { return json_; }

 private:
  std::string name_;
  boost::json::object attributes_;
  std::string proto_;
  std::string json_;
};

// One scalar attribute held inline. The key, and a string value, are views: string literals or
// strings that outlive the span (its template's, a static table's).
struct ScalarAttribute {
  std::string_view key;
  std::variant<int64_t, double, bool, std::string_view> value;
};

// A few scalar attributes one span adds to its template's, without allocating.
class ScalarAttributes {
 public:
  static constexpr size_t kCapacity = 6;
  // False (and nothing added) when full.
  bool add(std::string_view key, std::variant<int64_t, double, bool, std::string_view> value) {
    if (size_ == kCapacity) return false;
    items_[size_++] = ScalarAttribute{key, value};
    return true;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const ScalarAttribute* begin() const { return items_.data(); }
  const ScalarAttribute* end() const { return items_.data() + size_; }

 private:
  std::array<ScalarAttribute, kCapacity> items_{};
  uint8_t size_ = 0;
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
  // Shared name and attributes (encoded first), and inline scalars (encoded after the template's,
  // before `attributes`). A span's own attributes should not repeat its template's keys.
  std::shared_ptr<const SpanTemplate> base;
  ScalarAttributes scalars;

  // `name`, or the template's when `name` is empty.
  std::string_view display_name() const {
    return name.empty() && base ? std::string_view(base->name()) : std::string_view(name);
  }
  // Every attribute, the template's, the scalars and the span's own (later ones win on a repeated
  // key), as one object: for readers (the dashboard, /debug/traces), not for the export path.
  boost::json::object all_attributes() const;
  // One attribute by key, looked up in the same order (the span's own first).
  std::optional<boost::json::value> attribute(std::string_view key) const;
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
