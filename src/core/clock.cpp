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

using TimePoint = std::chrono::system_clock::time_point;

// Reads exactly `n` digits at text[*pos]; advances *pos.
std::optional<int> digits(std::string_view text, size_t* pos, size_t n) {
  if (*pos + n > text.size()) return std::nullopt;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  return v;
}

// ".ddd…" at text[*pos] (optional): nanoseconds, extra digits truncated. nullopt when a '.' has
// no digit after it.
std::optional<int64_t> fraction_ns(std::string_view text, size_t* pos) {
  if (*pos >= text.size() || text[*pos] != '.') return 0;
  ++*pos;
  int64_t ns = 0;
  size_t n = 0;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    if (n < 9) ns = ns * 10 + (text[*pos] - '0');
    ++n;
    ++*pos;
  }
  if (n == 0) return std::nullopt;
  for (size_t i = n; i < 9; ++i) ns *= 10;
  return ns;
}

TimePoint from_ns(int64_t ns) {
  return TimePoint(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::nanoseconds(ns)));
}

}  // namespace

// Seconds whose nanosecond count still fits an int64 (about year 2255 either side of 1970):
// beyond, the multiplication would overflow (UBSan found 99999999999 seconds).
constexpr int64_t kMaxNanosecondSeconds = 9'000'000'000;

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  size_t pos = 0;
  auto expect = [&](char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
  };
  auto y = digits(text, &pos, 4);
  if (!y || !expect('-')) return std::nullopt;
  auto mo = digits(text, &pos, 2);
  if (!mo || !expect('-')) return std::nullopt;
  auto d = digits(text, &pos, 2);
  if (!d || pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return std::nullopt;
  ++pos;
  auto h = digits(text, &pos, 2);
  if (!h || !expect(':')) return std::nullopt;
  auto mi = digits(text, &pos, 2);
  if (!mi || !expect(':')) return std::nullopt;
  auto se = digits(text, &pos, 2);
  if (!se) return std::nullopt;
  auto frac = fraction_ns(text, &pos);
  if (!frac || pos >= text.size()) return std::nullopt;
  int offset_min = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    auto oh = digits(text, &pos, 2);
    if (!oh || !expect(':')) return std::nullopt;
    auto om = digits(text, &pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_min = sign * (*oh * 60 + *om);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*y},
                                        std::chrono::month{static_cast<unsigned>(*mo)},
                                        std::chrono::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 59) return std::nullopt;
  const int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  const int64_t secs = days * 86400 + *h * 3600 + *mi * 60 + *se - offset_min * 60;
  if (secs > kMaxNanosecondSeconds || secs < -kMaxNanosecondSeconds) return std::nullopt;
  return from_ns(secs * 1'000'000'000 + *frac);
}

std::optional<TimePoint> parse_unix_seconds(std::string_view text) {
  size_t pos = 0;
  int64_t secs = 0;
  size_t n = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (++n > 11) return std::nullopt;  // beyond year 5000: not a start time
    secs = secs * 10 + (text[pos] - '0');
    ++pos;
  }
  if (n == 0) return std::nullopt;
  auto frac = fraction_ns(text, &pos);
  if (!frac || pos != text.size()) return std::nullopt;
  if (secs > kMaxNanosecondSeconds) return std::nullopt;
  return from_ns(secs * 1'000'000'000 + *frac);
}

std::optional<double> parse_start_instant(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<double> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty: expected RFC 3339 (2026-12-02T21:30:00Z) or Unix seconds");
  auto t = text.find_first_not_of("0123456789.") == std::string_view::npos
               ? parse_unix_seconds(text)
               : parse_rfc3339(text);
  if (!t) {
    return fail("'" + std::string(text) +
                "' is neither RFC 3339 with a time zone (2026-12-02T21:30:00Z, "
                "2026-12-02T22:30:00+01:00) nor Unix seconds (1796247000, 1796247000.25)");
  }
  // Whole seconds and the fraction apart: the nanosecond count as one double would lose digits.
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count();
  const double secs = static_cast<double>(ns / 1'000'000'000) +
                      static_cast<double>(ns % 1'000'000'000) / 1e9;
  if (secs < 0) return fail("'" + std::string(text) + "' is before 1970");
  if (secs >= 4102444800.0) return fail("'" + std::string(text) + "' is after 2099: not a start time");
  return secs;
}

}  // namespace trafficsim::core
