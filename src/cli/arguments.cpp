#include "cli/arguments.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/status_list.hpp"

namespace trafficsim::cli {

http::Url parse_url_arg(const std::string& text, const std::string& flag) {
  std::string error;
  auto url = http::parse_url(text, &error);
  if (!url) throw UsageError(fmt::format("invalid {} '{}': {}", flag, text, error));
  return *url;
}

std::chrono::nanoseconds parse_duration_arg(const std::string& text, const std::string& flag) {
  auto d = core::parse_duration(text);
  if (!d || d->count() <= 0)
    throw UsageError(fmt::format(
        "invalid duration for {}: '{}' (use a positive duration such as 500ms, 30s, 5m or 1h)",
        flag, text));
  if (auto why = core::duration_limit_error(*d); !why.empty())
    throw UsageError(fmt::format("invalid duration for {}: '{}' {}", flag, text, why));
  return *d;
}

double parse_rate_arg(const std::string& text, const std::string& flag) {
  auto r = core::parse_rate_rps(text);
  if (!r || !(*r > 0))
    throw UsageError(
        fmt::format("invalid rate for {}: '{}' (use a positive rate such as 100, 2.5k or 6000rpm)",
                    flag, text));
  if (auto why = core::rate_limit_error(*r); !why.empty())
    throw UsageError(fmt::format("invalid rate for {}: '{}' {}", flag, text, why));
  return *r;
}

uint64_t parse_seed_arg(const std::string& text, const std::string& flag) {
  if (text.empty()) {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  uint64_t seed = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc() || p != text.data() + text.size())
    throw UsageError(fmt::format("invalid {} '{}': expected a whole number", flag, text));
  return seed;
}

double parse_time_scale_arg(const std::string& text, const std::string& flag) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v > 0) || v > 3600)
    throw UsageError(fmt::format(
        "invalid {} '{}': expected a number above 0 and at most 3600 (60: a demo minute per "
        "second)",
        flag, text));
  return v;
}

load::Segment parse_segment_arg(const std::string& text, const std::string& flag) {
  std::string error;
  auto s = load::parse_segment(text, &error);
  if (!s) throw UsageError(fmt::format("invalid {} '{}': {}", flag, text, error));
  return *s;
}

std::pair<std::string, std::string> parse_header_arg(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    throw UsageError(fmt::format("invalid -H/--header '{}': expected 'Name: value'", text));
  std::string name = text.substr(0, colon);
  for (char c : name)
    if (c <= ' ' || c >= 127 || std::strchr("()<>@,;:\\\"/[]?={}", c))
      throw UsageError(
          fmt::format("invalid -H/--header '{}': '{}' is not a valid header name", text, name));
  std::string value = text.substr(colon + 1);
  size_t b = value.find_first_not_of(" \t");
  value = b == std::string::npos ? "" : value.substr(b);
  if (value.find_first_of("\r\n") != std::string::npos)
    throw UsageError(
        fmt::format("invalid -H/--header '{}': the value contains a line break", text));
  return {name, value};
}

std::string parse_method_arg(const std::string& text) {
  if (text.empty())
    throw UsageError("invalid -m/--method '': a method such as GET or POST is required");
  for (char c : text)
    if (!(c >= 'A' && c <= 'Z') && c != '-' && c != '_')
      throw UsageError(fmt::format(
          "invalid -m/--method '{}': use an upper-case method such as GET or POST", text));
  return text;
}

std::string parse_body_arg(const std::string& text) {
  if (text.empty() || text[0] != '@') return text;
  std::string path = text.substr(1);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UsageError(fmt::format("cannot read --body file '{}': {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw UsageError(fmt::format("cannot read --body file '{}'", path));
  return ss.str();
}

std::vector<int> parse_statuses_arg(const std::string& text, const std::string& flag) {
  if (text.empty()) return {};
  std::string bad;
  auto statuses = core::parse_status_list(text, &bad);
  if (!statuses)
    throw UsageError(fmt::format(
        "invalid {} '{}': '{}' is not a status, a range or a class (e.g. 200,201 or 200-499 or "
        "2xx)",
        flag, text, bad));
  return *statuses;
}

std::chrono::system_clock::time_point parse_start_at_arg(const std::string& text,
                                                         const std::string& flag) {
  if (auto t = core::parse_rfc3339(text)) return *t;
  if (auto t = core::parse_unix_seconds(text)) return *t;
  throw UsageError(fmt::format(
      "invalid {} '{}': expected an RFC 3339 time such as 2026-12-02T21:00:00Z or "
      "2026-12-02T21:00:00.250+01:00, or Unix seconds such as 1796000000 or 1796000000.5",
      flag, text));
}

void check_start_at_arg(std::chrono::system_clock::time_point at, std::chrono::nanoseconds length,
                        std::chrono::system_clock::time_point now, const std::string& flag) {
  const auto late = std::chrono::duration_cast<std::chrono::nanoseconds>(now - at);
  if (late <= length) return;
  const double late_s = static_cast<double>(late.count()) / 1e9;
  const double length_s = static_cast<double>(length.count()) / 1e9;
  throw UsageError(fmt::format(
      "invalid {}: {} is {:.3f} s in the past, more than the plan's duration ({:g} s), so "
      "nothing of the plan is left to run; give an instant at most {:g} s ago, or in the future",
      flag, core::format_rfc3339(at, 6), late_s, length_s, length_s));
}

std::string start_at_line(std::chrono::system_clock::time_point at,
                          std::chrono::system_clock::time_point now) {
  const double ahead_s = std::chrono::duration<double>(at - now).count();
  if (ahead_s >= 0)
    return fmt::format("starting at {} (in {:.3f} s)", core::format_rfc3339(at, 6), ahead_s);
  return fmt::format(
      "starting at {} ({:.3f} s late: arrivals already due are sent at once and counted late)",
      core::format_rfc3339(at, 6), -ahead_s);
}

}  // namespace trafficsim::cli
