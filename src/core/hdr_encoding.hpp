#pragma once
// Byte-level building blocks of the HdrHistogram V2 wire format, kept apart from the histogram so
// tests can build hostile inputs with the same primitives: big-endian integers, ZigZag LEB128
// varints (the "64b9B" flavour: at most 9 bytes, the 9th carrying 8 bits), zlib and base64.
// Private to core; not part of the public API.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::core::hdr_encoding {

void put_be32(std::vector<uint8_t>& out, uint32_t value);
void put_be64(std::vector<uint8_t>& out, uint64_t value);
// Callers check that 4 / 8 bytes are available.
uint32_t get_be32(const uint8_t* in);
uint64_t get_be64(const uint8_t* in);

// ZigZag + LEB128, at most 9 bytes.
void put_zigzag(std::vector<uint8_t>& out, int64_t value);
// Reads one varint at in[pos...]; advances pos. False when the input ends mid-varint.
bool get_zigzag(std::span<const uint8_t> in, size_t& pos, int64_t& value);

// zlib stream (RFC 1950), as compress2 / java.util.zip.Deflater write it.
std::vector<uint8_t> zlib_compress(std::span<const uint8_t> in);
// Inflates a zlib stream; nullopt when it is malformed, truncated, or would exceed max_out bytes
// (so a small hostile input cannot make us allocate without bound).
std::optional<std::vector<uint8_t>> zlib_inflate(std::span<const uint8_t> in, size_t max_out);

// Standard alphabet (RFC 4648 section 4) with '=' padding.
std::string base64_encode(std::span<const uint8_t> in);
// Strict: length a multiple of 4, only alphabet characters, padding only at the end.
// Leading and trailing ASCII whitespace is ignored (log lines end in newlines).
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace trafficsim::core::hdr_encoding
