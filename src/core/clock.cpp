#include "core/clock.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

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

}  // namespace trafficsim::core
