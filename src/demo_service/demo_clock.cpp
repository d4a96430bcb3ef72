#include "demo_service/demo_clock.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>

#include "core/ascii.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"

namespace trafficsim::demo_service {

namespace {

constexpr double kMaxTimeScale = 3600;
// Salt so that the failure draw is independent of the delay draw from the same bits.
constexpr uint64_t kFailureSalt = 0x6661696c75726521ULL;

// The whole text as a finite decimal number ("12", "1.5", "1.7e9"); nullopt otherwise.
std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

[[noreturn]] void fail(std::string_view variable, std::string_view value,
                       std::string_view expected) {
  throw ConfigError(std::string(variable) + " must be " + std::string(expected) + ", got \"" +
                    std::string(value) + "\"");
}

}  // namespace

std::string_view demo_phase_name(DemoPhase phase) {
  switch (phase) {
    case DemoPhase::calm:
      return "calm";
    case DemoPhase::warming:
      return "warming";
    case DemoPhase::surge:
      return "surge";
    case DemoPhase::degraded:
      return "degraded";
    case DemoPhase::critical:
      return "critical";
    case DemoPhase::collapse:
      return "collapse";
  }
  return "unknown";
}

const std::vector<PhaseRule>& demo_phase_table() {
  static const std::vector<PhaseRule> table{
      {DemoPhase::calm, 0, 100, 300, 0.0},         {DemoPhase::warming, 1, 100, 300, 0.02},
      {DemoPhase::surge, 5, 100, 300, 0.15},       {DemoPhase::degraded, 10, 500, 1200, 0.45},
      {DemoPhase::critical, 15, 1200, 2500, 0.65}, {DemoPhase::collapse, 20, 2500, 3200, 0.78},
  };
  return table;
}

const PhaseRule& demo_phase_rule(double demo_minute) {
  const auto& table = demo_phase_table();
  // The last rule that has started; NaN compares false everywhere and so stays calm.
  auto it = std::find_if(table.rbegin(), table.rend(),
                         [&](const PhaseRule& rule) { return demo_minute >= rule.from_minute; });
  return it == table.rend() ? table.front() : *it;
}

DemoSettings demo_settings_from_env(const std::function<const char*(const char*)>& getenv_fn,
                                    double now_unix_seconds) {
  auto read = [&](const char* name) -> std::string_view {
    const char* value = getenv_fn(name);
    return value == nullptr ? std::string_view{} : std::string_view(value);
  };

  DemoSettings settings;
  const std::string_view mode = read("DEMO_MODE");
  const std::string mode_lower = core::to_lower_ascii(mode);
  if (mode_lower == "blackfriday") {
    settings.enabled = true;
    settings.mode = "blackfriday";
  } else if (!(mode_lower.empty() || mode_lower == "off" || mode_lower == "none")) {
    fail("DEMO_MODE", mode, "\"blackfriday\", \"off\", \"none\" or empty");
  }

  settings.clock.start_unix = now_unix_seconds;
  if (const std::string_view start = read("DEMO_START_TIMESTAMP"); !start.empty()) {
    const std::optional<double> seconds = parse_number(start);
    if (!seconds || *seconds < 0) fail("DEMO_START_TIMESTAMP", start, "unix seconds (>= 0)");
    settings.clock.start_unix = *seconds;
  }
  if (const std::string_view scale = read("DEMO_TIME_SCALE"); !scale.empty()) {
    const std::optional<double> value = parse_number(scale);
    if (!value || *value <= 0 || *value > kMaxTimeScale) {
      fail("DEMO_TIME_SCALE", scale, "a number greater than 0 and at most 3600");
    }
    settings.clock.time_scale = *value;
  }
  if (const std::string_view duration = read("DEMO_DURATION_MINUTES"); !duration.empty()) {
    const std::optional<double> value = parse_number(duration);
    if (!value || *value <= 0) fail("DEMO_DURATION_MINUTES", duration, "a number of minutes > 0");
    settings.clock.duration_minutes = *value;
  }
  return settings;
}

DemoClock::DemoClock(DemoSettings settings, NowFn now) : now_(std::move(now)) {
  if (!now_) now_ = core::unix_now_s;
  write(settings.enabled, settings.clock);
}

void DemoClock::write(bool enabled, const core::DemoClockSpec& clock) {
  std::lock_guard lock(write_mu_);
  seq_.fetch_add(1, std::memory_order_acq_rel);  // odd: readers retry
  std::atomic_thread_fence(std::memory_order_release);
  enabled_.store(enabled, std::memory_order_relaxed);
  start_unix_.store(clock.start_unix, std::memory_order_relaxed);
  time_scale_.store(clock.time_scale, std::memory_order_relaxed);
  duration_minutes_.store(clock.duration_minutes, std::memory_order_relaxed);
  seq_.fetch_add(1, std::memory_order_release);  // even again: a consistent reading
}

DemoClock::Reading DemoClock::read() const {
  for (;;) {
    uint64_t before = seq_.load(std::memory_order_acquire);
    if (before & 1) continue;  // a write is under way (a few stores long)
    Reading r{enabled_.load(std::memory_order_relaxed),
              core::DemoClockSpec{start_unix_.load(std::memory_order_relaxed),
                                  time_scale_.load(std::memory_order_relaxed),
                                  duration_minutes_.load(std::memory_order_relaxed)}};
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == before) return r;
  }
}

