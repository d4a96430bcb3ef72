#pragma once
// Counter-based randomness: everything random about arrival k of a stream derives from
// (run seed, stream key, k, lane) alone, never from what was drawn before. That is what lets a
// segment or a worker compute arrival k without seeing the arrivals other processes send.
#include <cstdint>
#include <string_view>

namespace trafficsim::core {

// SplitMix64 finaliser: a bijective, well-mixed 64-bit hash.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform double in [0, 1) from 64 random bits: the top 53 fill the mantissa exactly
// (multiples of 2^-53).
constexpr double unit_from_bits(uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// Stable 64-bit key of a stream name (FNV-1a, then mixed).
uint64_t stream_key(std::string_view name);

// What a draw is for, so that e.g. the template choice does not depend on the Poisson gap.
enum class Lane : uint64_t { gap = 1, request = 2, body = 3 };

// A small generator for the draws of one arrival (xoshiro256** seeded from the tuple).
class ArrivalRandom {
 public:
  ArrivalRandom(uint64_t run_seed, uint64_t stream, uint64_t k, Lane lane);
  uint64_t next_u64();
  double next_unit();                       // uniform in [0, 1)
  uint64_t below(uint64_t n);               // uniform in [0, n), n > 0
  int64_t between(int64_t lo, int64_t hi);  // uniform in [lo, hi], lo <= hi
  double exponential();                     // Exp(1)

 private:
  uint64_t s_[4];
};

}  // namespace trafficsim::core
