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

DemoClock::DemoClock(DemoSettings settings, NowFn now)
    : settings_(std::move(settings)), now_(std::move(now)) {
  if (!now_) now_ = core::unix_now_s;
}

double DemoClock::minute_at(double unix_now) const {
  if (!settings_.enabled) return 0;
  return core::demo_minute(settings_.clock, unix_now);
}

RecommendationEffect DemoClock::effect_at(double unix_now, uint64_t random_bits) const {
  RecommendationEffect effect;
  if (!settings_.enabled) return effect;  // calm, no delay, never fails
  effect.minute = minute_at(unix_now);
  const PhaseRule& rule = demo_phase_rule(effect.minute);
  effect.phase = rule.phase;
  effect.delay_ms = rule.min_delay_ms +
                    (rule.max_delay_ms - rule.min_delay_ms) * core::unit_from_bits(random_bits);
  effect.fail = core::unit_from_bits(core::mix64(random_bits ^ kFailureSalt)) < rule.failure_ratio;
  return effect;
}

boost::json::object DemoClock::to_json() const {
  const double demo_minute = minute();
  boost::json::object o;
  o["mode"] = settings_.mode;
  o["enabled"] = settings_.enabled;
  o["start_timestamp"] = settings_.clock.start_unix;
  o["time_scale"] = settings_.clock.time_scale;
  o["duration_minutes"] = settings_.clock.duration_minutes;
  o["minute"] = demo_minute;
  o["phase"] = demo_phase_name(demo_phase_rule(demo_minute).phase);
  return o;
}

}  // namespace trafficsim::demo_service
