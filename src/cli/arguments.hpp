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
// "200,201,404", "200-499", "2xx" (core/status_list.hpp) -> statuses; empty -> empty.
std::vector<int> parse_statuses_arg(const std::string& text, const std::string& flag);

}  // namespace trafficsim::cli
