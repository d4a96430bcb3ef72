#include "scenarios/rate_spec.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/duration.hpp"

namespace trafficsim::scenarios {

namespace {

using Points = std::vector<std::pair<double, double>>;

// [[time, rate], ...]: time is a duration, or a demo minute when first_is_minute.
Points pairs(YamlReader& r, const YAML::Node& node, const std::string& field,
             bool first_is_minute) {
  if (!node.IsSequence() || node.size() == 0)
    r.fail(node, field, "expected a list of [time, rate] pairs");
  Points out;
  for (size_t i = 0; i < node.size(); ++i) {
    const auto& p = node[i];
    std::string f = fmt::format("{}[{}]", field, i);
    if (!p.IsSequence() || p.size() != 2) r.fail(p, f, "expected a pair [time, rate]");
    double a = 0;
    if (first_is_minute) {
      a = r.number(p[0], f, 0, 1e6);
      // A demo minute is a time too: at most as many minutes as the longest run.
      auto as_time = std::chrono::nanoseconds(static_cast<int64_t>(a * 60e9));
      if (auto why = core::duration_limit_error(as_time, true); !why.empty())
        r.fail(p[0], f, fmt::format("demo minute {:g} {}", a, why));
    } else {
      a = static_cast<double>(r.duration_or_zero(p[0], f).count()) / 1e9;
    }
    out.emplace_back(a, r.rate(p[1], f, true));
  }
  return out;
}

// A requests-per-minute number of the blackfriday shape, within core::kMaxRateRps.
double rpm(YamlReader& r, const YAML::Node& node, const std::string& field) {
  double v = r.number(node, field, 0, std::numeric_limits<double>::max());
  if (auto why = core::rate_limit_error(v / 60.0, true); !why.empty())
    r.fail(node, field, fmt::format("{:g} rpm {}", v, why));
  return v;
}

}  // namespace

RateSpec read_rate_spec(YamlReader& r, const YAML::Node& node, const std::string& field,
                        bool demo_clock) {
  RateSpec spec;
  if (node.IsScalar()) {
    spec.rps = r.rate(node, field, true);
    return spec;
  }
  r.check_keys(node, field,
               {"constant", "ramp", "peak", "steps", "table", "demo_minutes", "blackfriday"});
  if (node.size() != 1) r.fail(node, field, "give exactly one rate shape");
  auto kv = *node.begin();
  std::string kind = kv.first.as<std::string>();
  const YAML::Node& v = kv.second;
  std::string f = field + "." + kind;
  if (kind == "constant") {
    spec.rps = r.rate(v, f, true);
  } else if (kind == "peak") {
    spec.kind = RateSpec::Kind::peak;
    spec.rps = r.rate(v, f, false);
  } else if (kind == "ramp") {
    spec.kind = RateSpec::Kind::ramp;
    r.check_keys(v, f, {"from", "to"});
    spec.from_rps = v["from"] ? r.rate(v["from"], f + ".from", true) : 0;
    if (!v["to"]) r.fail(v, f, "needs 'to'");
    spec.to_rps = r.rate(v["to"], f + ".to", true);
  } else if (kind == "steps") {
    spec.kind = RateSpec::Kind::steps;
    spec.points = pairs(r, v, f, false);
    double total_s = 0;
    for (auto& [len, rps] : spec.points) {
      if (len <= 0) r.fail(v, f, "every step needs a positive length");
      total_s += len;
    }
    auto total = std::chrono::nanoseconds(static_cast<int64_t>(std::min(total_s, 1e9) * 1e9));
    if (auto why = core::duration_limit_error(total); !why.empty())
      r.fail(v, f, fmt::format("the steps add up to {:g}s: their total {}", total_s, why));
  } else if (kind == "table") {
    spec.kind = RateSpec::Kind::table;
    spec.points = pairs(r, v, f, false);
    if (spec.points.front().first != 0) r.fail(v, f, "the first point must be at 0s");
    for (size_t i = 1; i < spec.points.size(); ++i)
      if (spec.points[i].first < spec.points[i - 1].first) r.fail(v, f, "times must not decrease");
  } else if (kind == "demo_minutes" || kind == "blackfriday") {
    if (!demo_clock)
      r.fail(node, f, "needs 'demo_clock: true' at the top of the file (rates by demo minute)");
    spec.kind = RateSpec::Kind::demo_minutes;
    if (kind == "demo_minutes") {
      spec.points = pairs(r, v, f, true);
      for (size_t i = 1; i < spec.points.size(); ++i)
        if (spec.points[i].first < spec.points[i - 1].first)
          r.fail(v, f, "demo minutes must not decrease");
    } else {
      r.check_keys(v, f, {"base_rpm", "peak_rpm"});
      double base = v["base_rpm"] ? rpm(r, v["base_rpm"], f + ".base_rpm") : 800;
      double peak = v["peak_rpm"] ? rpm(r, v["peak_rpm"], f + ".peak_rpm") : 4200;
      if (peak < base)
        r.fail(v, f, fmt::format("peak_rpm {:g} is below base_rpm {:g}", peak, base));
      spec.points = blackfriday_rpm_table(base, peak);
      for (auto& p : spec.points) p.second /= 60.0;
    }
  }
  return spec;
}

core::RateProfile rate_profile(const RateSpec& spec, double duration_s,
                               const DemoClockSpec* clock, double now_unix) {
  switch (spec.kind) {
    case RateSpec::Kind::constant:
      return core::RateProfile::constant(spec.rps, duration_s);
    case RateSpec::Kind::peak:
      return core::RateProfile::peak(spec.rps, duration_s);
    case RateSpec::Kind::ramp:
      return core::RateProfile::linear_ramp(spec.from_rps, spec.to_rps, duration_s);
    case RateSpec::Kind::steps: {
      // Steps repeat their last rate to the end of the run; a run shorter than the steps cuts
      // them.
      std::vector<core::RateProfile::Knot> knots;
      double t = 0;
      for (const auto& [len, rps] : spec.points) {
        knots.push_back({t, rps});
        t += len;
        knots.push_back({t, rps});
      }
      return core::RateProfile::table(std::move(knots), duration_s);
    }
    case RateSpec::Kind::table: {
      std::vector<core::RateProfile::Knot> knots;
      for (const auto& [t, rps] : spec.points) knots.push_back({t, rps});
      return core::RateProfile::table(std::move(knots), duration_s);
    }
    case RateSpec::Kind::demo_minutes:
      return demo_minutes_profile(spec.points, *clock, now_unix, duration_s);
  }
  return core::RateProfile::constant(0, duration_s);
}

// ---- the demo clock -------------------------------------------------------------------------

core::RateProfile demo_minutes_profile(const std::vector<std::pair<double, double>>& points,
                                       const DemoClockSpec& clock, double now_unix,
                                       double duration_s) {
  // The demo minute at wall time t is m0 + t * scale / 60 (a start in the future waits at 0).
  double wait_s = std::max(0.0, clock.start_unix - now_unix);
  double m0 = demo_minute(clock, now_unix);
  auto rate_at_minute = [&](double m) {
    if (m <= points.front().first) return points.front().second;
    for (size_t i = 1; i < points.size(); ++i) {
      if (m < points[i].first) {
        const auto& [m1, r1] = points[i - 1];
        const auto& [m2, r2] = points[i];
        return r1 + (r2 - r1) * (m - m1) / (m2 - m1);
      }
    }
    return points.back().second;
  };
  std::vector<core::RateProfile::Knot> knots;
  double first = rate_at_minute(m0);
  knots.push_back({0, first});
  if (wait_s > 0) knots.push_back({wait_s, first});
  for (const auto& [m, r] : points) {
    if (m <= m0) continue;
    double t = wait_s + (m - m0) * 60.0 / clock.time_scale;
    if (t >= duration_s) {
      double end = m0 + (duration_s - wait_s) * clock.time_scale / 60.0;
      knots.push_back({duration_s, rate_at_minute(end)});
      break;
    }
    knots.push_back({t, r});
  }
  return core::RateProfile::table(std::move(knots), duration_s);
}

std::vector<std::pair<double, double>> blackfriday_rpm_table(double base_rpm, double peak_rpm) {
  // The seed's table: 0, 800, 2100, 3400, 4200 at minutes 0, 1, 5, 10, 15.
  auto between = [&](double seed_rpm) {
    double f = (seed_rpm - 800.0) / (4200.0 - 800.0);
    return base_rpm + f * (peak_rpm - base_rpm);
  };
  return {{0, 0}, {1, base_rpm}, {5, between(2100)}, {10, between(3400)}, {15, peak_rpm}};
}

}  // namespace trafficsim::scenarios
