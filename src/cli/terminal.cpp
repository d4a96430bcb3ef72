#include "cli/terminal.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace trafficsim::cli {

bool is_tty(int fd) {
  return ::isatty(fd) == 1;
}

Style Style::for_fd(int fd, bool allow_color) {
  Style s;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  s.color_ = allow_color && is_tty(fd) && !(no_color && *no_color) &&
             !(term && std::string_view(term) == "dumb");
  return s;
}

std::string Style::wrap(std::string_view code, std::string_view s) const {
  if (!color_) return std::string(s);
  return fmt::format("\033[{}m{}\033[0m", code, s);
}

std::string format_us(int64_t us) {
  if (us < 1000) return fmt::format("{}us", us);
  if (us < 1'000'000) return fmt::format("{:.2f}ms", static_cast<double>(us) / 1e3);
  return fmt::format("{:.2f}s", static_cast<double>(us) / 1e6);
}

std::string format_bytes(uint64_t b) {
  if (b < 1024) return fmt::format("{}B", b);
  if (b < 1024 * 1024) return fmt::format("{:.1f}KiB", static_cast<double>(b) / 1024);
  if (b < 1024ull * 1024 * 1024) return fmt::format("{:.1f}MiB", static_cast<double>(b) / 1048576);
  return fmt::format("{:.2f}GiB", static_cast<double>(b) / 1073741824.0);
}

std::string format_count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int c = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (c && c % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++c;
  }
  return out;
}

std::string format_rate(double rps) {
  double whole = std::floor(rps);
  int tenth = static_cast<int>(std::lround((rps - whole) * 10));
  if (tenth == 10) {
    whole += 1;
    tenth = 0;
  }
  return fmt::format("{}.{}", format_count(static_cast<uint64_t>(whole)), tenth);
}

std::string format_seconds(double s) {
  if (s < 60) return fmt::format("{:.1f}s", s);
  int total = static_cast<int>(s);
  if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, total % 60);
  return fmt::format("{}h{:02d}m{:02d}s", total / 3600, (total / 60) % 60, total % 60);
}

}  // namespace trafficsim::cli
