#include "core/arrival_schedule.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/random.hpp"

namespace trafficsim::core {

// The profile is held by pointer: the caller keeps it alive for the schedule's lifetime.
ArrivalSchedule::ArrivalSchedule(const RateProfile& profile, ArrivalProcess process,
                                 uint64_t run_seed, uint64_t stream, uint64_t first,
                                 uint64_t stride, GapJitter jitter)
    : profile_(&profile),
      process_(process),
      seed_(run_seed),
      stream_(stream),
      stride_(stride),
      next_k_(first),
      jitter_(jitter) {
  if (stride == 0) throw std::invalid_argument("arrival schedule: stride must be >= 1");
  if (!std::isfinite(jitter.min_s) || !std::isfinite(jitter.max_s) || jitter.min_s < 0 ||
      jitter.max_s < jitter.min_s)
    throw std::invalid_argument(
        "arrival schedule: gap jitter must satisfy 0 <= min <= max (seconds)");
}

std::optional<Arrival> ArrivalSchedule::compute(uint64_t k) {
  double x;
  if (process_ == ArrivalProcess::uniform) {
    x = static_cast<double>(k);
  } else {
    // Arrival k needs E_0 + ... + E_{k-1} however the stream is partitioned, so every partition
    // walks every j in the same order: the sums, and therefore the times, are bit-identical
    // across partitions.
    const double total = profile_->total_arrivals();
    while (poisson_k_ < k) {
      poisson_sum_ += ArrivalRandom(seed_, stream_, poisson_k_, Lane::gap).exponential();
      ++poisson_k_;
      if (poisson_sum_ > total) return std::nullopt;  // every later arrival is past the end too
    }
    x = poisson_sum_;
  }
  double t_s = profile_->inverse_cumulative(x);
  if (!(t_s < profile_->duration_s())) return std::nullopt;  // also +infinity
  if (!jitter_.none()) {
    // Arrival k is shifted by d_1 + ... + d_k; like the Poisson sums, every partition walks
    // every j in order so the shifts are bit-identical however the stream is split.
    const uint64_t key = stream_ ^ kGapJitterKeySalt;
    const double width = jitter_.max_s - jitter_.min_s;
    while (jitter_k_ < k) {
      ++jitter_k_;
      jitter_sum_ +=
          jitter_.min_s + width * ArrivalRandom(seed_, key, jitter_k_, Lane::gap).next_unit();
    }
    t_s += jitter_sum_;
    // Times stay non-decreasing in k, so the first one past the end ends the schedule.
    if (!(t_s < profile_->duration_s())) return std::nullopt;
  }
  return Arrival{k, t_s};
}

std::optional<Arrival> ArrivalSchedule::next() {
  std::optional<Arrival> result = peek();
  peeked_.reset();
  return result;
}

std::optional<Arrival> ArrivalSchedule::peek() {
  if (peeked_ || done_) return peeked_;
  peeked_ = compute(next_k_);
  if (!peeked_ || next_k_ > std::numeric_limits<uint64_t>::max() - stride_) {
    done_ = true;  // times are non-decreasing in k: once one is past the end, all are
  } else {
    next_k_ += stride_;
  }
  return peeked_;
}

}  // namespace trafficsim::core
