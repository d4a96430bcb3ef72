#include "core/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/hdr_encoding.hpp"

namespace trafficsim::core {
namespace {

namespace enc = hdr_encoding;

const std::vector<double> kPercentiles = {0,  0.1, 1,    5,    10,    25,     50,      75, 90,
                                          95, 99,  99.5, 99.9, 99.99, 99.999, 99.9999, 100};

// Fixed-seed values, log-uniform between 1 and 1e9.
std::vector<int64_t> log_uniform_values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(0, std::log(1e9));
  std::vector<int64_t> values(n);
  for (auto& v : values) v = std::max<int64_t>(1, std::llround(std::exp(exponent(rng))));
  return values;
}

// The smallest value such that at least p % of values are <= it.
int64_t exact_percentile(const std::vector<int64_t>& sorted, double p) {
  if (p <= 0) return sorted.front();
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void expect_same_distribution(const LatencyHistogram& a, const LatencyHistogram& b) {
  EXPECT_EQ(a.count(), b.count());
  for (double p = 0; p <= 100; p += 0.5) EXPECT_EQ(a.percentile(p), b.percentile(p)) << p;
  for (double p : kPercentiles) EXPECT_EQ(a.percentile(p), b.percentile(p)) << p;
}

class LatencyHistogramTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    values_ = new std::vector<int64_t>(log_uniform_values(1'000'000, 12345));
    sorted_ = new std::vector<int64_t>(*values_);
    std::sort(sorted_->begin(), sorted_->end());
  }
  static void TearDownTestSuite() {
    delete values_;
    delete sorted_;
  }
  static LatencyHistogram all_values() {
    LatencyHistogram h;
    for (int64_t v : *values_) h.record(v);
    return h;
  }
  static std::vector<int64_t>* values_;
  static std::vector<int64_t>* sorted_;
};

std::vector<int64_t>* LatencyHistogramTest::values_ = nullptr;
std::vector<int64_t>* LatencyHistogramTest::sorted_ = nullptr;

TEST_F(LatencyHistogramTest, PercentilesWithinOneTenthPercentOfExact) {
  LatencyHistogram h = all_values();
  ASSERT_EQ(h.count(), 1'000'000);
  for (double p : kPercentiles) {
    int64_t exact = exact_percentile(*sorted_, p);
    int64_t got = h.percentile(p);
    EXPECT_LE(std::abs(got - exact), static_cast<double>(exact) * 0.001 + 1)
        << "p" << p << ": hdr " << got << ", exact " << exact;
  }
  EXPECT_EQ(h.min(), sorted_->front());
  EXPECT_EQ(h.max(), sorted_->back());
  double exact_sum = 0;
  for (int64_t v : *sorted_) exact_sum += static_cast<double>(v);
  EXPECT_NEAR(h.mean(), exact_sum / 1e6, exact_sum / 1e6 * 1e-9);
  EXPECT_EQ(h.saturated(), 0);
}

// Prometheus `le` buckets from an HDR histogram: exact counts of a sort, except that a value in
// the bound's own bucket (within 10^-3 relative of it) counts as at or below the bound.
TEST_F(LatencyHistogramTest, CountsAtOrBelowBoundsMatchASortWithinTheBucketWidth) {
  LatencyHistogram h = all_values();
  const std::vector<int64_t> bounds = {-5, 0, 1, 10, 999, 1000, 123'456, 5'000'000, 999'999'999,
                                       LatencyHistogram::kDefaultHighest, INT64_MAX};
  auto counts = h.counts_at_or_below(bounds);
  ASSERT_EQ(counts.size(), bounds.size());
  for (size_t i = 0; i < bounds.size(); ++i) {
    const int64_t b = bounds[i];
    auto exact_le = [&](int64_t v) {
      return static_cast<int64_t>(std::upper_bound(sorted_->begin(), sorted_->end(), v) -
                                  sorted_->begin());
    };
    if (b < 0) {
      EXPECT_EQ(counts[i], 0);
      continue;
    }
    EXPECT_GE(counts[i], exact_le(b)) << b;
    EXPECT_LE(counts[i], exact_le(h.highest_equivalent(std::min(b, h.highest())))) << b;
    if (i > 0) {
      EXPECT_GE(counts[i], counts[i - 1]) << b;
    }
  }
  EXPECT_EQ(counts.back(), h.count());
  EXPECT_EQ(LatencyHistogram().counts_at_or_below(bounds), std::vector<int64_t>(bounds.size(), 0));
}

