#include "core/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

#include "core/hdr_encoding.hpp"

namespace trafficsim::core {

namespace {

// HdrHistogram V2 cookies. The C library writes these; the Java one sets the 0x10 bit of the
// low byte (word-size nibble), which every reader masks off.
constexpr uint32_t kEncodingCookie = 0x1c849303;
constexpr uint32_t kCompressedCookie = 0x1c849304;
constexpr uint32_t kCookieMask = ~uint32_t{0xf0};
constexpr size_t kHeaderBytes = 40;  // cookie, length, offset, digits, lowest, highest, ratio
constexpr size_t kCompressedHeaderBytes = 8;
// Decoding limits against hostile input: no sane latency histogram needs more.
constexpr size_t kMaxPayloadBytes = size_t{16} << 20;
constexpr int64_t kMaxDecodedCounts = int64_t{1} << 22;  // 32 MiB of counts

struct Layout {
  int unit_magnitude;
  int sub_bucket_half_count_magnitude;
  int64_t sub_bucket_count;
  int bucket_count;
  int64_t counts_len;
};

// HdrHistogram's bucket configuration (hdr_calculate_bucket_config), in integer arithmetic.
// Throws std::invalid_argument for configurations the C library rejects with EINVAL.
Layout layout_for(int64_t lowest, int64_t highest, int digits) {
  if (lowest < 1) throw std::invalid_argument("histogram: lowest must be >= 1");
  if (digits < 1 || digits > 5) {
    throw std::invalid_argument("histogram: significant digits must be in 1..5");
  }
  if (highest < 2 || lowest > highest / 2) {
    throw std::invalid_argument("histogram: highest must be >= 2 * lowest");
  }
  Layout l{};
  int64_t single_unit_resolution = 2;  // 2 * 10^digits
  for (int i = 0; i < digits; ++i) single_unit_resolution *= 10;
  int sub_bucket_count_magnitude = 0;  // ceil(log2(2 * 10^digits))
  while ((int64_t{1} << sub_bucket_count_magnitude) < single_unit_resolution) {
    ++sub_bucket_count_magnitude;
  }
  l.sub_bucket_half_count_magnitude = std::max(sub_bucket_count_magnitude, 1) - 1;
  l.unit_magnitude = 63 - std::countl_zero(static_cast<uint64_t>(lowest));  // floor(log2)
  if (l.unit_magnitude + l.sub_bucket_half_count_magnitude > 61) {
    throw std::invalid_argument("histogram: lowest too large for the requested precision");
  }
  l.sub_bucket_count = int64_t{1} << (l.sub_bucket_half_count_magnitude + 1);
  // Buckets double in range; count them until one covers highest.
  int64_t smallest_untrackable = l.sub_bucket_count << l.unit_magnitude;
  l.bucket_count = 1;
  while (smallest_untrackable <= highest) {
    if (smallest_untrackable > INT64_MAX / 2) {
      ++l.bucket_count;
      break;
    }
    smallest_untrackable <<= 1;
    ++l.bucket_count;
  }
  l.counts_len = (l.bucket_count + 1) * (l.sub_bucket_count / 2);
  return l;
}

}  // namespace

LatencyHistogram::LatencyHistogram(int64_t lowest, int64_t highest, int significant_digits)
    : lowest_(lowest), highest_(highest), digits_(significant_digits) {
  Layout l = layout_for(lowest, highest, significant_digits);
  unit_magnitude_ = l.unit_magnitude;
  sub_bucket_half_count_magnitude_ = l.sub_bucket_half_count_magnitude;
  sub_bucket_count_ = l.sub_bucket_count;
  sub_bucket_half_count_ = l.sub_bucket_count / 2;
  sub_bucket_mask_ = (l.sub_bucket_count - 1) << l.unit_magnitude;
  bucket_count_ = l.bucket_count;
  // Sized once: recording never allocates, and memory is independent of the count recorded.
  counts_.assign(static_cast<size_t>(l.counts_len), 0);
}

size_t LatencyHistogram::index_of(int64_t value) const {
  // Bucket: how many doublings above the first bucket value sits (the mask keeps small values
  // in bucket 0). Sub-bucket: value scaled down to that bucket's resolution.
  int pow2_ceiling = 64 - std::countl_zero(static_cast<uint64_t>(value | sub_bucket_mask_));
  int bucket = pow2_ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
  int64_t sub_bucket = value >> (bucket + unit_magnitude_);
  // Buckets after the first share their lower half with the previous bucket, so each adds only
  // sub_bucket_half_count_ slots.
  int64_t base = int64_t{bucket + 1} << sub_bucket_half_count_magnitude_;
  return static_cast<size_t>(base + (sub_bucket - sub_bucket_half_count_));
}

int64_t LatencyHistogram::value_at_index(size_t index) const {
  auto i = static_cast<int64_t>(index);
  int64_t bucket = (i >> sub_bucket_half_count_magnitude_) - 1;
  int64_t sub_bucket = (i & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub_bucket << (bucket + unit_magnitude_);
}

int64_t LatencyHistogram::size_of_range(int64_t value) const {
  int pow2_ceiling = 64 - std::countl_zero(static_cast<uint64_t>(value | sub_bucket_mask_));
  int bucket = pow2_ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
  int64_t sub_bucket = value >> (bucket + unit_magnitude_);
  int adjusted = sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket;
  return int64_t{1} << (unit_magnitude_ + adjusted);
}

int64_t LatencyHistogram::lowest_equivalent(int64_t value) const {
  if (value < 0) value = 0;
  return value_at_index(index_of(value));
}

int64_t LatencyHistogram::highest_equivalent(int64_t value) const {
  if (value < 0) value = 0;
  int64_t low = lowest_equivalent(value);
  int64_t width = size_of_range(value);
  // The top bucket of a histogram reaching INT64_MAX would end one past it.
  if (low > INT64_MAX - (width - 1)) return INT64_MAX;
  return low + width - 1;
}

void LatencyHistogram::record_n(int64_t value, int64_t count) {
  if (count <= 0) return;
  if (value < 0) value = 0;
  if (value > highest_) {
    value = highest_;
    saturated_ += count;
  }
  counts_[index_of(value)] += count;
  total_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value) * static_cast<double>(count);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.total_ == 0) return;
  if (lowest_ == other.lowest_ && highest_ == other.highest_ && digits_ == other.digits_) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    saturated_ += other.saturated_;
  } else {
    // Different bucket layouts: re-record each of other's buckets at its lowest equivalent
    // value (as HdrHistogram's add() does). Other's saturated values sit in its top bucket and
    // would count again if that exceeds our range, hence the max below.
    int64_t newly_saturated = 0;
    for (size_t i = 0; i < other.counts_.size(); ++i) {
      int64_t count = other.counts_[i];
      if (count == 0) continue;
      int64_t value = other.value_at_index(i);
      if (value > highest_) {
        value = highest_;
        newly_saturated += count;
      }
      counts_[index_of(value)] += count;
      total_ += count;
    }
    saturated_ += std::max(newly_saturated, other.saturated_);
  }
  // Other's exact extremes and sum stay exact (clamped into our range).
  min_ = std::min(min_, std::clamp<int64_t>(other.min_, 0, highest_));
  max_ = std::max(max_, std::clamp<int64_t>(other.max_, 0, highest_));
  sum_ += other.sum_;
}

void LatencyHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  saturated_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
  sum_ = 0;
}

int64_t LatencyHistogram::min() const {
  return total_ == 0 ? 0 : min_;
}
int64_t LatencyHistogram::max() const {
  return total_ == 0 ? 0 : max_;
}
double LatencyHistogram::mean() const {
  return total_ == 0 ? 0 : sum_ / static_cast<double>(total_);
}

int64_t LatencyHistogram::percentile(double p) const {
  if (total_ == 0) return 0;
  if (!(p > 0)) return lowest_equivalent(min_);  // also NaN
  if (p >= 100) return highest_equivalent(max_);
  double wanted = p / 100.0 * static_cast<double>(total_);
  // p/100 is inexact: 90 % of 10 must not come out as 9.000000000000002 and round up to 10.
  double nearest = std::nearbyint(wanted);
  if (std::abs(wanted - nearest) <= 1e-9 * std::max(1.0, wanted)) wanted = nearest;
  int64_t needed = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wanted)));
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= needed) return highest_equivalent(value_at_index(i));
  }
  return highest_equivalent(max_);  // unreachable while counts_ sum to total_
}

std::vector<int64_t> LatencyHistogram::counts_at_or_below(
    const std::vector<int64_t>& ascending_bounds) const {
  std::vector<int64_t> out(ascending_bounds.size(), 0);
  if (total_ == 0) return out;
  int64_t seen = 0;
  size_t next = 0;  // the first count not yet added to `seen`
  for (size_t b = 0; b < ascending_bounds.size(); ++b) {
    const int64_t bound = ascending_bounds[b];
    if (bound < 0) continue;  // nothing is recorded below 0
    const size_t last = bound >= highest_ ? counts_.size() - 1 : index_of(bound);
    for (; next <= last && next < counts_.size(); ++next) seen += counts_[next];
    out[b] = seen;
  }
  return out;
}

void LatencyHistogram::set_exact_extremes(int64_t min, int64_t max, double sum) {
  min_ = min;
  max_ = max;
  sum_ = sum;
}