DemoSettings DemoClock::settings() const {
  Reading r = read();
  DemoSettings s;
  s.enabled = r.enabled;
  s.mode = r.enabled ? "blackfriday" : "";
  s.clock = r.clock;
  return s;
}

void DemoClock::start(const core::DemoClockSpec& clock) {
  if (!std::isfinite(clock.start_unix) || clock.start_unix < 0)
    throw std::invalid_argument("start_timestamp must be unix seconds (>= 0)");
  if (!(clock.time_scale > 0 && clock.time_scale <= kMaxTimeScale))
    throw std::invalid_argument("time_scale must be a number greater than 0 and at most 3600");
  if (!(clock.duration_minutes > 0 && std::isfinite(clock.duration_minutes)))
    throw std::invalid_argument("duration_minutes must be a number of minutes > 0");
  write(true, clock);
}

void DemoClock::stop() {
  Reading r = read();
  write(false, r.clock);
}

double DemoClock::minute_at(double unix_now) const {
  Reading r = read();
  if (!r.enabled) return 0;
  return core::demo_minute(r.clock, unix_now);
}

RecommendationEffect DemoClock::effect_at(double unix_now, uint64_t random_bits) const {
  RecommendationEffect effect;
  Reading r = read();
  if (!r.enabled) return effect;  // calm, no delay, never fails
  effect.minute = core::demo_minute(r.clock, unix_now);
  const PhaseRule& rule = demo_phase_rule(effect.minute);
  effect.phase = rule.phase;
  effect.delay_ms = rule.min_delay_ms +
                    (rule.max_delay_ms - rule.min_delay_ms) * core::unit_from_bits(random_bits);
  effect.fail = core::unit_from_bits(core::mix64(random_bits ^ kFailureSalt)) < rule.failure_ratio;
  return effect;
}

boost::json::object DemoClock::to_json() const {
  Reading r = read();
  const double demo_minute = r.enabled ? core::demo_minute(r.clock, now_()) : 0.0;
  boost::json::object o;
  o["mode"] = r.enabled ? "blackfriday" : "";
  o["enabled"] = r.enabled;
  o["start_timestamp"] = r.clock.start_unix;
  o["time_scale"] = r.clock.time_scale;
  o["duration_minutes"] = r.clock.duration_minutes;
  o["minute"] = demo_minute;
  o["phase"] = demo_phase_name(demo_phase_rule(demo_minute).phase);
  return o;
}

}  // namespace trafficsim::demo_service
