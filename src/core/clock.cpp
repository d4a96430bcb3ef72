#include "core/clock.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace trafficsim::core {

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_rfc3339(std::chrono::system_clock::time_point t, int fraction_digits) {
  fraction_digits = std::clamp(fraction_digits, 0, 9);
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  // Floor division so that instants before 1970 keep a fraction in [0, 1 s).
  int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  time_t tt = static_cast<time_t>(secs);
  tm utc{};
  gmtime_r(&tt, &utc);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900,
                        utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  std::string out(buf, static_cast<size_t>(n));
  if (fraction_digits > 0) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%09lld", static_cast<long long>(frac));
    out += '.';
    out.append(digits, static_cast<size_t>(fraction_digits));
  }
  out += 'Z';
  return out;
}

std::string format_rfc3339(double unix_seconds, int fraction_digits) {
  auto ns = static_cast<int64_t>(std::floor(unix_seconds * 1e9));
  return format_rfc3339(std::chrono::system_clock::time_point(
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::nanoseconds(ns))),
                        fraction_digits);
}

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads exactly n digits at text[pos...]; false when they are not all digits.
bool digits(std::string_view text, size_t pos, size_t n, int64_t& out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::optional<double> parse_start_instant(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<double> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const std::string shown(text);
  if (text.empty()) return fail("empty: expected RFC 3339 (2026-12-02T21:30:00Z) or Unix seconds");
  // Unix seconds: digits with an optional fraction.
  if (text.find_first_not_of("0123456789.") == std::string_view::npos) {
    size_t dot = text.find('.');
    if (dot == 0 || dot == text.size() - 1 ||
        (dot != std::string_view::npos && text.find('.', dot + 1) != std::string_view::npos) ||
        (dot == std::string_view::npos ? text.size() : dot) > 10)
      return fail("'" + shown + "' is not Unix seconds (digits, an optional fraction)");
    double v = std::strtod(shown.c_str(), nullptr);
    if (v > 253402300799.0) return fail("'" + shown + "' is past the year 9999");
    return v;
  }
  const std::string bad = "'" + shown +
                          "' is neither RFC 3339 with a time zone (2026-12-02T21:30:00Z, "
                          "2026-12-02T22:30:00+01:00) nor Unix seconds";
  int64_t y, mo, d, h, mi, s;
  if (!digits(text, 0, 4, y) || text.size() < 20 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d) || (text[10] != 'T' && text[10] != 't') ||
      !digits(text, 11, 2, h) || text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' ||
      !digits(text, 17, 2, s))
    return fail(bad);
  size_t pos = 19;
  double frac = 0;
  if (pos < text.size() && text[pos] == '.') {
    size_t start = ++pos;
    double scale = 0.1;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      frac += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return fail(bad);
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int64_t oh, om;
    if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(text, pos + 4, 2, om) || oh > 23 || om > 59)
      return fail(bad);
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return fail(bad);
  }
  if (pos != text.size()) return fail(bad);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
      d > kDays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0) || h > 23 || mi > 59 || s > 60)
    return fail("'" + shown + "' is not a valid date and time");
  if (s == 60) s = 59;  // a leap second: the instant just before the next minute
  const int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) *
                           86400 +
                       h * 3600 + mi * 60 + s - offset_s;
  return static_cast<double>(secs) + frac;
}

}  // namespace trafficsim::core
