#include "cli/progress.hpp"

#include <fmt/format.h>

namespace trafficsim::cli {

ProgressLine::ProgressLine(std::FILE* out, bool quiet)
    : out_(out), quiet_(quiet), tty_(is_tty(fileno(out))), style_(Style::for_fd(fileno(out))) {}

void ProgressLine::update(const load::Snapshot& s) {
  if (quiet_) return;
  const auto& t = s.total;
  std::string line = prefix_ + fmt::format(
      "[{:>7} / {}] {:>10} req/s{}  p95 {:>8}  errors {} ({:.1f}%)",
      format_seconds(s.elapsed_s), format_seconds(s.total_s), format_rate(t.interval_rps),
      t.target_rps > 0 ? fmt::format(" (target {})", format_rate(t.target_rps)) : std::string(),
      format_us(t.interval_p95_us), format_count(t.errors), t.interval_error_ratio * 100);
  if (t.expected_failures > 0)
    line += fmt::format(" + injected {} ({:.1f}%)", format_count(t.expected_failures),
                        t.interval_expected_failure_ratio * 100);
  if (t.dropped > 0) line += fmt::format("  dropped {}", format_count(t.dropped));
  if (suffix_) line += suffix_(s);
  if (s.saturated) line += "  " + style_.yellow("GENERATOR SATURATED");
  if (tty_) {
    fmt::print(out_, "\r\033[K{}", line);
    std::fflush(out_);
    drawn_ = true;
  } else if (s.elapsed_s - last_plain_s_ >= 5.0) {
    fmt::print(out_, "{}\n", line);
    std::fflush(out_);
    last_plain_s_ = s.elapsed_s;
  }
}

void ProgressLine::finish() {
  if (tty_ && drawn_) {
    fmt::print(out_, "\r\033[K");
    std::fflush(out_);
  }
}

}  // namespace trafficsim::cli
