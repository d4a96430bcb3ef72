#include "core/hdr_encoding.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace trafficsim::core::hdr_encoding {
namespace {

std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

// Suite named for the histogram it serves, so the core test filter picks it up.
TEST(LatencyHistogramEncodingTest, Base64Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(bytes(plain)), encoded);
    auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes(plain));
  }
  EXPECT_EQ(base64_decode("  Zm9v\n"), bytes("foo"));
}

TEST(LatencyHistogramEncodingTest, Base64RejectsMalformed) {
  for (const char* bad :
       {"Zg=", "Z===", "====", "Zg==Zg==", "Zm9v!", "Zm 9v", "Zm9", "=Zm9", "Zm=v", "Zm9v-_"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(LatencyHistogramEncodingTest, Base64RoundTripsAllBytes) {
  std::vector<uint8_t> all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
  for (size_t len = 0; len <= all.size(); ++len) {
    std::vector<uint8_t> part(all.begin(), all.begin() + static_cast<long>(len));
    EXPECT_EQ(base64_decode(base64_encode(part)), part);
  }
}

TEST(LatencyHistogramEncodingTest, ZigZagRoundTripsAndSizes) {
  std::vector<int64_t> values = {0,
                                 1,
                                 -1,
                                 63,
                                 -64,
                                 64,
                                 -65,
                                 8191,
                                 8192,
                                 std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::min()};
  for (int shift = 0; shift < 63; ++shift) {
    values.push_back(int64_t{1} << shift);
    values.push_back(-(int64_t{1} << shift));
    values.push_back((int64_t{1} << shift) - 1);
  }
  for (int64_t v : values) {
    std::vector<uint8_t> out;
    put_zigzag(out, v);
    EXPECT_LE(out.size(), 9u);
    size_t pos = 0;
    int64_t back = 0;
    ASSERT_TRUE(get_zigzag(out, pos, back)) << v;
    EXPECT_EQ(back, v);
    EXPECT_EQ(pos, out.size());
  }
  std::vector<uint8_t> out;
  put_zigzag(out, -1);  // a one-slot zero run: zigzag 1
  EXPECT_EQ(out, std::vector<uint8_t>{0x01});
  out.clear();
  put_zigzag(out, -100);  // zigzag 199: 0xc7 0x01
  EXPECT_EQ(out, (std::vector<uint8_t>{0xc7, 0x01}));
  out.clear();
  put_zigzag(out, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out.size(), 9u);
  EXPECT_EQ(out.back(), 0xff);  // the 9th byte keeps all 8 bits
}

TEST(LatencyHistogramEncodingTest, ZigZagRejectsTruncation) {
  std::vector<uint8_t> in = {0x80, 0x80};
  size_t pos = 0;
  int64_t value = 0;
  EXPECT_FALSE(get_zigzag(in, pos, value));
  std::vector<uint8_t> empty;
  pos = 0;
  EXPECT_FALSE(get_zigzag(empty, pos, value));
}

TEST(LatencyHistogramEncodingTest, BigEndian) {
  std::vector<uint8_t> out;
  put_be32(out, 0x1c849303);
  put_be64(out, 0x0102030405060708ULL);
  EXPECT_EQ(out, (std::vector<uint8_t>{0x1c, 0x84, 0x93, 0x03, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(get_be32(out.data()), 0x1c849303u);
  EXPECT_EQ(get_be64(out.data() + 4), 0x0102030405060708ULL);
}

TEST(LatencyHistogramEncodingTest, ZlibRoundTripAndLimits) {
  std::mt19937_64 rng(1);
  std::vector<uint8_t> data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(rng() % 7);
  auto deflated = zlib_compress(data);
  EXPECT_LT(deflated.size(), data.size());
  EXPECT_EQ(zlib_inflate(deflated, data.size()), data);
  EXPECT_FALSE(zlib_inflate(deflated, data.size() - 1).has_value());  // over the cap
  EXPECT_FALSE(zlib_inflate(std::span(deflated).first(deflated.size() / 2), 1 << 20));
  EXPECT_FALSE(zlib_inflate(bytes("not zlib at all"), 1 << 20));
  EXPECT_FALSE(zlib_inflate({}, 1 << 20));
  EXPECT_EQ(zlib_inflate(zlib_compress({}), 16), std::vector<uint8_t>{});
}

}  // namespace
}  // namespace trafficsim::core::hdr_encoding
