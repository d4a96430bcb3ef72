#include "core/trace_context.hpp"

#include <algorithm>
#include <random>

namespace trafficsim::core {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr size_t kVersion00Length = 55;  // "00-" + 32 + "-" + 16 + "-" + 2

// Value of one lowercase hex digit, or -1 (uppercase is not allowed by the spec).
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes exactly 2 * out.size() lowercase hex digits.
bool decode_hex(std::string_view text, std::span<uint8_t> out) {
  if (text.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int high = hex_value(text[2 * i]);
    const int low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

bool all_zero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

// One generator per thread: ids are drawn on request paths from many threads, and a shared
// generator would need a lock. Seeded from the OS so that processes never share a sequence.
std::mt19937_64& thread_generator() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(),
                       device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return generator;
}

template <size_t N>
std::array<uint8_t, N> random_nonzero_bytes() {
  std::array<uint8_t, N> bytes{};
  auto& generator = thread_generator();
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t word = generator();
      for (size_t j = i; j < std::min(N, i + 8); ++j, word >>= 8) bytes[j] = uint8_t(word);
    }
  } while (all_zero(bytes));
  return bytes;
}

}  // namespace

bool TraceContext::valid() const {
  return !all_zero(trace_id) && !all_zero(span_id);
}

std::string TraceContext::traceparent() const {
  std::string out = "00-";
  out.reserve(kVersion00Length);
  out += to_hex(trace_id);
  out += '-';
  out += to_hex(span_id);
  out += '-';
  out += to_hex(std::span<const uint8_t>(&flags, 1));
  return out;
}

std::optional<TraceContext> parse_traceparent(std::string_view header) {
  // version "-" trace-id "-" parent-id "-" trace-flags, at fixed offsets 0, 3, 36 and 53.
  if (header.size() < kVersion00Length) return std::nullopt;
  uint8_t version = 0;
  if (!decode_hex(header.substr(0, 2), std::span<uint8_t>(&version, 1))) return std::nullopt;
  if (version == 0xff) return std::nullopt;
  if (version == 0x00 && header.size() != kVersion00Length) return std::nullopt;
  // A future version may append fields, but only after a separator.
  if (header.size() > kVersion00Length && header[kVersion00Length] != '-') return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;

  TraceContext context;
  if (!decode_hex(header.substr(3, 32), context.trace_id)) return std::nullopt;
  if (!decode_hex(header.substr(36, 16), context.span_id)) return std::nullopt;
  if (!decode_hex(header.substr(53, 2), std::span<uint8_t>(&context.flags, 1))) {
    return std::nullopt;
  }
  if (!context.valid()) return std::nullopt;
  return context;
}

TraceId random_trace_id() {
  return random_nonzero_bytes<16>();
}

SpanId random_span_id() {
  return random_nonzero_bytes<8>();
}

std::string to_hex(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 0x0f];
  }
  return out;
}

bool sampled_by_ratio(const TraceId& id, double ratio) {
  if (!(ratio > 0)) return false;
  if (ratio >= 1) return true;
  uint64_t low = 0;
  for (size_t i = 8; i < 16; ++i) low = (low << 8) | id[i];
  return static_cast<double>(low) < ratio * 18446744073709551616.0;
}

}  // namespace trafficsim::core
