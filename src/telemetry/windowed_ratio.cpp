#include "telemetry/windowed_ratio.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace trafficsim::telemetry {

double WindowedRatio::Totals::ratio() const {
  return events == 0 ? 0.0 : static_cast<double>(failures) / static_cast<double>(events);
}

WindowedRatio::WindowedRatio(int window_seconds) {
  if (window_seconds < 1) {
    throw std::invalid_argument(
        fmt::format("WindowedRatio window must be at least 1 s (got {})", window_seconds));
  }
  slots_.resize(static_cast<size_t>(window_seconds));
}

namespace {

// Times beyond this are not monotonic-clock seconds and would overflow the slot arithmetic.
constexpr double kMaxAbsSeconds = 1e15;

// Slot of second s: s mod window, non-negative for negative s too.
size_t slot_index(int64_t second, size_t window) {
  const auto w = static_cast<int64_t>(window);
  return static_cast<size_t>(((second % w) + w) % w);
}

}  // namespace

void WindowedRatio::record(bool failed, double now_seconds) {
  if (!(std::fabs(now_seconds) < kMaxAbsSeconds)) return;
  const auto second = static_cast<int64_t>(std::floor(now_seconds));
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[slot_index(second, slots_.size())];
  if (slot.second > second) return;  // a later second already owns the slot: too old to count
  if (slot.second < second) slot = Slot{second, 0, 0};
  ++slot.events;
  if (failed) ++slot.failures;
}

WindowedRatio::Totals WindowedRatio::totals(double now_seconds) const {
  Totals totals;
  if (!(std::fabs(now_seconds) < kMaxAbsSeconds)) return totals;
  const auto newest = static_cast<int64_t>(std::floor(now_seconds));
  const int64_t oldest = newest - static_cast<int64_t>(slots_.size()) + 1;
  std::lock_guard lock(mutex_);
  for (const Slot& slot : slots_) {
    if (slot.second >= oldest && slot.second <= newest) {
      totals.events += slot.events;
      totals.failures += slot.failures;
    }
  }
  return totals;
}

}  // namespace trafficsim::telemetry
