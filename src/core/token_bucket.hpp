#pragma once
// Token bucket enforcing a hard cap: capacity B tokens, refilled at R tokens per second, starts
// full. In any window of length T at most B + R*T takes succeed. Time is nanoseconds on any
// monotonic clock; callers pass non-decreasing times.
#include <chrono>
#include <cstdint>

namespace trafficsim::core {

class TokenBucket {
 public:
  TokenBucket(double capacity, double refill_per_s);

  // Takes one token at `now` if one is available.
  bool try_take(std::chrono::nanoseconds now);
  // Earliest time >= now at which try_take would succeed.
  std::chrono::nanoseconds next_available(std::chrono::nanoseconds now) const;

  double capacity() const { return capacity_; }
  double refill_per_s() const { return refill_per_s_; }

 private:
  double tokens_at(std::chrono::nanoseconds now) const;
  double capacity_;
  double refill_per_s_;
  double tokens_;
  std::chrono::nanoseconds last_{0};
};

}  // namespace trafficsim::core
