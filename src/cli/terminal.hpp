#pragma once
// Human-facing formatting for the CLI: colours (only on a TTY, never with NO_COLOR), units.
#include <cstdint>
#include <string>
#include <string_view>

namespace trafficsim::cli {

class Style {
 public:
  // Colours when `fd` is a terminal, NO_COLOR is unset and colour is not disabled.
  static Style for_fd(int fd, bool allow_color = true);
  std::string bold(std::string_view s) const { return wrap("1", s); }
  std::string dim(std::string_view s) const { return wrap("2", s); }
  std::string red(std::string_view s) const { return wrap("31", s); }
  std::string green(std::string_view s) const { return wrap("32", s); }
  std::string yellow(std::string_view s) const { return wrap("33", s); }
  std::string cyan(std::string_view s) const { return wrap("36", s); }
  bool color() const { return color_; }

 private:
  std::string wrap(std::string_view code, std::string_view s) const;
  bool color_ = false;
};

bool is_tty(int fd);
std::string format_us(int64_t us);         // "812us", "1.23ms", "4.56s"
std::string format_bytes(uint64_t bytes);  // "512B", "12.3KiB", "4.5MiB"
std::string format_count(uint64_t n);      // "1,234,567"
std::string format_rate(double rps);       // "12,345.6"
std::string format_seconds(double s);      // "12.5s", "2m05s"

}  // namespace trafficsim::cli
