#pragma once
// Parsing of human durations and rates at the CLI / file edges.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace trafficsim::core {

// The one documented maximum of every duration and every rate a flag or a file accepts
// (docs/scenarios.md, README). A month covers the longest soak anyone runs and keeps every
// nanosecond count, every schedule product (rate x duration) and every printed form far from
// overflow; 10 M req/s is above what one machine can send.
inline constexpr std::chrono::hours kMaxDuration{30 * 24};
inline constexpr double kMaxRateRps = 10'000'000;

// Checks a parsed duration against (0 or 1 ns, kMaxDuration]: empty when it is fine, otherwise
// what is wrong, to follow the field's name ("must be at most 720h (30 days)").
std::string duration_limit_error(std::chrono::nanoseconds d, bool allow_zero = false);
// Checks a parsed rate against [0 or > 0, kMaxRateRps]; same convention.
std::string rate_limit_error(double rps, bool allow_zero = false);

// Parses "250ms", "30s", "5m", "1h", "1h30m", "1.5s", "100us"; a bare number means seconds.
// Returns nullopt for anything else (empty, negative, unknown unit such as "5x", overflow).
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

// "1h02m03s", "2m30s", "12.5s", "250ms", "800us" — shortest readable form.
std::string format_duration(std::chrono::nanoseconds d);

// Parses a rate and returns requests per second: "100", "100rps", "100/s", "6000rpm", "6000/m",
// "2.5k" (= 2500 rps). Returns nullopt for malformed text; zero and negative are returned as
// parsed so the caller can name the field in its message.
std::optional<double> parse_rate_rps(std::string_view text);

}  // namespace trafficsim::core
