#include "core/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace trafficsim::core {

namespace {

// Refill arithmetic is in doubles, so "exactly one token" can come out as 0.9999999999. Without
// slack a taker waiting precisely until next_available() could be refused forever. 1e-9 of a
// token per take cannot add up to a whole extra take over any realistic run.
constexpr double kEpsilonTokens = 1e-9;

// The one formula for the refill, shared by tokens_at() and next_available() so that the time
// next_available() returns is exactly the first at which try_take() succeeds.
double refilled(double tokens, double capacity, double refill_per_s, int64_t elapsed_ns) {
  return std::min(capacity, tokens + static_cast<double>(elapsed_ns) * 1e-9 * refill_per_s);
}

}  // namespace

// A bucket that can never hold one whole token could never grant a take, so a capacity below 1
// (a segment's share of a small cap, say 0.5) is raised to 1: bursts of one, still at rate R.
TokenBucket::TokenBucket(double capacity, double refill_per_s)
    : capacity_(capacity), refill_per_s_(refill_per_s) {
  if (!std::isfinite(capacity) || capacity < 0) {
    throw std::invalid_argument("token bucket: capacity must be finite and >= 0");
  }
  if (!std::isfinite(refill_per_s) || refill_per_s < 0) {
    throw std::invalid_argument("token bucket: refill rate must be finite and >= 0 per second");
  }
  capacity_ = std::max(capacity_, 1.0);
  tokens_ = capacity_;
}

double TokenBucket::tokens_at(std::chrono::nanoseconds now) const {
  // Time never runs backwards for the bucket, even if a caller's clock does.
  return refilled(tokens_, capacity_, refill_per_s_, std::max<int64_t>(0, (now - last_).count()));
}

bool TokenBucket::try_take(std::chrono::nanoseconds now) {
  double tokens = tokens_at(now);
  if (tokens < 1 - kEpsilonTokens) return false;
  // Keep the (at most epsilon) debt rather than clamping at 0, so the slack is not a gift.
  tokens_ = tokens - 1;
  last_ = std::max(last_, now);
  return true;
}

std::chrono::nanoseconds TokenBucket::next_available(std::chrono::nanoseconds now) const {
  if (tokens_at(now) >= 1 - kEpsilonTokens) return now;
  if (refill_per_s_ <= 0) return std::chrono::nanoseconds::max();
  const int64_t max_wait_ns = std::numeric_limits<int64_t>::max() - last_.count();
  double estimate_ns = std::ceil((1 - tokens_) / refill_per_s_ * 1e9);
  if (!(estimate_ns < static_cast<double>(max_wait_ns) - 16)) {
    return std::chrono::nanoseconds::max();
  }
  // The closed form can be a nanosecond off either way after rounding; settle on the first
  // nanosecond that try_take() accepts (a step or two at most).
  auto wait_ns = static_cast<int64_t>(estimate_ns);
  auto ok = [&](int64_t ns) {
    return refilled(tokens_, capacity_, refill_per_s_, ns) >= 1 - kEpsilonTokens;
  };
  while (wait_ns > 0 && ok(wait_ns - 1)) --wait_ns;
  while (!ok(wait_ns) && wait_ns < max_wait_ns) ++wait_ns;
  return std::max(now, last_ + std::chrono::nanoseconds(wait_ns));
}

}  // namespace trafficsim::core
