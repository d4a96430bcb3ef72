#pragma once
// An HDR (high dynamic range) histogram, written to HdrHistogram's specification: log-linear
// buckets covering [lowest, highest] with a fixed number of significant decimal digits, so every
// recorded value is kept to within 10^-digits relative error and memory depends only on range
// and precision, never on how many values are recorded. Merge adds counts, so percentiles of
// merged histograms are exactly those of one histogram fed every value.
// Latencies are recorded in microseconds: the default range is 1 us .. 1 h at 3 digits.
// Not thread-safe: one owner records; others get merged copies.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::core {

class LatencyHistogram {
 public:
  static constexpr int64_t kDefaultLowest = 1;
  static constexpr int64_t kDefaultHighest = 3'600'000'000;  // 1 h in microseconds
  static constexpr int kDefaultDigits = 3;

  LatencyHistogram(int64_t lowest = kDefaultLowest, int64_t highest = kDefaultHighest,
                   int significant_digits = kDefaultDigits);

  // Records value (values < 0 record as 0; values > highest record as highest and count in
  // saturated()).
  void record(int64_t value) { record_n(value, 1); }
  void record_n(int64_t value, int64_t count);
  // Adds every count of other (same configuration required; otherwise its values are re-recorded).
  void merge(const LatencyHistogram& other);
  void reset();

  int64_t count() const { return total_; }
  int64_t saturated() const { return saturated_; }
  // Exact extremes and mean of what was recorded (0 when empty).
  int64_t min() const;
  int64_t max() const;
  double mean() const;
  // Value at percentile p in [0, 100]: the highest value equivalent (same bucket) to the smallest
  // recorded value v such that at least p % of values are <= v. 0 when empty.
  int64_t percentile(double p) const;
  // For each bound (ascending), how many recorded values are at or below it, in one pass over
  // the counts (Prometheus `le` buckets). To the histogram's resolution: a value counts when it
  // shares the bound's bucket, so it may exceed the bound by at most the bucket's width (10^-digits
  // relative). Bounds at or above highest() count everything.
  std::vector<int64_t> counts_at_or_below(const std::vector<int64_t>& ascending_bounds) const;

  // HdrHistogram "V2 compressed" encoding (zlib-deflated, base64): readable by other HDR tools.
  std::string encode_compressed_base64() const;
  // Decodes what encode_compressed_base64 (or another HdrHistogram V2 encoder) produced. Exact
  // min/max/mean are estimated from buckets; restore them with set_exact_extremes when known.
  static std::optional<LatencyHistogram> decode_compressed_base64(std::string_view text);
  void set_exact_extremes(int64_t min, int64_t max, double sum);

  int64_t lowest() const { return lowest_; }
  int64_t highest() const { return highest_; }
  int significant_digits() const { return digits_; }
  size_t memory_bytes() const { return counts_.size() * sizeof(int64_t); }

  // Bucket arithmetic, exposed for tests.
  int64_t lowest_equivalent(int64_t value) const;
  int64_t highest_equivalent(int64_t value) const;

 private:
  size_t index_of(int64_t value) const;
  int64_t value_at_index(size_t index) const;
  int64_t size_of_range(int64_t value) const;

  int64_t lowest_, highest_;
  int digits_;
  int unit_magnitude_ = 0;
  int sub_bucket_half_count_magnitude_ = 0;
  int64_t sub_bucket_count_ = 0;
  int64_t sub_bucket_half_count_ = 0;
  int64_t sub_bucket_mask_ = 0;
  int bucket_count_ = 0;
  std::vector<int64_t> counts_;
  int64_t total_ = 0;
  int64_t saturated_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace trafficsim::core
