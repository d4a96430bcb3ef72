#pragma once
// The arrival schedule of one stream: the intended send time of every arrival k, derived from
// the rate profile alone. A partition (first, stride) walks only k = first, first + stride, ...
// which is how workers (k mod W) and segments (k mod n) split a plan without overlap.
#include <cstdint>
#include <optional>

#include "core/rate_profile.hpp"

namespace trafficsim::core {

enum class ArrivalProcess { uniform, poisson };

struct Arrival {
  uint64_t k;         // global arrival index within the stream, 0-based
  double intended_s;  // intended send time, seconds since run start
};

// Extra time added to every inter-arrival gap: d_j ~ U(min_s, max_s) seconds for j >= 1, drawn
// from ArrivalRandom(seed, stream ^ kGapJitterKeySalt, j, Lane::gap). The salt keeps these draws
// apart from the Poisson gaps E_j, which use the same lane with the stream key itself.
// 0 <= min_s <= max_s; {0, 0} (the default) means no jitter.
struct GapJitter {
  double min_s = 0;
  double max_s = 0;
  bool none() const { return min_s == 0 && max_s == 0; }
};
inline constexpr uint64_t kGapJitterKeySalt = 0x6a09e667f3bcc909ULL;

class ArrivalSchedule {
 public:
  // uniform: arrival k at inverse_cumulative(k), so any window holds integral +- 1 arrivals.
  // poisson: arrival k at inverse_cumulative(E_0 + ... + E_{k-1}), E_j ~ Exp(1) drawn from
  //          ArrivalRandom(seed, stream, j, Lane::gap); arrival 0 at t = 0.
  // With gap jitter, arrival k is at the time above plus d_1 + ... + d_k (see GapJitter);
  // arrivals from the first one at or past the profile's duration on are dropped. Throws
  // std::invalid_argument for a stride of 0 or an invalid jitter (negative, min > max, not
  // finite).
  ArrivalSchedule(const RateProfile& profile, ArrivalProcess process, uint64_t run_seed,
                  uint64_t stream, uint64_t first, uint64_t stride, GapJitter jitter = {});

  // The schedule keeps a pointer to the profile: a temporary would dangle.
  ArrivalSchedule(RateProfile&& profile, ArrivalProcess process, uint64_t run_seed,
                  uint64_t stream, uint64_t first, uint64_t stride, GapJitter jitter = {}) = delete;

  // The next arrival of this partition, or nullopt once past the profile's end.
  std::optional<Arrival> next();
  // The arrival next() would return, without consuming it.
  std::optional<Arrival> peek();

 private:
  std::optional<Arrival> compute(uint64_t k);
  const RateProfile* profile_;
  ArrivalProcess process_;
  uint64_t seed_, stream_, stride_;
  uint64_t next_k_;
  // poisson: cumulative sum of gaps for all j < poisson_k_ (walks every k, keeps only ours)
  uint64_t poisson_k_ = 0;
  double poisson_sum_ = 0;
  // jitter: d_1 + ... + d_{jitter_k_} (walks every j too, so partitions agree bit for bit)
  GapJitter jitter_;
  uint64_t jitter_k_ = 0;
  double jitter_sum_ = 0;
  std::optional<Arrival> peeked_;
  bool done_ = false;
};

}  // namespace trafficsim::core
