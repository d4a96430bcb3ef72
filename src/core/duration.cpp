#include "core/duration.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace trafficsim::core {

namespace {

constexpr int64_t kNsPerUs = 1'000;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerS = 1'000'000'000;
constexpr int64_t kNsPerMin = 60 * kNsPerS;
constexpr int64_t kNsPerHour = 60 * kNsPerMin;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A decimal number "123" or "123.456" (digits required on both sides of a dot) at the front of
// text. Returns its length, 0 when there is none.
size_t scan_decimal(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) return 0;
  if (i < text.size() && text[i] == '.') {
    size_t frac_start = i + 1;
    size_t j = frac_start;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (j == frac_start) return 0;  // "1." is rejected: a dangling dot is more likely a typo
    i = j;
  }
  return i;
}

std::optional<int64_t> unit_ns(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return kNsPerUs;  // us, µs, μs
  if (unit == "ms") return kNsPerMs;
  if (unit == "s") return kNsPerS;
  if (unit == "m") return kNsPerMin;
  if (unit == "h") return kNsPerHour;
  return std::nullopt;
}

// number * unit in nanoseconds, exact for the integer part, rounded to the nearest ns for the
// fraction; nullopt on overflow.
std::optional<int64_t> scale(std::string_view number, int64_t unit) {
  size_t dot = number.find('.');
  std::string_view int_part = number.substr(0, dot);
  uint64_t whole = 0;
  auto [ptr, ec] = std::from_chars(int_part.data(), int_part.data() + int_part.size(), whole);
  if (ec != std::errc() || ptr != int_part.data() + int_part.size()) return std::nullopt;
  if (whole > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  int64_t ns = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(whole), unit, &ns)) return std::nullopt;
  if (dot == std::string_view::npos) return ns;

  // Beyond 18 fraction digits nothing can change the result at ns resolution (unit <= 1 h).
  std::string_view frac_digits = number.substr(dot + 1, 18);
  uint64_t frac = 0;
  for (char c : frac_digits) frac = frac * 10 + static_cast<uint64_t>(c - '0');
  double fraction = static_cast<double>(frac) / std::pow(10.0, frac_digits.size());
  auto frac_ns = static_cast<int64_t>(std::llround(fraction * static_cast<double>(unit)));
  if (__builtin_add_overflow(ns, frac_ns, &ns)) return std::nullopt;
  return ns;
}