TEST_F(LatencyHistogramTest, MergeEqualsTheUnion) {
  LatencyHistogram whole = all_values();
  std::vector<LatencyHistogram> parts(7);
  for (size_t i = 0; i < values_->size(); ++i) parts[(i * 2654435761u) % 7].record((*values_)[i]);
  LatencyHistogram merged;
  for (const auto& part : parts) merged.merge(part);
  expect_same_distribution(merged, whole);
  EXPECT_EQ(merged.min(), whole.min());
  EXPECT_EQ(merged.max(), whole.max());
  EXPECT_NEAR(merged.mean(), whole.mean(), whole.mean() * 1e-9);
  EXPECT_EQ(merged.memory_bytes(), whole.memory_bytes());
}

TEST_F(LatencyHistogramTest, EncodeDecodeRoundTrip) {
  LatencyHistogram h = all_values();
  std::string text = h.encode_compressed_base64();
  auto decoded = LatencyHistogram::decode_compressed_base64(text);
  ASSERT_TRUE(decoded.has_value());
  expect_same_distribution(*decoded, h);
  EXPECT_EQ(decoded->lowest(), h.lowest());
  EXPECT_EQ(decoded->highest(), h.highest());
  EXPECT_EQ(decoded->significant_digits(), h.significant_digits());
  EXPECT_EQ(decoded->memory_bytes(), h.memory_bytes());
  // Extremes are bucket estimates, within the bucket of the exact ones.
  EXPECT_EQ(decoded->min(), h.lowest_equivalent(h.min()));
  EXPECT_EQ(decoded->max(), h.highest_equivalent(h.max()));
  EXPECT_NEAR(decoded->mean(), h.mean(), h.mean() * 1e-3);
  decoded->set_exact_extremes(h.min(), h.max(), h.mean() * static_cast<double>(h.count()));
  EXPECT_EQ(decoded->min(), h.min());
  EXPECT_EQ(decoded->max(), h.max());
  EXPECT_DOUBLE_EQ(decoded->mean(), h.mean());
  // Encoding is deterministic: the decoded histogram encodes to the same text.
  EXPECT_EQ(decoded->encode_compressed_base64(), text);
}

TEST_F(LatencyHistogramTest, MergingDecodedPartsEqualsTheUnion) {
  LatencyHistogram whole = all_values();
  std::vector<LatencyHistogram> parts(7);
  for (size_t i = 0; i < values_->size(); ++i) parts[i % 7].record((*values_)[i]);
  LatencyHistogram merged;
  for (const auto& part : parts) {
    auto decoded = LatencyHistogram::decode_compressed_base64(part.encode_compressed_base64());
    ASSERT_TRUE(decoded.has_value());
    merged.merge(*decoded);
  }
  expect_same_distribution(merged, whole);
}

TEST(LatencyHistogramBasicsTest, EmptyHistogram) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_EQ(h.percentile(100), 0);
  auto decoded = LatencyHistogram::decode_compressed_base64(h.encode_compressed_base64());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->count(), 0);
  EXPECT_EQ(decoded->percentile(99), 0);
}

