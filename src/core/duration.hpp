#pragma once
// Parsing of human durations and rates at the CLI / file edges.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace trafficsim::core {

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