// Appends value / 10^decimals with trailing zeros of the fraction dropped ("12.5", "250").
void append_fixed(std::string& out, uint64_t value, int decimals) {
  uint64_t divisor = 1;
  for (int i = 0; i < decimals; ++i) divisor *= 10;
  out += std::to_string(value / divisor);
  uint64_t frac = value % divisor;
  if (frac == 0) return;
  std::string digits = std::to_string(frac);
  digits.insert(0, static_cast<size_t>(decimals) - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  out += '.';
  out += digits;
}

void append_two_digits(std::string& out, uint64_t value) {
  if (value < 10) out += '0';
  out += std::to_string(value);
}

uint64_t round_to(uint64_t ns, uint64_t quantum) {
  return (ns + quantum / 2) / quantum * quantum;
}

// |d| >= 1 min: "1h02m03s", "2m30s", "1h30m", "1h"; seconds keep up to 3 decimals.
void append_clock(std::string& out, uint64_t ns) {
  ns = round_to(ns, kNsPerMs);
  uint64_t hours = ns / kNsPerHour;
  uint64_t minutes = ns % kNsPerHour / kNsPerMin;
  uint64_t ms = ns % kNsPerMin / kNsPerMs;
  if (hours > 0) {
    out += std::to_string(hours) + "h";
    if (minutes == 0 && ms == 0) return;
    append_two_digits(out, minutes);
    out += 'm';
  } else {
    out += std::to_string(minutes) + "m";
  }
  if (ms == 0) return;
  append_two_digits(out, ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac;
    append_fixed(frac, ms % 1000, 3);  // "0.5" -> keep the ".5"
    out += frac.substr(1);
  }
  out += 's';
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total_ns = 0;
  bool first = true;
  while (!text.empty()) {
    size_t number_len = scan_decimal(text);
    if (number_len == 0) return std::nullopt;  // also rejects a sign: durations are never < 0
    std::string_view number = text.substr(0, number_len);
    text.remove_prefix(number_len);

    size_t unit_len = 0;
    while (unit_len < text.size() && !is_digit(text[unit_len]) && text[unit_len] != '.') {
      ++unit_len;
    }
    std::optional<int64_t> unit;
    if (unit_len == 0) {
      // A bare number means seconds, but only on its own: "1h30" is ambiguous, so rejected.
      if (!first || !text.empty()) return std::nullopt;
      unit = kNsPerS;
    } else {
      unit = unit_ns(text.substr(0, unit_len));
      if (!unit) return std::nullopt;
      text.remove_prefix(unit_len);
    }
    std::optional<int64_t> part = scale(number, *unit);
    if (!part || __builtin_add_overflow(total_ns, *part, &total_ns)) return std::nullopt;
    first = false;
  }
  return std::chrono::nanoseconds(total_ns);
}

std::string format_duration(std::chrono::nanoseconds d) {
  int64_t count = d.count();
  if (count == 0) return "0s";
  std::string out;
  // Magnitude as unsigned so that INT64_MIN has one too.
  uint64_t ns = static_cast<uint64_t>(count);
  if (count < 0) {
    out += '-';
    ns = 0 - ns;
  }
  // Each unit shows up to 3 decimals; rounding can carry into the next unit (999.9996 ms is
  // "1s"), so the unit is chosen from the rounded value. Microseconds show every ns: no carry.
  if (ns >= static_cast<uint64_t>(kNsPerMin) ||
      round_to(ns, kNsPerMs) >= static_cast<uint64_t>(kNsPerMin)) {
    append_clock(out, ns);
  } else if (round_to(ns, kNsPerUs) >= static_cast<uint64_t>(kNsPerS)) {
    append_fixed(out, round_to(ns, kNsPerMs) / kNsPerMs, 3);
    out += 's';
  } else if (ns >= static_cast<uint64_t>(kNsPerMs)) {
    append_fixed(out, round_to(ns, kNsPerUs) / kNsPerUs, 3);
    out += "ms";
  } else if (ns >= static_cast<uint64_t>(kNsPerUs)) {
    append_fixed(out, ns, 3);
    out += "us";
  } else {
    out += std::to_string(ns) + "ns";
  }
  return out;
}

std::string duration_limit_error(std::chrono::nanoseconds d, bool allow_zero) {
  if (d.count() < 0 || (!allow_zero && d.count() == 0))
    return allow_zero ? "must not be negative" : "must be positive";
  if (d > kMaxDuration) return "must be at most 720h (30 days)";
  return {};
}

std::string rate_limit_error(double rps, bool allow_zero) {
  if (!std::isfinite(rps) || rps < 0 || (!allow_zero && rps == 0))
    return allow_zero ? "must not be negative" : "must be positive";
  if (rps > kMaxRateRps) return "must be at most 10M req/s (10000k)";
  return {};
}

std::optional<double> parse_rate_rps(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  std::string_view rest = negative ? text.substr(1) : text;
  size_t number_len = scan_decimal(rest);
  if (number_len == 0) return std::nullopt;
  double value = 0;
  auto [ptr, ec] =
      std::from_chars(rest.data(), rest.data() + number_len, value, std::chars_format::fixed);
  if (ec != std::errc() || ptr != rest.data() + number_len) return std::nullopt;
  rest.remove_prefix(number_len);

  if (!rest.empty() && (rest.front() == 'k' || rest.front() == 'K')) {
    value *= 1000;
    rest.remove_prefix(1);
  }
  if (rest.empty() || rest == "rps" || rest == "/s" || rest == "/sec") {
    // per second already
  } else if (rest == "rpm" || rest == "/m" || rest == "/min") {
    value /= 60;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(value)) return std::nullopt;
  return negative ? -value : value;
}

}  // namespace trafficsim::core
