#pragma once
#include <cstdint>
#include <mutex>
#include <vector>

namespace trafficsim::telemetry {

// Events and failures over the last `window_seconds`, for "error rate over the last minute".
// Counts go into one-second slots, so the window is exact to one second: totals(now) sums the
// seconds floor(now) - window + 1 .. floor(now). Time is injected (monotonic seconds) so tests
// control it. A record for a second that has already left the window (its slot reused by a later
// second) is ignored. Thread-safe: a mutex, which is fine at one touch per request.
class WindowedRatio {
 public:
  // window_seconds >= 1, otherwise std::invalid_argument.
  explicit WindowedRatio(int window_seconds = 60);

  void record(bool failed, double now_seconds);

  struct Totals {
    uint64_t events = 0;
    uint64_t failures = 0;
    double ratio() const;  // failures / events; 0 when there were no events
  };
  Totals totals(double now_seconds) const;

  int window_seconds() const { return static_cast<int>(slots_.size()); }

 private:
  struct Slot {
    int64_t second = INT64_MIN;  // which second the counts belong to
    uint64_t events = 0;
    uint64_t failures = 0;
  };
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;  // slot of second s is s mod window
};

}  // namespace trafficsim::telemetry
