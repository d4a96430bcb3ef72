#include "core/hdr_encoding.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

namespace trafficsim::core::hdr_encoding {

void put_be32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void put_be64(std::vector<uint8_t>& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

uint32_t get_be32(const uint8_t* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | in[i];
  return value;
}

uint64_t get_be64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[i];
  return value;
}

void put_zigzag(std::vector<uint8_t>& out, int64_t value) {
  // Shift as unsigned: left-shifting a negative signed value is what UBSan would flag.
  uint64_t zz = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  for (int i = 0; i < 8; ++i) {
    if ((zz >> 7) == 0) {
      out.push_back(static_cast<uint8_t>(zz));
      return;
    }
    out.push_back(static_cast<uint8_t>((zz & 0x7f) | 0x80));
    zz >>= 7;
  }
  // The 9th byte has no continuation bit, so it carries the remaining 8 bits whole.
  out.push_back(static_cast<uint8_t>(zz));
}

bool get_zigzag(std::span<const uint8_t> in, size_t& pos, int64_t& value) {
  uint64_t zz = 0;
  int shift = 0;
  for (int i = 0; i < 9; ++i) {
    if (pos >= in.size()) return false;
    uint8_t byte = in[pos++];
    if (i == 8) {
      zz |= static_cast<uint64_t>(byte) << 56;
      break;
    }
    zz |= static_cast<uint64_t>(byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) == 0) break;
  }
  value = static_cast<int64_t>(zz >> 1) ^ -static_cast<int64_t>(zz & 1);
  return true;
}

std::vector<uint8_t> zlib_compress(std::span<const uint8_t> in) {
  uLongf out_len = compressBound(static_cast<uLong>(in.size()));
  std::vector<uint8_t> out(out_len);
  int rc = compress2(out.data(), &out_len, in.data(), static_cast<uLong>(in.size()),
                     Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) throw std::runtime_error("zlib compress2 failed");
  out.resize(out_len);
  return out;
}

std::optional<std::vector<uint8_t>> zlib_inflate(std::span<const uint8_t> in, size_t max_out) {
  if (in.size() > std::numeric_limits<uInt>::max()) return std::nullopt;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return std::nullopt;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());

  // Grow geometrically instead of trusting a size field: the caller's cap bounds the work.
  std::vector<uint8_t> out(std::min<size_t>(std::max<size_t>(in.size() * 4, 256), max_out));
  size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= max_out) break;
      out.resize(std::min(out.size() * 2, max_out));
    }
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK) break;  // Z_DATA_ERROR, Z_BUF_ERROR (truncated input), Z_MEM_ERROR, ...
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_reverse() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr std::array<int8_t, 256> kReverse = make_reverse();

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::string base64_encode(std::span<const uint8_t> in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t triple = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out.push_back(kAlphabet[(triple >> 18) & 63]);
    out.push_back(kAlphabet[(triple >> 12) & 63]);
    out.push_back(kAlphabet[(triple >> 6) & 63]);
    out.push_back(kAlphabet[triple & 63]);
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t triple = uint32_t{in[i]} << 16;
    if (rest == 2) triple |= uint32_t{in[i + 1]} << 8;
    out.push_back(kAlphabet[(triple >> 18) & 63]);
    out.push_back(kAlphabet[(triple >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(triple >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.size() % 4 != 0) return std::nullopt;

  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    if (last) pad = (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=');
    uint32_t quad = 0;
    for (int j = 0; j < 4; ++j) {
      int8_t v = j >= 4 - pad ? 0 : kReverse[static_cast<uint8_t>(text[i + j])];
      if (v < 0) return std::nullopt;  // also rejects '=' anywhere but the final padding
      quad = (quad << 6) | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<uint8_t>(quad >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(quad >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(quad));
  }
  return out;
}

}  // namespace trafficsim::core::hdr_encoding
