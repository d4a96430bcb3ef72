#include "activity/json_lines.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/trace_context.hpp"

namespace trafficsim::activity {

namespace {

void append_time(std::string& out, uint64_t unix_ns) {
  out += '"';
  out += core::format_rfc3339(std::chrono::system_clock::time_point(
                                  std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                      std::chrono::nanoseconds(static_cast<int64_t>(unix_ns)))),
                              9);
  out += '"';
}

void append_hex(std::string& out, std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  out += '"';
}

template <size_t N>
bool all_zero(const std::array<uint8_t, N>& id) {
  for (uint8_t b : id)
    if (b != 0) return false;
  return true;
}

std::string_view span_kind_name(telemetry::SpanKind kind) {
  switch (kind) {
    case telemetry::SpanKind::internal:
      return "internal";
    case telemetry::SpanKind::server:
      return "server";
    case telemetry::SpanKind::client:
      return "client";
  }
  return "internal";
}

std::string_view status_name(telemetry::SpanStatusCode code) {
  switch (code) {
    case telemetry::SpanStatusCode::unset:
      return "unset";
    case telemetry::SpanStatusCode::ok:
      return "ok";
    case telemetry::SpanStatusCode::error:
      return "error";
  }
  return "unset";
}

void key(std::string& out, std::string_view name) {
  if (out.back() != '{') out += ',';
  append_json_string(out, name);
  out += ':';
}

void string_field(std::string& out, std::string_view name, std::string_view value) {
  key(out, name);
  append_json_string(out, value);
}

void object_field(std::string& out, std::string_view name, const boost::json::object& o) {
  key(out, name);
  out += '{';
  for (const auto& kv : o) {
    key(out, kv.key());
    append_json_value(out, kv.value());
  }
  out += '}';
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 15];
          out += kHex[c & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_json_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      fmt::format_to(std::back_inserter(out), "{}", v.get_int64());
      break;
    case boost::json::kind::uint64:
      fmt::format_to(std::back_inserter(out), "{}", v.get_uint64());
      break;
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (std::isfinite(d)) {
        fmt::format_to(std::back_inserter(out), "{}", d);
      } else {
        out += "null";  // JSON has no NaN or infinity
      }
      break;
    }
    case boost::json::kind::string:
      append_json_string(out, v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_value(out, x);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object:
      out += '{';
      for (const auto& kv : v.get_object()) {
        key(out, kv.key());
        append_json_value(out, kv.value());
      }
      out += '}';
      break;
  }
}

void append_span_line(std::string& out, const Activity& a, const telemetry::Span& s) {
  out += '{';
  string_field(out, "type", "span");
  string_field(out, "kind", kind_name(a.kind));
  string_field(out, "level", level_name(a.level));
  string_field(out, "message", a.message);
  key(out, "trace_id");
  append_hex(out, s.trace_id);
  key(out, "span_id");
  append_hex(out, s.span_id);
  if (!all_zero(s.parent_span_id)) {
    key(out, "parent_span_id");
    append_hex(out, s.parent_span_id);
  }
  string_field(out, "name", s.display_name());
  string_field(out, "span_kind", span_kind_name(s.kind));
  string_field(out, "status", status_name(s.status));
  key(out, "start");
  append_time(out, s.start_unix_nano);
  key(out, "end");
  append_time(out, s.end_unix_nano);
  // Whole microseconds by construction: printed exactly, the same in every run.
  const uint64_t us = (s.end_unix_nano - s.start_unix_nano) / 1000;
  key(out, "duration_ms");
  fmt::format_to(std::back_inserter(out), "{}.{:03d}", us / 1000, static_cast<int>(us % 1000));
  if (s.base || !s.scalars.empty()) {
    object_field(out, "attributes", s.all_attributes());
  } else {
    object_field(out, "attributes", s.attributes);
  }
  out += "}\n";
}

void append_log_line(std::string& out, const Activity& a, const telemetry::LogRecord& r) {
  out += '{';
  string_field(out, "type", "log");
  string_field(out, "kind", kind_name(a.kind));
  key(out, "time");
  append_time(out, r.time_unix_nano);
  string_field(out, "level", level_name(r.severity));
  string_field(out, "message", r.body);
  if (!all_zero(r.trace_id)) {
    key(out, "trace_id");
    append_hex(out, r.trace_id);
    key(out, "span_id");
    append_hex(out, r.span_id);
  }
  object_field(out, "fields", r.attributes);
  out += "}\n";
}

}  // namespace trafficsim::activity
