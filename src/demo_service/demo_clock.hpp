#pragma once
// The Black Friday demo timeline of /products/recommendations: as the demo minute advances the
// endpoint gets slower and fails more often, along one fixed table, so that a monitor watching it
// goes calm -> warming -> surge -> degraded -> critical -> collapse in the same order every run.
// DEMO_TIME_SCALE compresses the story (60 = one demo minute per real second); it never changes
// the table.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/demo_clock.hpp"

namespace trafficsim::demo_service {

enum class DemoPhase { calm, warming, surge, degraded, critical, collapse };

// "calm", "warming", ...
std::string_view demo_phase_name(DemoPhase phase);

// A phase applies from from_minute (inclusive) to the next rule's from_minute (exclusive).
struct PhaseRule {
  DemoPhase phase;
  double from_minute;
  double min_delay_ms;  // added delay, uniform in [min_delay_ms, max_delay_ms]
  double max_delay_ms;
  double failure_ratio;  // scripted failures, 0..1
};

// | demo minute  | added delay    | failure ratio | phase    |
// | 0  <= m < 1  | 100-300 ms     | 0             | calm     |
// | 1  <= m < 5  | 100-300 ms     | 0.02          | warming  |
// | 5  <= m < 10 | 100-300 ms     | 0.15          | surge    |
// | 10 <= m < 15 | 500-1200 ms    | 0.45          | degraded |
// | 15 <= m < 20 | 1200-2500 ms   | 0.65          | critical |
// | m >= 20      | 2500-3200 ms   | 0.78          | collapse |
const std::vector<PhaseRule>& demo_phase_table();

// The rule whose range holds demo_minute; negative (or NaN) minutes are calm.
const PhaseRule& demo_phase_rule(double demo_minute);

// A bad DEMO_* environment variable; the message names the variable and the bad value.
class ConfigError : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

struct DemoSettings {
  bool enabled = false;
  std::string mode;  // "blackfriday" when enabled, "" otherwise
  core::DemoClockSpec clock;  // the same clock type the scenarios run on
};

// Reads, through getenv_fn (returns nullptr when unset):
//   DEMO_MODE             "blackfriday" (any case) enables; unset, "", "off", "none" disable
//   DEMO_START_TIMESTAMP  unix seconds, fractional allowed, >= 0; unset or "" -> now_unix_seconds
//   DEMO_TIME_SCALE       > 0 and <= 3600; default 1
//   DEMO_DURATION_MINUTES > 0; default 30
// Every variable is checked even when the demo is off, so a typo fails at startup rather than on
// the day the demo is switched on. Throws ConfigError.
DemoSettings demo_settings_from_env(const std::function<const char*(const char*)>& getenv_fn,
                                    double now_unix_seconds);

// What the demo timeline does to one GET /products/recommendations request.
struct RecommendationEffect {
  double minute = 0;                  // the demo minute it was decided at; 0 when the demo is off
  DemoPhase phase = DemoPhase::calm;  // the phase of that minute
  double delay_ms = 0;  // added before the query runs: uniform in the phase's delay range; 0 off
  bool fail = false;    // answer 503 "db-timeout" instead of running the query, with the
                        // phase's failure ratio, drawn independently of the delay; false off
};

// Where the demo is in its story. Thread-safe: readers (every request) take one consistent
// reading of the settings without a lock (a sequence lock over atomics); start() and stop()
// (the admin API, the control plane starting a Black Friday job) are rare and serialised among
// themselves.
class DemoClock {
 public:
  using NowFn = std::function<double()>;  // unix seconds; empty means the system clock

  explicit DemoClock(DemoSettings settings, NowFn now = {});
  DemoClock(const DemoClock&) = delete;
  DemoClock& operator=(const DemoClock&) = delete;

  // A consistent copy of the current settings.
  DemoSettings settings() const;

  // Turns the Black Friday demo on with this clock (demo minute 0 at clock.start_unix), from
  // whatever it was: the story starts over. Throws std::invalid_argument for a time scale
  // outside (0, 3600] or a duration <= 0, naming the field.
  void start(const core::DemoClockSpec& clock);
  // Turns the demo off: the endpoint is calm again.
  void stop();

  // (now - start) * time_scale / 60, never below 0 (a start in the future has not begun yet).
  // Always 0 when the demo mode is off: without the demo the endpoint stays calm.
  double minute() const { return minute_at(now_()); }
  double minute_at(double unix_now) const;

  const PhaseRule& rule() const { return demo_phase_rule(minute()); }

  // The decision for one request at unix_now: one reading of the clock, so the delay, the
  // failure and the phase agree. A pure function of (settings, unix_now, random_bits).
  RecommendationEffect effect_at(double unix_now, uint64_t random_bits) const;

  // {"mode","enabled","start_timestamp","time_scale","duration_minutes","minute","phase"}
  boost::json::object to_json() const;

 private:
  struct Reading {
    bool enabled;
    core::DemoClockSpec clock;
  };
  Reading read() const;
  void write(bool enabled, const core::DemoClockSpec& clock);

  mutable std::atomic<uint64_t> seq_{0};  // odd while a write is under way
  std::atomic<bool> enabled_{false};
  std::atomic<double> start_unix_{0};
  std::atomic<double> time_scale_{1};
  std::atomic<double> duration_minutes_{30};
  std::mutex write_mu_;
  NowFn now_;
};

}  // namespace trafficsim::demo_service
