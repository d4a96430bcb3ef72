// The OTLP JSON encoding ("JSON Protobuf Encoding" of opentelemetry-proto): lowerCamelCase keys,
// trace and span ids as hex, enums as integers, 64-bit integers as decimal strings, non-finite
// doubles as "NaN" / "Infinity" / "-Infinity". Written as text directly (no DOM per item).
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <variant>

#include "telemetry/otlp.hpp"
#include "telemetry/otlp_wire.hpp"

namespace trafficsim::telemetry {

namespace {

namespace json = boost::json;

void put_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;
  auto flush = [&](size_t i) {
    if (i > run) wire::append_utf8_sanitized(out, s.substr(run, i - run));
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    flush(i);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
      }
    }
  }
  flush(s.size());
  out.push_back('"');
}

void put_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void put_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// A 64-bit integer as proto3 JSON writes it: a decimal string.
void put_u64_string(std::string& out, uint64_t v) {
  out.push_back('"');
  put_uint(out, v);
  out.push_back('"');
}

void put_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("\"NaN\"");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

void put_hex(std::string& out, std::span<const uint8_t> id) {
  out.push_back('"');
  wire::append_hex(out, id);
  out.push_back('"');
}

void put_any(std::string& out, const json::value& v);

void put_attribute_items(std::string& out, const json::object& attrs, bool& first) {
  for (const auto& [key, value] : attrs) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"key\":");
    put_string(out, key);
    out.append(",\"value\":");
    put_any(out, value);
    out.push_back('}');
  }
}

void put_attributes(std::string& out, const json::object& attrs) {
  out.push_back('[');
  bool first = true;
  put_attribute_items(out, attrs, first);
  out.push_back(']');
}

void put_scalar_item(std::string& out, const ScalarAttribute& a, bool& first) {
  if (!first) out.push_back(',');
  first = false;
  out.append("{\"key\":");
  put_string(out, a.key);
  if (const auto* i = std::get_if<int64_t>(&a.value)) {
    out.append(",\"value\":{\"intValue\":\"");
    put_int(out, *i);
    out.append("\"}}");
  } else if (const auto* d = std::get_if<double>(&a.value)) {
    out.append(",\"value\":{\"doubleValue\":");
    put_double(out, *d);
    out.append("}}");
  } else if (const auto* b = std::get_if<bool>(&a.value)) {
    out.append(*b ? ",\"value\":{\"boolValue\":true}}" : ",\"value\":{\"boolValue\":false}}");
  } else {
    out.append(",\"value\":{\"stringValue\":");
    put_string(out, std::get<std::string_view>(a.value));
    out.append("}}");
  }
}

// A span's attributes: its template's (encoded once), its scalars, its own.
void put_span_attributes(std::string& out, const Span& span) {
  out.push_back('[');
  bool first = true;
  if (span.base && !span.base->json_attributes().empty()) {
    out.append(span.base->json_attributes());
    first = false;
  }
  for (const auto& a : span.scalars) put_scalar_item(out, a, first);
  put_attribute_items(out, span.attributes, first);
  out.push_back(']');
}

void put_any(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      out.append("{\"stringValue\":");
      put_string(out, v.get_string());
      out.push_back('}');
      return;
    case json::kind::bool_:
      out.append(v.get_bool() ? "{\"boolValue\":true}" : "{\"boolValue\":false}");
      return;
    case json::kind::int64:
      out.append("{\"intValue\":\"");
      put_int(out, v.get_int64());
      out.append("\"}");
      return;
    case json::kind::uint64: {
      const uint64_t u = v.get_uint64();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        out.append("{\"doubleValue\":");
        put_double(out, static_cast<double>(u));
        out.push_back('}');
      } else {
        out.append("{\"intValue\":\"");
        put_uint(out, u);
        out.append("\"}");
      }
      return;
    }
    case json::kind::double_:
      out.append("{\"doubleValue\":");
      put_double(out, v.get_double());
      out.push_back('}');
      return;
    case json::kind::array: {
      out.append("{\"arrayValue\":{\"values\":[");
      bool first = true;
      for (const auto& element : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        put_any(out, element);
      }
      out.append("]}}");
      return;
    }
    case json::kind::object:
      out.append("{\"kvlistValue\":{\"values\":");
      put_attributes(out, v.get_object());
      out.append("}}");
      return;
    case json::kind::null:
      out.append("{}");
      return;
  }
}

