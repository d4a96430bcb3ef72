#include "telemetry/span.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <type_traits>
#include <variant>

#include "telemetry/otlp_wire.hpp"

namespace trafficsim::telemetry {

namespace {

namespace json = boost::json;

json::object any_value(const json::value& value);

json::array key_values(const json::object& object) {
  json::array out;
  out.reserve(object.size());
  for (const auto& [key, value] : object) {
    out.push_back(json::object{{"key", key}, {"value", any_value(value)}});
  }
  return out;
}

json::object double_value(double v) {
  // JSON has no NaN or infinities; proto3 JSON spells them as strings.
  if (std::isnan(v)) return {{"doubleValue", "NaN"}};
  if (std::isinf(v)) return {{"doubleValue", v > 0 ? "Infinity" : "-Infinity"}};
  return {{"doubleValue", v}};
}

json::object any_value(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return {{"stringValue", value.get_string()}};
    case json::kind::int64:
      // OTLP int64 is a string in JSON: JavaScript readers would lose digits above 2^53.
      return {{"intValue", std::to_string(value.get_int64())}};
    case json::kind::uint64: {
      const uint64_t v = value.get_uint64();
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return double_value(static_cast<double>(v));
      }
      return {{"intValue", std::to_string(v)}};
    }
    case json::kind::double_:
      return double_value(value.get_double());
    case json::kind::bool_:
      return {{"boolValue", value.get_bool()}};
    case json::kind::array: {
      json::array values;
      for (const auto& element : value.get_array()) values.push_back(any_value(element));
      return {{"arrayValue", json::object{{"values", std::move(values)}}}};
    }
    case json::kind::object:
      return {{"kvlistValue", json::object{{"values", key_values(value.get_object())}}}};
    case json::kind::null:
      break;
  }
  return {};
}

bool is_zero(const core::SpanId& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

SpanTemplate::SpanTemplate(std::string name, boost::json::object attributes)
    : name_(std::move(name)), attributes_(std::move(attributes)) {
  wire::attributes_proto(proto_, 9, attributes_);
  bool first = true;
  wire::attributes_json_items(json_, attributes_, first);
}

namespace {

json::value scalar_value(const ScalarAttribute& a) {
  return std::visit(
      [](const auto& v) -> json::value {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string_view>) {
          return json::value(json::string(v));
        } else {
          return json::value(v);
        }
      },
      a.value);
}

}  // namespace

boost::json::object Span::all_attributes() const {
  json::object out;
  if (base) out = base->attributes();
  for (const auto& a : scalars) out[a.key] = scalar_value(a);
  for (const auto& [k, v] : attributes) out[k] = v;
  return out;
}

std::optional<boost::json::value> Span::attribute(std::string_view key) const {
  if (const auto* v = attributes.if_contains(key)) return *v;
  // The last scalar with the key wins, as in all_attributes().
  for (auto it = scalars.end(); it != scalars.begin();) {
    --it;
    if (it->key == key) return scalar_value(*it);
  }
  if (base) {
    if (const auto* v = base->attributes().if_contains(key)) return *v;
  }
  return std::nullopt;
}

boost::json::object span_to_otlp_json(const Span& span) {
  json::object out;
  out["traceId"] = core::to_hex(span.trace_id);
  out["spanId"] = core::to_hex(span.span_id);
  if (!is_zero(span.parent_span_id)) out["parentSpanId"] = core::to_hex(span.parent_span_id);
  out["name"] = span.display_name();
  out["kind"] = static_cast<int>(span.kind);
  out["startTimeUnixNano"] = std::to_string(span.start_unix_nano);
  out["endTimeUnixNano"] = std::to_string(span.end_unix_nano);
  out["attributes"] = key_values(span.base || !span.scalars.empty() ? span.all_attributes()
                                                                      : span.attributes);
  out["status"] =
      json::object{{"code", static_cast<int>(span.status)}, {"message", span.status_message}};
  return out;
}

SpanBuffer::SpanBuffer(size_t capacity) : capacity_(capacity) {
  if (capacity == 0) throw std::invalid_argument("SpanBuffer capacity must be at least 1");
}

void SpanBuffer::add(Span span) {
  std::lock_guard lock(mutex_);
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(span));
  } else {
    ring_[total_added_ % capacity_] = std::move(span);
  }
  ++total_added_;
}

std::vector<Span> SpanBuffer::recent(size_t limit) const {
  std::lock_guard lock(mutex_);
  const size_t n = std::min(limit, ring_.size());
  std::vector<Span> out;
  out.reserve(n);
  // The newest span sits just before the next write position.
  for (size_t i = 1; i <= n; ++i) out.push_back(ring_[(total_added_ - i) % capacity_]);
  return out;
}

uint64_t SpanBuffer::total_added() const {
  std::lock_guard lock(mutex_);
  return total_added_;
}

}  // namespace trafficsim::telemetry