std::string LatencyHistogram::encode_compressed_base64() const {
  namespace enc = hdr_encoding;
  // Counts up to the last non-zero one; zero runs (even of one) as a single negative count.
  std::vector<uint8_t> counts;
  size_t end = counts_.size();
  while (end > 0 && counts_[end - 1] == 0) --end;
  int64_t zeros = 0;
  for (size_t i = 0; i < end; ++i) {
    if (counts_[i] == 0) {
      ++zeros;
      continue;
    }
    if (zeros > 0) {
      enc::put_zigzag(counts, -zeros);
      zeros = 0;
    }
    enc::put_zigzag(counts, counts_[i]);
  }

  std::vector<uint8_t> payload;
  payload.reserve(kHeaderBytes + counts.size());
  enc::put_be32(payload, kEncodingCookie);
  enc::put_be32(payload, static_cast<uint32_t>(counts.size()));
  enc::put_be32(payload, 0);  // normalizing index offset
  enc::put_be32(payload, static_cast<uint32_t>(digits_));
  enc::put_be64(payload, static_cast<uint64_t>(lowest_));
  enc::put_be64(payload, static_cast<uint64_t>(highest_));
  enc::put_be64(payload, std::bit_cast<uint64_t>(1.0));  // integer-to-double conversion ratio
  payload.insert(payload.end(), counts.begin(), counts.end());

  std::vector<uint8_t> deflated = enc::zlib_compress(payload);
  std::vector<uint8_t> wire;
  wire.reserve(kCompressedHeaderBytes + deflated.size());
  enc::put_be32(wire, kCompressedCookie);
  enc::put_be32(wire, static_cast<uint32_t>(deflated.size()));
  wire.insert(wire.end(), deflated.begin(), deflated.end());
  return enc::base64_encode(wire);
}

std::optional<LatencyHistogram> LatencyHistogram::decode_compressed_base64(std::string_view text) {
  namespace enc = hdr_encoding;
  std::optional<std::vector<uint8_t>> wire = enc::base64_decode(text);
  if (!wire || wire->size() < kCompressedHeaderBytes) return std::nullopt;
  if ((enc::get_be32(wire->data()) & kCookieMask) != kCompressedCookie) return std::nullopt;
  uint32_t deflated_len = enc::get_be32(wire->data() + 4);
  if (deflated_len > wire->size() - kCompressedHeaderBytes) return std::nullopt;

  std::span<const uint8_t> deflated(wire->data() + kCompressedHeaderBytes, deflated_len);
  std::optional<std::vector<uint8_t>> payload =
      enc::zlib_inflate(deflated, kHeaderBytes + kMaxPayloadBytes);
  if (!payload || payload->size() < kHeaderBytes) return std::nullopt;
  const uint8_t* p = payload->data();
  if ((enc::get_be32(p) & kCookieMask) != kEncodingCookie) return std::nullopt;
  uint32_t counts_len = enc::get_be32(p + 4);
  uint32_t index_offset = enc::get_be32(p + 8);
  auto digits = static_cast<int32_t>(enc::get_be32(p + 12));
  auto lowest = static_cast<int64_t>(enc::get_be64(p + 16));
  auto highest = static_cast<int64_t>(enc::get_be64(p + 24));
  if (counts_len > payload->size() - kHeaderBytes) return std::nullopt;
  // Shifted (normalised) histograms are a Java-only feature we never write.
  if (index_offset != 0) return std::nullopt;

  Layout layout;
  try {
    layout = layout_for(lowest, highest, digits);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  if (layout.counts_len > kMaxDecodedCounts) return std::nullopt;
  LatencyHistogram h(lowest, highest, digits);

  std::span<const uint8_t> counts(p + kHeaderBytes, counts_len);
  size_t pos = 0;
  size_t index = 0;
  while (pos < counts.size()) {
    int64_t value = 0;
    if (!enc::get_zigzag(counts, pos, value)) return std::nullopt;
    if (value < 0) {
      // A run of -value zero counts; value == INT64_MIN has no positive counterpart.
      if (value == INT64_MIN) return std::nullopt;
      auto run = static_cast<uint64_t>(-value);
      if (run > h.counts_.size() - index) return std::nullopt;
      index += static_cast<size_t>(run);
      continue;
    }
    if (index >= h.counts_.size()) return std::nullopt;
    h.counts_[index] = value;  // 0 is the Java encoder's single zero
    if (__builtin_add_overflow(h.total_, value, &h.total_)) return std::nullopt;
    ++index;
  }

  // The wire carries counts only: estimate the extremes and sum from the buckets.
  for (size_t i = 0; i < h.counts_.size(); ++i) {
    int64_t count = h.counts_[i];
    if (count == 0) continue;
    int64_t value = h.value_at_index(i);
    h.min_ = std::min(h.min_, value);
    h.max_ = std::max(h.max_, h.highest_equivalent(value));
    // HdrHistogram's median equivalent value, as its mean uses.
    int64_t median = value + (h.size_of_range(value) >> 1);
    h.sum_ += static_cast<double>(median) * static_cast<double>(count);
  }
  return h;
}

}  // namespace trafficsim::core
