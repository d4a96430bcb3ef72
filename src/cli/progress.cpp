#include "cli/progress.hpp"

#include <fmt/format.h>

namespace trafficsim::cli {

std::string progress_text(const load::Snapshot& s, const Style& style) {
  const auto& t = s.total;
  std::string line;
  if (s.draining) {
    line = fmt::format("[{:>7} / {}] draining: {} in flight", format_seconds(s.total_s),
                       format_seconds(s.total_s), format_count(t.in_flight));
    line += fmt::format("  done {:>8}/s", format_rate(t.interval_rps));
  } else if (t.target_rps > 0) {
    line = fmt::format("[{:>7} / {}] sent {:>8}/s (target {}/s)  done {:>8}/s",
                       format_seconds(s.elapsed_s), format_seconds(s.total_s),
                       format_rate(t.interval_sent_rps), format_rate(t.target_rps),
                       format_rate(t.interval_rps));
  } else {
    line = fmt::format("[{:>7} / {}] {:>10} req/s", format_seconds(s.elapsed_s),
                       format_seconds(s.total_s), format_rate(t.interval_rps));
  }
  line += fmt::format("  p95 {:>8}  errors {} ({:.1f}%)", format_us(t.interval_p95_us),
                      format_count(t.errors), t.interval_error_ratio * 100);
  if (t.expected_failures > 0)
    line += fmt::format(" + injected {} ({:.1f}%)", format_count(t.expected_failures),
                        t.interval_expected_failure_ratio * 100);
  if (t.dropped > 0) line += fmt::format("  dropped {}", format_count(t.dropped));
  if (s.saturated) line += "  " + style.yellow("GENERATOR SATURATED");
  return line;
}

ProgressLine::ProgressLine(std::FILE* out, bool quiet)
    : out_(out), quiet_(quiet), tty_(is_tty(fileno(out))), style_(Style::for_fd(fileno(out))) {}

void ProgressLine::update(const load::Snapshot& s, const std::string& prefix,
                          const std::string& suffix) {
  if (quiet_) return;
  std::string line = prefix + progress_text(s, style_) + suffix;
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
