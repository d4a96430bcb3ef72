#pragma once
// Internal to telemetry/ (otlp_proto.cpp, otlp_json.cpp): the protobuf wire writer and the
// text helpers both encoders share. Not for other modules.
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "telemetry/span.hpp"

namespace trafficsim::telemetry::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// Appends protobuf fields to a string. A sub-message is written in place after a one-byte length
// placeholder; end() writes its length and, for a message of 128 bytes or more, shifts the body
// to make room for the longer varint (once per message: cheap next to encoding it).
class ProtoWriter {
 public:
  explicit ProtoWriter(std::string& out) : out_(out) {}

  void varint(uint64_t v) {
    char buf[10];
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.append(buf, n);
  }
  void tag(uint32_t field, WireType type) { varint((static_cast<uint64_t>(field) << 3) | type); }

  // Scalars. The *_field forms skip proto3 defaults (0, false, ""); the *_always forms write
  // them (members of a oneof, where presence is the information, and `optional` fields).
  void uint_field(uint32_t field, uint64_t v) {
    if (v != 0) uint_always(field, v);
  }
  void uint_always(uint32_t field, uint64_t v) {
    tag(field, kVarint);
    varint(v);
  }
  void int_always(uint32_t field, int64_t v) { uint_always(field, static_cast<uint64_t>(v)); }
  void bool_always(uint32_t field, bool v) {
    tag(field, kVarint);
    out_.push_back(v ? 1 : 0);
  }
  void fixed64_field(uint32_t field, uint64_t v) {
    if (v != 0) fixed64_always(field, v);
  }
  void fixed64_always(uint32_t field, uint64_t v) {
    tag(field, kFixed64);
    raw64(v);
  }
  void double_always(uint32_t field, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    fixed64_always(field, bits);
  }
  void raw64(uint64_t v) {
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    out_.append(buf, 8);
  }
  void string_field(uint32_t field, std::string_view s) {
    if (!s.empty()) string_always(field, s);
  }
  void string_always(uint32_t field, std::string_view s);  // invalid UTF-8 becomes U+FFFD
  void bytes_field(uint32_t field, std::span<const uint8_t> b) {
    tag(field, kLen);
    varint(b.size());
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }

  // A sub-message: begin() returns a mark for end().
  size_t begin(uint32_t field) {
    tag(field, kLen);
    out_.push_back(0);
    return out_.size() - 1;
  }
  void end(size_t mark) {
    const size_t len = out_.size() - mark - 1;
    if (len < 0x80) {
      out_[mark] = static_cast<char>(len);
      return;
    }
    char buf[10];
    size_t n = 0;
    uint64_t v = len;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.insert(mark + 1, n - 1, '\0');
    std::memcpy(out_.data() + mark, buf, n);
  }

  std::string& out() { return out_; }

 private:
  std::string& out_;
};

// Attribute encoders the request encoders and SpanTemplate share. Protobuf: one KeyValue
// sub-message per attribute under `field`. JSON: KeyValue objects, a comma before each but the
// very first (`first` tracks it across calls).
void attributes_proto(std::string& out, uint32_t field, const boost::json::object& attrs);
void scalar_proto(std::string& out, uint32_t field, const ScalarAttribute& a);
void attributes_json_items(std::string& out, const boost::json::object& attrs, bool& first);
void scalar_json_item(std::string& out, const ScalarAttribute& a, bool& first);

// True when s is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s);
// Appends s with each invalid byte replaced by U+FFFD.
void append_utf8_sanitized(std::string& out, std::string_view s);

// Lowercase hex of the bytes.
inline void append_hex(std::string& out, std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
}

template <size_t N>
bool all_zero(const std::array<uint8_t, N>& id) {
  for (uint8_t b : id) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace trafficsim::telemetry::wire