TEST(LatencyHistogramBasicsTest, LayoutMatchesHdrHistogram) {
  // Reference values from HdrHistogram: 1 us .. 1 h at 3 digits has 22 buckets of 2048
  // sub-buckets, so (22 + 1) * 1024 counts.
  LatencyHistogram h;
  EXPECT_EQ(h.memory_bytes(), 23552 * sizeof(int64_t));
  LatencyHistogram wide(1, 9007199254740991, 3);  // 2^53 - 1: 43 buckets
  EXPECT_EQ(wide.memory_bytes(), 45056 * sizeof(int64_t));
  // Below 2048 every value has its own bucket; above, buckets double in width.
  EXPECT_EQ(h.lowest_equivalent(1000), 1000);
  EXPECT_EQ(h.highest_equivalent(1000), 1000);
  EXPECT_EQ(h.lowest_equivalent(2047), 2047);
  EXPECT_EQ(h.lowest_equivalent(2049), 2048);
  EXPECT_EQ(h.highest_equivalent(2048), 2049);
  EXPECT_EQ(h.lowest_equivalent(10007), 10000);
  EXPECT_EQ(h.highest_equivalent(10007), 10007);
  EXPECT_EQ(h.lowest_equivalent(10009), 10008);
  EXPECT_EQ(h.highest_equivalent(10009), 10015);
  // A unit above 1: lowest 1000 -> unit magnitude 9 (512).
  LatencyHistogram coarse(1000, 3'600'000'000, 3);
  EXPECT_EQ(coarse.lowest_equivalent(1023), 512);
  EXPECT_EQ(coarse.highest_equivalent(1023), 1023);
  EXPECT_THROW(LatencyHistogram(0, 100, 3), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(1, 100, 0), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(1, 100, 6), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(100, 150, 3), std::invalid_argument);
}

TEST(LatencyHistogramBasicsTest, EquivalentRangeIsWithinOneTenthPercent) {
  LatencyHistogram h;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> exponent(0, std::log(3.6e9));
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<int64_t>(std::exp(exponent(rng)));
    int64_t lo = h.lowest_equivalent(v), hi = h.highest_equivalent(v);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    ASSERT_LE(static_cast<double>(hi - lo), 0.001 * static_cast<double>(lo)) << v;
    ASSERT_EQ(h.lowest_equivalent(hi), lo);
    ASSERT_EQ(h.highest_equivalent(lo), hi);
    if (lo > 0) {
      ASSERT_EQ(h.highest_equivalent(lo - 1), lo - 1);  // buckets tile the range
    }
  }
}

TEST(LatencyHistogramBasicsTest, MemoryIsIndependentOfCount) {
  LatencyHistogram small, big;
  for (int64_t i = 0; i < 10; ++i) small.record(i * 1000 + 1);
  const size_t before = big.memory_bytes();
  int64_t v = 1;
  for (int64_t i = 0; i < 10'000'000; ++i) {
    big.record(v);
    v = v * 7 % 3'600'000'001;  // wanders over the whole range
  }
  EXPECT_EQ(big.count(), 10'000'000);
  EXPECT_EQ(small.memory_bytes(), big.memory_bytes());
  EXPECT_EQ(big.memory_bytes(), before);
}

TEST(LatencyHistogramBasicsTest, SaturatesAboveHighest) {
  LatencyHistogram h(1, 1'000'000, 3);
  h.record(500);
  h.record(1'000'001);
  h.record_n(INT64_MAX, 3);
  EXPECT_EQ(h.count(), 5);
  EXPECT_EQ(h.saturated(), 4);
  EXPECT_EQ(h.max(), 1'000'000);
  EXPECT_EQ(h.percentile(100), h.highest_equivalent(1'000'000));
  EXPECT_EQ(h.percentile(50), h.highest_equivalent(1'000'000));
  EXPECT_EQ(h.percentile(20), 500);
  h.record(-5);  // negative records as 0
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.percentile(0), 0);
  EXPECT_EQ(h.count(), 6);
  h.record_n(10, 0);  // no-op
  h.record_n(10, -3);
  EXPECT_EQ(h.count(), 6);
}

TEST(LatencyHistogramBasicsTest, PercentileSemantics) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 10; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0), 1);
  EXPECT_EQ(h.percentile(10), 1);  // 1 of 10 values is <= 1
  EXPECT_EQ(h.percentile(10.01), 2);
  EXPECT_EQ(h.percentile(50), 5);
  EXPECT_EQ(h.percentile(90), 9);  // not 10: 0.9 * 10 must not round up
  EXPECT_EQ(h.percentile(100), 10);
  EXPECT_EQ(h.percentile(250), 10);
  EXPECT_EQ(h.percentile(-1), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 5.5);
  LatencyHistogram big;
  big.record(123'456'789);
  EXPECT_EQ(big.percentile(0), big.lowest_equivalent(123'456'789));
  EXPECT_EQ(big.percentile(50), big.highest_equivalent(123'456'789));
  EXPECT_EQ(big.percentile(100), big.highest_equivalent(123'456'789));
}

