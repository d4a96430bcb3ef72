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
  double elapsed_s = static_cast<double>(std::max<int64_t>(0, (now - last_).count())) * 1e-9;
  return std::min(capacity_, tokens_ + elapsed_s * refill_per_s_);
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
  // Measured from last_, exactly as tokens_at() measures, and rounded up: at the returned time
  // tokens_at() is >= 1 up to rounding, which kEpsilonTokens covers.
  double wait_ns = std::ceil((1 - tokens_) / refill_per_s_ * 1e9);
  double max_ns = static_cast<double>(std::numeric_limits<int64_t>::max());
  if (!(wait_ns < max_ns - static_cast<double>(last_.count()))) {
    return std::chrono::nanoseconds::max();
  }
  auto at = last_ + std::chrono::nanoseconds(static_cast<int64_t>(wait_ns));
  return std::max(now, at);
}

}  // namespace trafficsim::core
