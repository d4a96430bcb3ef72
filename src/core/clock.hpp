#pragma once
// The one time vocabulary: a monotonic "now" for intervals, deadlines and schedules, a Unix
// "now" for wall-clock stamps and the demo clock, and RFC 3339 formatting for reports, logs and
// APIs. Everything in src/ that reads a clock or prints a timestamp goes through here.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trafficsim::core {

// CLOCK_MONOTONIC in nanoseconds: never jumps, unrelated to wall time. Async-signal-safe; inline
// because the load engine's loop reads it on every wake-up.
inline int64_t monotonic_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Wall-clock seconds since the Unix epoch (system_clock), with the sub-second fraction.
double unix_now_s();
// The same in whole nanoseconds (OTLP's timestamps).
inline uint64_t unix_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

// RFC 3339 in UTC with `fraction_digits` (0..9, clamped) digits after the seconds:
// "2026-12-01T17:31:56.123Z". The fraction is truncated, never rounded up into the next second.
std::string format_rfc3339(std::chrono::system_clock::time_point t, int fraction_digits = 3);
std::string format_rfc3339(double unix_seconds, int fraction_digits = 3);

// Parses an RFC 3339 date-time: "2026-12-02T21:00:00Z", "2026-12-02t21:00:00.250+01:00" (T or
// t; Z, z or a ±HH:MM offset; any number of fraction digits, kept to the nanosecond). nullopt
// for anything else, including an impossible date or time (month 13, 30 February, 24:00).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);
// Parses Unix seconds, "1796000000" or "1796000000.5" (no sign, no exponent; nanoseconds).
std::optional<std::chrono::system_clock::time_point> parse_unix_seconds(std::string_view text);
// A start instant as `deploy k8s --start-at` takes it: parse_rfc3339 or parse_unix_seconds, in
// Unix seconds; nullopt with *error saying what is wrong (without the flag's name).
std::optional<double> parse_start_instant(std::string_view text, std::string* error);

}  // namespace trafficsim::core