void put_resource_scope(std::string& out, const Resource& resource) {
  out.append("{\"resource\":{\"attributes\":");
  put_attributes(out, resource.attributes);
  out.append("},");
}

void put_scope(std::string& out, const Resource& resource) {
  out.append("\"scope\":{\"name\":");
  put_string(out, resource.scope_name);
  if (!resource.scope_version.empty()) {
    out.append(",\"version\":");
    put_string(out, resource.scope_version);
  }
  out.push_back('}');
}

void put_number_point(std::string& out, const MetricData& metric, const NumberPoint& p) {
  out.append("{\"attributes\":");
  put_attributes(out, p.attributes);
  if (metric.start_unix_nano != 0) {
    out.append(",\"startTimeUnixNano\":");
    put_u64_string(out, metric.start_unix_nano);
  }
  out.append(",\"timeUnixNano\":");
  put_u64_string(out, metric.time_unix_nano);
  out.append(",\"asDouble\":");
  put_double(out, p.value);
  out.push_back('}');
}

void put_histogram_point(std::string& out, const MetricData& metric, const HistogramPoint& p) {
  out.append("{\"attributes\":");
  put_attributes(out, p.attributes);
  if (metric.start_unix_nano != 0) {
    out.append(",\"startTimeUnixNano\":");
    put_u64_string(out, metric.start_unix_nano);
  }
  out.append(",\"timeUnixNano\":");
  put_u64_string(out, metric.time_unix_nano);
  out.append(",\"count\":");
  put_u64_string(out, p.count);
  out.append(",\"sum\":");
  put_double(out, p.sum);
  out.append(",\"bucketCounts\":[");
  for (size_t i = 0; i < p.bucket_counts.size(); ++i) {
    if (i) out.push_back(',');
    put_u64_string(out, p.bucket_counts[i]);
  }
  out.append("],\"explicitBounds\":[");
  for (size_t i = 0; i < p.bounds.size(); ++i) {
    if (i) out.push_back(',');
    put_double(out, p.bounds[i]);
  }
  out.append("]}");
}

void put_metric(std::string& out, const MetricData& metric) {
  out.append("{\"name\":");
  put_string(out, metric.name);
  if (!metric.description.empty()) {
    out.append(",\"description\":");
    put_string(out, metric.description);
  }
  if (!metric.unit.empty()) {
    out.append(",\"unit\":");
    put_string(out, metric.unit);
  }
  switch (metric.kind) {
    case MetricKind::gauge:
    case MetricKind::sum: {
      out.append(metric.kind == MetricKind::gauge ? ",\"gauge\":{\"dataPoints\":["
                                                  : ",\"sum\":{\"dataPoints\":[");
      for (size_t i = 0; i < metric.numbers.size(); ++i) {
        if (i) out.push_back(',');
        put_number_point(out, metric, metric.numbers[i]);
      }
      out.push_back(']');
      if (metric.kind == MetricKind::sum) {
        out.append(",\"aggregationTemporality\":2,\"isMonotonic\":");
        out.append(metric.monotonic ? "true" : "false");
      }
      out.push_back('}');
      break;
    }
    case MetricKind::histogram:
      out.append(",\"histogram\":{\"dataPoints\":[");
      for (size_t i = 0; i < metric.histograms.size(); ++i) {
        if (i) out.push_back(',');
        put_histogram_point(out, metric, metric.histograms[i]);
      }
      out.append("],\"aggregationTemporality\":2}");
      break;
  }
  out.push_back('}');
}

}  // namespace

