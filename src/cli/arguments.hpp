#pragma once
// Validation of command-line values shared by the subcommands. Each failure is a UsageError
// whose message names the flag and says what a good value looks like.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "http/url.hpp"
#include "load/plan.hpp"

namespace trafficsim::cli {

// Exit codes (documented in the README).
enum ExitCode : int {
  kExitOk = 0,
  kExitRunFailed = 1,     // the run could not start (unresolvable host, unwritable report, ...)
  kExitUsage = 2,         // bad flags or values
  kExitInterrupted = 130  // a second Ctrl+C
};

class UsageError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

http::Url parse_url_arg(const std::string& text, const std::string& flag);
std::chrono::nanoseconds parse_duration_arg(const std::string& text, const std::string& flag);
double parse_rate_arg(const std::string& text, const std::string& flag);
load::Segment parse_segment_arg(const std::string& text, const std::string& flag);
std::pair<std::string, std::string> parse_header_arg(const std::string& text);
std::string parse_method_arg(const std::string& text);
// "STR" or "@file" (the file's bytes).
std::string parse_body_arg(const std::string& text);
// A whole number; empty -> a random seed (recorded in reports so a run can be repeated).
uint64_t parse_seed_arg(const std::string& text, const std::string& flag);
// A demo-clock time scale: > 0 and <= 3600.
double parse_time_scale_arg(const std::string& text, const std::string& flag);
// The --start-at help of bench, run and play.
inline constexpr const char* kStartAtHelp =
    "Start at this wall-clock instant: RFC 3339 (2026-12-02T21:00:00Z, "
    "2026-12-02T21:00:00.250+01:00) or Unix seconds (1796000000, 1796000000.5). Segments given "
    "the same instant share one schedule (arrival k at start + its offset); a late start sends "
    "what is due at once, counted late; the run ends at start + duration. At most the duration "
    "in the past";
// --start-at: RFC 3339 ("2026-12-02T21:00:00Z", "2026-12-02T21:00:00.250+01:00") or Unix
// seconds ("1796000000", "1796000000.5").
std::chrono::system_clock::time_point parse_start_at_arg(const std::string& text,
                                                         const std::string& flag);
// A start in the past by more than the plan's length (nothing of it left to run) is refused,
// naming the instant and how far in the past it is; a smaller lateness is a late start.
void check_start_at_arg(std::chrono::system_clock::time_point at, std::chrono::nanoseconds length,
                        std::chrono::system_clock::time_point now, const std::string& flag);
// What a command prints before it waits: "starting at …Z (in 2.0 s)" or "(1.0 s late: …)".
std::string start_at_line(std::chrono::system_clock::time_point at,
                          std::chrono::system_clock::time_point now);
// "200,201,404", "200-499", "2xx" (core/status_list.hpp) -> statuses; empty -> empty.
std::vector<int> parse_statuses_arg(const std::string& text, const std::string& flag);

}  // namespace trafficsim::cli
