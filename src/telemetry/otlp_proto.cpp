// The protobuf wire encoding of the OTLP export requests (opentelemetry-proto: collector/*/v1,
// trace/v1, metrics/v1, logs/v1, common/v1, resource/v1). Field numbers are named where they are
// written; defaults are skipped as proto3 does, except for oneof members and `optional` fields.
#include <boost/json/value.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <variant>

#include "telemetry/otlp.hpp"
#include "telemetry/otlp_wire.hpp"

namespace trafficsim::telemetry {

namespace wire {

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII runs, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t chunk;
      std::memcpy(&chunk, p + i, 8);
      if (chunk & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

void append_utf8_sanitized(std::string& out, std::string_view s) {
  if (valid_utf8(s)) {
    out.append(s);
    return;
  }
  // Slow path: copy valid sequences, replace each offending byte.
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 1;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    if (c < 0x80) {
      out.push_back(s[i]);
      ++i;
    } else if (i + len <= s.size() && (c & 0xC0) == 0xC0 && valid_utf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
}

void ProtoWriter::string_always(uint32_t field, std::string_view s) {
  if (valid_utf8(s)) {
    tag(field, kLen);
    varint(s.size());
    out_.append(s);
    return;
  }
  std::string clean;
  append_utf8_sanitized(clean, s);
  tag(field, kLen);
  varint(clean.size());
  out_.append(clean);
}

}  // namespace wire

std::string_view severity_text(Severity s) {
  switch (s) {
    case Severity::trace:
      return "TRACE";
    case Severity::debug:
      return "DEBUG";
    case Severity::info:
      return "INFO";
    case Severity::warn:
      return "WARN";
    case Severity::error:
      return "ERROR";
    case Severity::fatal:
      return "FATAL";
  }
  return "INFO";
}

namespace {

using wire::ProtoWriter;
namespace json = boost::json;

void any_value(ProtoWriter& w, const json::value& v);

// common.v1.KeyValue: key = 1, value = 2 (AnyValue).
void key_value(ProtoWriter& w, uint32_t field, std::string_view key, const json::value& value) {
  const size_t m = w.begin(field);
  w.string_field(1, key);
  const size_t v = w.begin(2);
  any_value(w, value);
  w.end(v);
  w.end(m);
}

void attributes(ProtoWriter& w, uint32_t field, const json::object& attrs) {
  for (const auto& [key, value] : attrs) key_value(w, field, key, value);
}

void scalar_key_value(ProtoWriter& w, uint32_t field, const ScalarAttribute& a) {
  const size_t m = w.begin(field);
  w.string_field(1, a.key);
  const size_t v = w.begin(2);
  if (const auto* i = std::get_if<int64_t>(&a.value)) {
    w.int_always(3, *i);
  } else if (const auto* d = std::get_if<double>(&a.value)) {
    w.double_always(4, *d);
  } else if (const auto* b = std::get_if<bool>(&a.value)) {
    w.bool_always(2, *b);
  } else {
    w.string_always(1, std::get<std::string_view>(a.value));
  }
  w.end(v);
  w.end(m);
}

// common.v1.AnyValue: string_value = 1, bool_value = 2, int_value = 3, double_value = 4,
// array_value = 5 (ArrayValue: values = 1), kvlist_value = 6 (KeyValueList: values = 1).
void any_value(ProtoWriter& w, const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      w.string_always(1, v.get_string());
      break;
    case json::kind::bool_:
      w.bool_always(2, v.get_bool());
      break;
    case json::kind::int64:
      w.int_always(3, v.get_int64());
      break;
    case json::kind::uint64: {
      const uint64_t u = v.get_uint64();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        w.double_always(4, static_cast<double>(u));
      } else {
        w.int_always(3, static_cast<int64_t>(u));
      }
      break;
    }
    case json::kind::double_:
      w.double_always(4, v.get_double());
      break;
    case json::kind::array: {
      const size_t m = w.begin(5);
      for (const auto& element : v.get_array()) {
        const size_t e = w.begin(1);
        any_value(w, element);
        w.end(e);
      }
      w.end(m);
      break;
    }
    case json::kind::object: {
      const size_t m = w.begin(6);
      attributes(w, 1, v.get_object());
      w.end(m);
      break;
    }
    case json::kind::null:
      break;  // an empty AnyValue
  }
}

// resource.v1.Resource: attributes = 1. common.v1.InstrumentationScope: name = 1, version = 2.
void resource_and_scope_open(ProtoWriter& w, const Resource& resource, size_t* scope_mark,
                             uint32_t scope_list_field) {
  const size_t r = w.begin(1);
  attributes(w, 1, resource.attributes);
  w.end(r);
  *scope_mark = w.begin(scope_list_field);
  const size_t s = w.begin(1);
  w.string_field(1, resource.scope_name);
  w.string_field(2, resource.scope_version);
  w.end(s);
}

// trace.v1.Span.
void span_message(ProtoWriter& w, const Span& span) {
  w.bytes_field(1, span.trace_id);
  w.bytes_field(2, span.span_id);
  if (!wire::all_zero(span.parent_span_id)) w.bytes_field(4, span.parent_span_id);
  w.string_field(5, span.display_name());
  w.uint_field(6, static_cast<uint64_t>(span.kind));
  w.fixed64_always(7, span.start_unix_nano);
  w.fixed64_always(8, span.end_unix_nano);
  if (span.base) w.out().append(span.base->proto_attributes());
  for (const auto& a : span.scalars) scalar_key_value(w, 9, a);
  attributes(w, 9, span.attributes);
  // Span.Event: time_unix_nano = 1, name = 2, attributes = 3.
  for (const auto& event : span.events) {
    const size_t e = w.begin(11);
    w.fixed64_field(1, event.time_unix_nano);
    w.string_field(2, event.name);
    attributes(w, 3, event.attributes);
    w.end(e);
  }
  // Status: message = 2, code = 3.
  if (span.status != SpanStatusCode::unset || !span.status_message.empty()) {
    const size_t s = w.begin(15);
    w.string_field(2, span.status_message);
    w.uint_field(3, static_cast<uint64_t>(span.status));
    w.end(s);
  }
}

// NumberDataPoint: start = 2, time = 3 (fixed64), as_double = 4, attributes = 7.
void number_point(ProtoWriter& w, const MetricData& metric, const NumberPoint& p) {
  const size_t m = w.begin(1);
  w.fixed64_field(2, metric.start_unix_nano);
  w.fixed64_always(3, metric.time_unix_nano);
  w.double_always(4, p.value);
  attributes(w, 7, p.attributes);
  w.end(m);
}

// HistogramDataPoint: start = 2, time = 3, count = 4 (fixed64), sum = 5 (optional double),
// bucket_counts = 6 (packed fixed64), explicit_bounds = 7 (packed double), attributes = 9.
void histogram_point(ProtoWriter& w, const MetricData& metric, const HistogramPoint& p) {
  const size_t m = w.begin(1);
  w.fixed64_field(2, metric.start_unix_nano);
  w.fixed64_always(3, metric.time_unix_nano);
  w.fixed64_always(4, p.count);
  w.double_always(5, p.sum);
  if (!p.bucket_counts.empty()) {
    w.tag(6, wire::kLen);
    w.varint(p.bucket_counts.size() * 8);
    for (uint64_t c : p.bucket_counts) w.raw64(c);
  }
  if (!p.bounds.empty()) {
    w.tag(7, wire::kLen);
    w.varint(p.bounds.size() * 8);
    for (double b : p.bounds) {
      uint64_t bits;
      std::memcpy(&bits, &b, sizeof bits);
      w.raw64(bits);
    }
  }
  attributes(w, 9, p.attributes);
  w.end(m);
}

// Metric: name = 1, description = 2, unit = 3, gauge = 5, sum = 7, histogram = 9.
// Sum: data_points = 1, aggregation_temporality = 2 (CUMULATIVE = 2), is_monotonic = 3.
// Histogram: data_points = 1, aggregation_temporality = 2.
void metric_message(ProtoWriter& w, const MetricData& metric) {
  w.string_field(1, metric.name);
  w.string_field(2, metric.description);
  w.string_field(3, metric.unit);
  switch (metric.kind) {
    case MetricKind::gauge: {
      const size_t g = w.begin(5);
      for (const auto& p : metric.numbers) number_point(w, metric, p);
      w.end(g);
      break;
    }
    case MetricKind::sum: {
      const size_t s = w.begin(7);
      for (const auto& p : metric.numbers) number_point(w, metric, p);
      w.uint_field(2, 2);
      if (metric.monotonic) w.bool_always(3, true);
      w.end(s);
      break;
    }
    case MetricKind::histogram: {
      const size_t h = w.begin(9);
      for (const auto& p : metric.histograms) histogram_point(w, metric, p);
      w.uint_field(2, 2);
      w.end(h);
      break;
    }
  }
}

// LogRecord: time = 1 (fixed64), severity_number = 2, severity_text = 3, body = 5 (AnyValue),
// attributes = 6, trace_id = 9, span_id = 10, observed_time = 11 (fixed64).
void log_message(ProtoWriter& w, const LogRecord& log) {
  w.fixed64_field(1, log.time_unix_nano);
  w.uint_field(2, static_cast<uint64_t>(log.severity));
  w.string_field(3, severity_text(log.severity));
  const size_t b = w.begin(5);
  w.string_always(1, log.body);
  w.end(b);
  attributes(w, 6, log.attributes);
  if (!wire::all_zero(log.trace_id)) w.bytes_field(9, log.trace_id);
  if (!wire::all_zero(log.span_id)) w.bytes_field(10, log.span_id);
  w.fixed64_field(11, log.observed_unix_nano != 0 ? log.observed_unix_nano : log.time_unix_nano);
}

}  // namespace

namespace wire {

void attributes_proto(std::string& out, uint32_t field, const json::object& attrs) {
  ProtoWriter w(out);
  attributes(w, field, attrs);
}

void scalar_proto(std::string& out, uint32_t field, const ScalarAttribute& a) {
  ProtoWriter w(out);
  scalar_key_value(w, field, a);
}

}  // namespace wire

namespace {

// The envelope every export request shares: Export*ServiceRequest field 1 = Resource{Spans,
// Metrics,Logs} (resource = 1, scope_{spans,metrics,logs} = 2); Scope* (scope = 1, items = 2).
template <class T, class Put>
void encode_request_proto(std::string& out, const Resource& resource, std::span<const T> items,
                          Put put) {
  ProtoWriter w(out);
  const size_t outer = w.begin(1);
  size_t scope = 0;
  resource_and_scope_open(w, resource, &scope, 2);
  for (const auto& item : items) {
    const size_t m = w.begin(2);
    put(w, item);
    w.end(m);
  }
  w.end(scope);
  w.end(outer);
}

}  // namespace

void encode_traces_proto(std::string& out, const Resource& resource, std::span<const Span> spans) {
  encode_request_proto(out, resource, spans, span_message);
}

void encode_metrics_proto(std::string& out, const Resource& resource,
                          std::span<const MetricData> metrics) {
  encode_request_proto(out, resource, metrics, metric_message);
}

void encode_logs_proto(std::string& out, const Resource& resource,
                       std::span<const LogRecord> logs) {
  encode_request_proto(out, resource, logs, log_message);
}

}  // namespace trafficsim::telemetry