namespace wire {

void attributes_json_items(std::string& out, const json::object& attrs, bool& first) {
  put_attribute_items(out, attrs, first);
}

void scalar_json_item(std::string& out, const ScalarAttribute& a, bool& first) {
  put_scalar_item(out, a, first);
}

}  // namespace wire

void append_span_json(std::string& out, const Span& span) {
  out.append("{\"traceId\":");
  put_hex(out, span.trace_id);
  out.append(",\"spanId\":");
  put_hex(out, span.span_id);
  if (!wire::all_zero(span.parent_span_id)) {
    out.append(",\"parentSpanId\":");
    put_hex(out, span.parent_span_id);
  }
  out.append(",\"name\":");
  put_string(out, span.display_name());
  out.append(",\"kind\":");
  put_int(out, static_cast<int>(span.kind));
  out.append(",\"startTimeUnixNano\":");
  put_u64_string(out, span.start_unix_nano);
  out.append(",\"endTimeUnixNano\":");
  put_u64_string(out, span.end_unix_nano);
  out.append(",\"attributes\":");
  put_span_attributes(out, span);
  if (!span.events.empty()) {
    out.append(",\"events\":[");
    for (size_t i = 0; i < span.events.size(); ++i) {
      const auto& e = span.events[i];
      if (i) out.push_back(',');
      out.append("{\"timeUnixNano\":");
      put_u64_string(out, e.time_unix_nano);
      out.append(",\"name\":");
      put_string(out, e.name);
      out.append(",\"attributes\":");
      put_attributes(out, e.attributes);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.append(",\"status\":{");
  if (!span.status_message.empty()) {
    out.append("\"message\":");
    put_string(out, span.status_message);
    out.push_back(',');
  }
  out.append("\"code\":");
  put_int(out, static_cast<int>(span.status));
  out.append("}}");
}

void append_log_json(std::string& out, const LogRecord& log) {
  out.append("{\"timeUnixNano\":");
  put_u64_string(out, log.time_unix_nano);
  out.append(",\"observedTimeUnixNano\":");
  put_u64_string(out, log.observed_unix_nano != 0 ? log.observed_unix_nano : log.time_unix_nano);
  out.append(",\"severityNumber\":");
  put_int(out, static_cast<int>(log.severity));
  out.append(",\"severityText\":");
  put_string(out, severity_text(log.severity));
  out.append(",\"body\":{\"stringValue\":");
  put_string(out, log.body);
  out.append("},\"attributes\":");
  put_attributes(out, log.attributes);
  if (!wire::all_zero(log.trace_id)) {
    out.append(",\"traceId\":");
    put_hex(out, log.trace_id);
  }
  if (!wire::all_zero(log.span_id)) {
    out.append(",\"spanId\":");
    put_hex(out, log.span_id);
  }
  out.push_back('}');
}

namespace {

// The envelope every export request shares: one resource, one scope, the items.
template <class T, class Put>
void encode_request_json(std::string& out, const Resource& resource, std::string_view resource_key,
                         std::string_view scope_key, std::string_view items_key,
                         std::span<const T> items, Put put) {
  out.append("{\"");
  out.append(resource_key);
  out.append("\":[");
  put_resource_scope(out, resource);
  out.push_back('"');
  out.append(scope_key);
  out.append("\":[{");
  put_scope(out, resource);
  out.append(",\"");
  out.append(items_key);
  out.append("\":[");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    put(out, items[i]);
  }
  out.append("]}]}]}");
}

}  // namespace

void encode_traces_json(std::string& out, const Resource& resource, std::span<const Span> spans) {
  encode_request_json(out, resource, "resourceSpans", "scopeSpans", "spans", spans,
                      append_span_json);
}

void encode_metrics_json(std::string& out, const Resource& resource,
                         std::span<const MetricData> metrics) {
  encode_request_json(out, resource, "resourceMetrics", "scopeMetrics", "metrics", metrics,
                      put_metric);
}

void encode_logs_json(std::string& out, const Resource& resource,
                      std::span<const LogRecord> logs) {
  encode_request_json(out, resource, "resourceLogs", "scopeLogs", "logRecords", logs,
                      append_log_json);
}

namespace {

// Reads a varint at p (advancing it); false when it runs past the end.
bool read_varint(const unsigned char*& p, const unsigned char* end, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const unsigned char b = *p++;
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Skips one field's value of the given wire type; false when malformed.
bool skip_field(const unsigned char*& p, const unsigned char* end, uint32_t type) {
  uint64_t v = 0;
  switch (type) {
    case 0:
      return read_varint(p, end, &v);
    case 1:
      if (end - p < 8) return false;
      p += 8;
      return true;
    case 2:
      if (!read_varint(p, end, &v) || v > static_cast<uint64_t>(end - p)) return false;
      p += v;
      return true;
    case 5:
      if (end - p < 4) return false;
      p += 4;
      return true;
    default:
      return false;
  }
}

PartialSuccess partial_from_proto(std::string_view body) {
  PartialSuccess out;
  auto p = reinterpret_cast<const unsigned char*>(body.data());
  const auto* end = p + body.size();
  while (p < end) {
    uint64_t key = 0;
    if (!read_varint(p, end, &key)) return {};
    const auto field = static_cast<uint32_t>(key >> 3);
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1 && type == 2) {
      uint64_t len = 0;
      if (!read_varint(p, end, &len) || len > static_cast<uint64_t>(end - p)) return {};
      const unsigned char* q = p;
      const unsigned char* qend = p + len;
      p = qend;
      while (q < qend) {
        uint64_t k = 0;
        if (!read_varint(q, qend, &k)) return {};
        if ((k >> 3) == 1 && (k & 7) == 0) {
          uint64_t v = 0;
          if (!read_varint(q, qend, &v)) return {};
          // int64 on the wire: above INT64_MAX is a negative count, which means nothing.
          out.rejected = v > static_cast<uint64_t>(INT64_MAX) ? 0 : static_cast<int64_t>(v);
        } else if ((k >> 3) == 2 && (k & 7) == 2) {
          uint64_t len2 = 0;
          if (!read_varint(q, qend, &len2) || len2 > static_cast<uint64_t>(qend - q)) return {};
          out.error_message.assign(reinterpret_cast<const char*>(q), len2);
          q += len2;
        } else if (!skip_field(q, qend, static_cast<uint32_t>(k & 7))) {
          return {};
        }
      }
    } else if (!skip_field(p, end, type)) {
      return {};
    }
  }
  return out;
}

PartialSuccess partial_from_json(std::string_view body) {
  PartialSuccess out;
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return out;
  const auto* partial = doc.get_object().if_contains("partialSuccess");
  if (partial == nullptr || !partial->is_object()) return out;
  for (const auto& [key, value] : partial->get_object()) {
    if (key.starts_with("rejected")) {
      // A count: negative reads as nothing rejected, beyond int64 as the most there can be (the
      // exporter bounds it by the batch). The fuzzer found 1.1e19 read back as negative.
      if (value.is_int64()) {
        out.rejected = std::max<int64_t>(0, value.get_int64());
      } else if (value.is_uint64()) {
        out.rejected = static_cast<int64_t>(
            std::min<uint64_t>(value.get_uint64(), static_cast<uint64_t>(INT64_MAX)));
      } else if (value.is_string()) {
        int64_t v = 0;
        const auto& s = value.get_string();
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec == std::errc() && r.ptr == s.data() + s.size()) out.rejected = std::max<int64_t>(0, v);
      }
    } else if (key == "errorMessage" && value.is_string()) {
      out.error_message = std::string(value.get_string());
    }
  }
  return out;
}

}  // namespace

PartialSuccess parse_partial_success(std::string_view body, bool json_body) {
  if (body.empty()) return {};
  return json_body ? partial_from_json(body) : partial_from_proto(body);
}

}  // namespace trafficsim::telemetry
