#pragma once
// W3C Trace Context (w3.org/TR/trace-context): the ids that tie a request's spans together across
// processes, and the `traceparent` header that carries them. A malformed incoming header is not an
// error to report: the receiver starts a new trace, so parsing returns nullopt rather than
// throwing.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace trafficsim::core {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct TraceContext {
  TraceId trace_id{};
  SpanId span_id{};      // in a parsed header: the caller's span, i.e. our parent
  uint8_t flags = 0x01;  // bit 0 = sampled

  // Both ids non-zero (the spec treats all-zero ids as absent).
  bool valid() const;
  // "00-<32 lowercase hex trace id>-<16 hex span id>-<2 hex flags>".
  std::string traceparent() const;
};

// Parses a traceparent header value by the W3C rules: version is 2 lowercase hex digits other than
// "ff"; version 00 is exactly 55 characters; a higher version may continue after a '-' at offset 55
// (the first 55 characters are read as version 00); hex is lowercase only; all-zero trace or parent
// ids are invalid. Anything else gives nullopt. The value is taken as is (the HTTP layer trims
// surrounding whitespace).
std::optional<TraceContext> parse_traceparent(std::string_view header);

// Fresh random ids from a per-thread generator seeded from std::random_device; never all-zero.
TraceId random_trace_id();
SpanId random_span_id();

// The TraceIdRatioBased decision: the trace id's last 8 bytes, read as a big-endian number, below
// ratio * 2^64. Every process that sees the same id and ratio decides the same way; ratio <= 0
// samples nothing, >= 1 everything.
bool sampled_by_ratio(const TraceId& id, double ratio);

// Lowercase hex, two digits per byte.
std::string to_hex(std::span<const uint8_t> bytes);

}  // namespace trafficsim::core