TEST(LatencyHistogramBasicsTest, ResetClearsEverything) {
  LatencyHistogram h;
  for (int64_t v = 1; v < 5000; v += 7) h.record(v);
  h.record(INT64_MAX);
  h.reset();
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.saturated(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_EQ(h.encode_compressed_base64(), LatencyHistogram().encode_compressed_base64());
  h.record(42);
  EXPECT_EQ(h.min(), 42);
  EXPECT_EQ(h.max(), 42);
}

TEST(LatencyHistogramBasicsTest, MergeAcrossConfigurations) {
  LatencyHistogram fine(1, 3'600'000'000, 3), coarse(1, 3'600'000'000, 2), reference(1, 10'000, 2);
  std::mt19937_64 rng(8);
  std::uniform_int_distribution<int64_t> value(1, 5'000'000);
  for (int i = 0; i < 10000; ++i) {
    int64_t v = value(rng);
    fine.record(v);
    coarse.record(v);
  }
  LatencyHistogram merged(1, 3'600'000'000, 2);
  merged.merge(fine);
  EXPECT_EQ(merged.count(), coarse.count());
  EXPECT_EQ(merged.min(), coarse.min());
  EXPECT_EQ(merged.max(), coarse.max());
  // Both layouts use power-of-two buckets aligned to their width, and the coarse ones are never
  // narrower, so each fine bucket lies inside one coarse bucket: re-recording its lowest value
  // lands exactly where the original values would have.
  expect_same_distribution(merged, coarse);
  // Into a smaller range: what is above it saturates.
  reference.merge(fine);
  EXPECT_EQ(reference.count(), fine.count());
  EXPECT_GT(reference.saturated(), 9000);
  EXPECT_EQ(reference.max(), 10'000);
}

TEST(LatencyHistogramBasicsTest, MergeKeepsSaturationAndExtremes) {
  LatencyHistogram a(1, 1000, 3), b(1, 1000, 3);
  a.record(5);
  b.record(2000);
  b.record(1);
  a.merge(b);
  EXPECT_EQ(a.count(), 3);
  EXPECT_EQ(a.saturated(), 1);
  EXPECT_EQ(a.min(), 1);
  EXPECT_EQ(a.max(), 1000);
  LatencyHistogram empty(1, 1000, 3);
  a.merge(empty);
  EXPECT_EQ(a.count(), 3);
  EXPECT_EQ(a.min(), 1);
}

// Written by other HdrHistogram implementations (Java-style cookie 0x1c849314): 1..300 at 3
// digits holding 100, 200 and 250; and one value 42.
constexpr char kForeignThreeValues[] =
    "HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk";
constexpr char kForeignFortyTwo[] = "HISTFAAAAB542pNpmSzMwMDAxAABzFCaEUoz2X+AMIKZAEARAtM=";

TEST(LatencyHistogramBasicsTest, DecodesOtherImplementations) {
  auto three = LatencyHistogram::decode_compressed_base64(kForeignThreeValues);
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(three->count(), 3);
  EXPECT_EQ(three->lowest(), 1);
  EXPECT_EQ(three->highest(), 300);
  EXPECT_EQ(three->significant_digits(), 3);
  EXPECT_EQ(three->min(), 100);
  EXPECT_EQ(three->max(), 250);
  EXPECT_EQ(three->percentile(0), 100);
  EXPECT_EQ(three->percentile(50), 200);
  EXPECT_EQ(three->percentile(100), 250);
  EXPECT_DOUBLE_EQ(three->mean(), 550.0 / 3);

  auto one = LatencyHistogram::decode_compressed_base64(kForeignFortyTwo);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->count(), 1);
  EXPECT_DOUBLE_EQ(one->mean(), 42);
}

// The uncompressed payload, for comparing and for building hostile inputs.
std::vector<uint8_t> inflate_payload(const std::string& text) {
  auto wire = enc::base64_decode(text);
  EXPECT_TRUE(wire.has_value());
  auto payload = enc::zlib_inflate(std::span<const uint8_t>(*wire).subspan(8), 1 << 20);
  EXPECT_TRUE(payload.has_value());
  return *payload;
}

TEST(LatencyHistogramBasicsTest, EncodesLikeOtherImplementations) {
  LatencyHistogram h(1, 300, 3);
  h.record(100);
  h.record(200);
  h.record(250);
  std::string ours = h.encode_compressed_base64();
  EXPECT_EQ(ours.substr(0, 6), "HISTBA");  // cookie 0x1c849304, as the C library writes it
  std::vector<uint8_t> mine = inflate_payload(ours);
  std::vector<uint8_t> theirs = inflate_payload(kForeignThreeValues);
  // Identical apart from the word-size nibble of the cookie, which readers mask off.
  ASSERT_EQ(mine.size(), theirs.size());
  EXPECT_EQ(enc::get_be32(mine.data()), 0x1c849303u);
  EXPECT_EQ(enc::get_be32(theirs.data()) & ~0xf0u, 0x1c849303u);
  EXPECT_TRUE(std::equal(mine.begin() + 4, mine.end(), theirs.begin() + 4));
}

// Wraps an uncompressed payload the way the encoder does.
std::string wrap(const std::vector<uint8_t>& payload, uint32_t cookie = 0x1c849304) {
  std::vector<uint8_t> deflated = enc::zlib_compress(payload);
  std::vector<uint8_t> wire;
  enc::put_be32(wire, cookie);
  enc::put_be32(wire, static_cast<uint32_t>(deflated.size()));
  wire.insert(wire.end(), deflated.begin(), deflated.end());
  return enc::base64_encode(wire);
}

std::vector<uint8_t> payload(int64_t lowest, int64_t highest, int32_t digits,
                             const std::vector<int64_t>& counts, int32_t declared_len = -1,
                             uint32_t offset = 0, uint32_t cookie = 0x1c849303) {
  std::vector<uint8_t> body;
  for (int64_t c : counts) enc::put_zigzag(body, c);
  std::vector<uint8_t> out;
  enc::put_be32(out, cookie);
  enc::put_be32(out, declared_len < 0 ? static_cast<uint32_t>(body.size())
                                      : static_cast<uint32_t>(declared_len));
  enc::put_be32(out, offset);
  enc::put_be32(out, static_cast<uint32_t>(digits));
  enc::put_be64(out, static_cast<uint64_t>(lowest));
  enc::put_be64(out, static_cast<uint64_t>(highest));
  enc::put_be64(out, std::bit_cast<uint64_t>(1.0));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(LatencyHistogramBasicsTest, DecodeAcceptsHandBuiltPayload) {
  // Java writes a single zero as 0 rather than -1; both mean one empty slot.
  auto h = LatencyHistogram::decode_compressed_base64(wrap(payload(1, 1000, 3, {-5, 2, 0, 3})));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->count(), 5);
  EXPECT_EQ(h->percentile(0), 5);
  EXPECT_EQ(h->percentile(40), 5);
  EXPECT_EQ(h->percentile(100), 7);
}

TEST(LatencyHistogramBasicsTest, DecodeRejectsHostileInput) {
  auto rejects = [](const std::string& text) {
    return !LatencyHistogram::decode_compressed_base64(text).has_value();
  };
  EXPECT_TRUE(rejects(""));
  EXPECT_TRUE(rejects("!!!!"));
  EXPECT_TRUE(rejects("HISTBA"));
  EXPECT_TRUE(rejects("HISTBAAAAAA="));
  EXPECT_TRUE(rejects("aGVsbG8gd29ybGQ="));  // "hello world"
  EXPECT_TRUE(rejects(std::string(1000, 'A')));
  // Wrong outer / inner cookies.
  EXPECT_TRUE(rejects(wrap(payload(1, 1000, 3, {1}), 0x1c849302)));
  EXPECT_TRUE(rejects(wrap(payload(1, 1000, 3, {1}, -1, 0, 0x1c849301))));
  // Impossible configurations, including one that would need ~50 MB of counts.
  EXPECT_TRUE(rejects(wrap(payload(0, 1000, 3, {1}))));
  EXPECT_TRUE(rejects(wrap(payload(1, 1000, 0, {1}))));
  EXPECT_TRUE(rejects(wrap(payload(1, 1000, 9, {1}))));
  EXPECT_TRUE(rejects(wrap(payload(600, 1000, 3, {1}))));
  EXPECT_TRUE(rejects(wrap(payload(-1, 1000, 3, {1}))));
  EXPECT_TRUE(rejects(wrap(payload(1, INT64_MAX, 5, {1}))));
  EXPECT_TRUE(rejects(wrap(payload(1, 1000, 3, {1}, -1, 7))));  // normalising offset
  // Declared payload longer than what is there; over 16 MiB.
  EXPECT_TRUE(rejects(wrap(payload(1, 1000, 3, {1}, 1000))));
  EXPECT_TRUE(rejects(wrap(payload(1, 1000, 3, {1}, 0x7fffffff))));
  // Counts past the end of the array, by a run of zeros or by values.
  EXPECT_TRUE(rejects(wrap(payload(1, 300, 3, {-5000}))));
  EXPECT_TRUE(rejects(wrap(payload(1, 300, 3, {-2047, 1, 1}))));
  EXPECT_TRUE(rejects(wrap(payload(1, 300, 3, {INT64_MIN}))));
  EXPECT_TRUE(rejects(wrap(payload(1, 300, 3, std::vector<int64_t>(3000, 1)))));
  // Total count overflow.
  EXPECT_TRUE(rejects(wrap(payload(1, 300, 3, {INT64_MAX, INT64_MAX}))));
  // A varint cut off in the middle.
  std::vector<uint8_t> cut = payload(1, 300, 3, {});
  cut.push_back(0x80);
  cut[7] = 1;  // declared payload length (big-endian at 4..7): the lone continuation byte
  EXPECT_TRUE(rejects(wrap(cut)));
  // Inflating past 16 MiB is refused however well it compresses.
  std::vector<uint8_t> bomb = payload(1, 300, 3, {});
  bomb.resize(bomb.size() + (size_t{17} << 20), 0);
  EXPECT_TRUE(rejects(wrap(bomb)));
}

TEST(LatencyHistogramBasicsTest, DecodeSurvivesCorruption) {
  LatencyHistogram h;
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<int64_t> value(1, 100'000'000);
  for (int i = 0; i < 5000; ++i) h.record(value(rng));
  const std::string good = h.encode_compressed_base64();
  auto wire = *enc::base64_decode(good);
  // Every single-byte corruption and every truncation of the binary form: no crash, and when
  // something is returned it is self-consistent.
  for (size_t i = 0; i < wire.size(); ++i) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      auto bad = wire;
      bad[i] ^= flip;
      auto decoded = LatencyHistogram::decode_compressed_base64(enc::base64_encode(bad));
      if (decoded) {
        EXPECT_GE(decoded->count(), 0);
        EXPECT_LE(decoded->percentile(50), decoded->percentile(100));
      }
    }
    auto truncated = std::vector<uint8_t>(wire.begin(), wire.begin() + i);
    EXPECT_FALSE(LatencyHistogram::decode_compressed_base64(enc::base64_encode(truncated)));
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = '*';
    EXPECT_FALSE(LatencyHistogram::decode_compressed_base64(bad));
    std::string cut = good.substr(0, i) + "=";
    if (cut != good) {
      EXPECT_FALSE(LatencyHistogram::decode_compressed_base64(cut));
    }
  }
  // Random bytes.
  std::uniform_int_distribution<int> byte(0, 255);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> junk(static_cast<size_t>(byte(rng)));
    for (auto& b : junk) b = static_cast<uint8_t>(byte(rng));
    if (trial % 2 == 0 && junk.size() >= 8) {  // with a valid outer cookie, to get further
      junk[0] = 0x1c, junk[1] = 0x84, junk[2] = 0x93, junk[3] = 0x04;
    }
    (void)LatencyHistogram::decode_compressed_base64(enc::base64_encode(junk));
  }
}

}  // namespace
}  // namespace trafficsim::core
