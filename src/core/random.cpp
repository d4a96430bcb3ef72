#include "core/random.hpp"

#include <cmath>

namespace trafficsim::core {

namespace {

__extension__ typedef unsigned __int128
    uint128_t;  // GCC/Clang; __extension__ keeps -Wpedantic quiet

constexpr uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

uint64_t stream_key(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (char c : name) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  // FNV alone leaves short names clustered in the high bits; the finaliser spreads them.
  return mix64(hash);
}

ArrivalRandom::ArrivalRandom(uint64_t run_seed, uint64_t stream, uint64_t k, Lane lane) {
  // Chain the tuple through the bijective mixer so that every component changes the key, then
  // expand the key with SplitMix64. mix64 is a bijection of distinct inputs, so the four words
  // are distinct; the loop only guards against the (2^-64) case of a word being zero.
  uint64_t key = mix64(mix64(mix64(mix64(run_seed) ^ stream) ^ k) ^ static_cast<uint64_t>(lane));
  uint64_t counter = key;
  for (int i = 0; i < 4; ++i) {
    uint64_t word;
    bool usable;
    do {
      word = mix64(counter);
      counter += 0x9e3779b97f4a7c15ULL;
      usable = word != 0;
      for (int j = 0; j < i; ++j) usable = usable && word != s_[j];
    } while (!usable);
    s_[i] = word;
  }
}

uint64_t ArrivalRandom::next_u64() {
  // xoshiro256** 1.0 (Blackman & Vigna).
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double ArrivalRandom::next_unit() {
  return unit_from_bits(next_u64());
}

uint64_t ArrivalRandom::below(uint64_t n) {
  // Lemire's multiply-shift with rejection: unbiased, and usually without a division.
  if (n == 0) return 0;
  uint128_t m = static_cast<uint128_t>(next_u64()) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      m = static_cast<uint128_t>(next_u64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t ArrivalRandom::between(int64_t lo, int64_t hi) {
  if (hi < lo) return lo;
  // Unsigned arithmetic: hi - lo + 1 can exceed INT64_MAX, and wraps to 0 for the full range.
  uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  uint64_t offset = span == 0 ? next_u64() : below(span);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + offset);
}

double ArrivalRandom::exponential() {
  // 1 - u is in (0, 1] and exact (u is a multiple of 2^-53), so the log is finite.
  return -std::log(1.0 - next_unit());
}

}  // namespace trafficsim::core
