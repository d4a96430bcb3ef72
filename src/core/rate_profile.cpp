#include "core/rate_profile.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace trafficsim::core {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("rate profile: " + what);
}

std::string num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void check_duration(double duration_s) {
  if (!std::isfinite(duration_s) || duration_s < 0) {
    fail("duration must be a finite number >= 0 s, got " + num(duration_s));
  }
}

void check_rate(double rate_rps, const char* what) {
  if (!std::isfinite(rate_rps) || rate_rps < 0) {
    fail(std::string(what) + " must be a finite rate >= 0 rps, got " + num(rate_rps));
  }
}

// Rate at t on the segment a -> b (a.t_s <= t <= b.t_s, a.t_s < b.t_s).
double interpolate(const RateProfile::Knot& a, const RateProfile::Knot& b, double t_s) {
  double f = (t_s - a.t_s) / (b.t_s - a.t_s);
  return a.rate_rps + (b.rate_rps - a.rate_rps) * f;
}

}  // namespace

RateProfile::RateProfile(std::vector<Knot> knots, double duration_s)
    : knots_(std::move(knots)), duration_s_(duration_s) {
  check_duration(duration_s_);
  if (knots_.empty()) fail("no knots");
  // Every query finds a segment between two knots, so a zero-length profile still gets two.
  if (knots_.size() == 1) knots_.push_back(knots_.front());
  if (knots_.front().t_s != 0) fail("first knot must be at t = 0 s, got " + num(knots_[0].t_s));
  if (knots_.back().t_s != duration_s_) fail("last knot must be at the duration");
  for (size_t i = 0; i < knots_.size(); ++i) {
    const Knot& k = knots_[i];
    if (!std::isfinite(k.t_s)) fail("knot " + std::to_string(i) + " has a non-finite time");
    check_rate(k.rate_rps, ("rate at t = " + num(k.t_s) + " s").c_str());
    if (i > 0 && k.t_s < knots_[i - 1].t_s) {
      fail("times must be non-decreasing, but knot " + std::to_string(i) + " at t = " + num(k.t_s) +
           " s comes after t = " + num(knots_[i - 1].t_s) + " s");
    }
  }
  cum_.resize(knots_.size());
  cum_[0] = 0;
  for (size_t i = 1; i < knots_.size(); ++i) {
    double dt = knots_[i].t_s - knots_[i - 1].t_s;
    cum_[i] = cum_[i - 1] + 0.5 * dt * (knots_[i - 1].rate_rps + knots_[i].rate_rps);
  }
}

RateProfile RateProfile::constant(double rate_rps, double duration_s) {
  check_rate(rate_rps, "constant rate");
  check_duration(duration_s);
  return RateProfile({{0, rate_rps}, {duration_s, rate_rps}}, duration_s);
}

RateProfile RateProfile::linear_ramp(double from_rps, double to_rps, double duration_s) {
  check_rate(from_rps, "ramp start rate");
  check_rate(to_rps, "ramp end rate");
  check_duration(duration_s);
  return RateProfile({{0, from_rps}, {duration_s, to_rps}}, duration_s);
}

RateProfile RateProfile::peak(double peak_rps, double duration_s) {
  check_rate(peak_rps, "peak rate");
  check_duration(duration_s);
  return RateProfile(
      {{0, 0}, {0.25 * duration_s, peak_rps}, {0.75 * duration_s, peak_rps}, {duration_s, 0}},
      duration_s);
}

RateProfile RateProfile::steps(const std::vector<std::pair<double, double>>& steps) {
  if (steps.empty()) fail("steps: at least one step is required");
  std::vector<Knot> knots;
  knots.reserve(2 * steps.size());
  double t_s = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    auto [length_s, rate_rps] = steps[i];
    if (!std::isfinite(length_s) || length_s < 0) {
      fail("steps: step " + std::to_string(i) + " has length " + num(length_s) +
           " s; lengths must be finite and >= 0");
    }
    check_rate(rate_rps, ("steps: rate of step " + std::to_string(i)).c_str());
    if (length_s == 0) continue;  // contributes nothing; two more knots at one t would be noise
    // Two knots per step: consecutive steps meet in two knots at the same t, i.e. a jump.
    knots.push_back({t_s, rate_rps});
    t_s += length_s;
    knots.push_back({t_s, rate_rps});
  }
  if (knots.empty()) knots = {{0, steps.back().second}, {0, steps.back().second}};
  return RateProfile(std::move(knots), t_s);
}

RateProfile RateProfile::table(std::vector<Knot> knots, double duration_s) {
  check_duration(duration_s);
  if (knots.empty()) fail("table: at least one point is required");
  if (knots.front().t_s != 0) {
    fail("table: the first point must be at t = 0 s, got " + num(knots.front().t_s));
  }
  for (size_t i = 0; i < knots.size(); ++i) {
    if (!std::isfinite(knots[i].t_s)) fail("table: point " + std::to_string(i) + " time");
    check_rate(knots[i].rate_rps, ("table: rate at t = " + num(knots[i].t_s) + " s").c_str());
    if (i > 0 && knots[i].t_s < knots[i - 1].t_s) {
      fail("table: times must be non-decreasing, but point " + std::to_string(i) +
           " at t = " + num(knots[i].t_s) + " s comes after t = " + num(knots[i - 1].t_s) + " s");
    }
  }
  // Keep what lies strictly before the end, then close with the rate approaching the end from
  // the left (a step exactly at duration_s would never be in effect).
  auto past =
      std::find_if(knots.begin(), knots.end(), [&](const Knot& k) { return k.t_s >= duration_s; });
  double end_rate = knots.back().rate_rps;  // no point at or past the end: the last rate holds
  if (past != knots.end()) {
    if (past == knots.begin()) {
      end_rate = past->rate_rps;  // duration 0
    } else if (past->t_s == duration_s) {
      end_rate = past->rate_rps;
    } else {
      end_rate = interpolate(*(past - 1), *past, duration_s);
    }
  }
  knots.erase(past, knots.end());
  knots.push_back({duration_s, end_rate});
  return RateProfile(std::move(knots), duration_s);
}

double RateProfile::rate_at(double t_s) const {
  // Outside [0, duration) nothing is sent: right-continuity makes the rate at the end 0.
  if (!(t_s >= 0) || t_s >= duration_s_) return 0;
  // Last knot with t <= t_s: at a step that is the second knot, i.e. the rate after the jump.
  auto next = std::upper_bound(knots_.begin(), knots_.end(), t_s,
                               [](double t, const Knot& k) { return t < k.t_s; });
  return interpolate(*(next - 1), *next, t_s);
}

double RateProfile::cumulative(double t_s) const {
  if (!(t_s > 0)) return 0;
  if (t_s >= duration_s_) return cum_.back();
  auto next = std::upper_bound(knots_.begin(), knots_.end(), t_s,
                               [](double t, const Knot& k) { return t < k.t_s; });
  size_t i = static_cast<size_t>(next - knots_.begin()) - 1;
  double rate = interpolate(knots_[i], *next, t_s);
  return cum_[i] + 0.5 * (t_s - knots_[i].t_s) * (knots_[i].rate_rps + rate);
}

double RateProfile::inverse_cumulative(double x) const {
  if (std::isnan(x)) return kInfinity;
  if (x <= 0) return 0;
  double total = cum_.back();
  if (x > total) {
    // Summing trapezoids rounds, so "exactly the total" may arrive a few ulps above it.
    if (x > total + 1e-12 * std::max(1.0, total)) return kInfinity;
    x = total;
  }
  // First knot whose cumulative reaches x. Zero-rate stretches have equal cum_, so this lands
  // on the first knot of such a stretch, i.e. they are skipped.
  size_t j = static_cast<size_t>(std::lower_bound(cum_.begin(), cum_.end(), x) - cum_.begin());
  if (cum_[j] == x) return knots_[j].t_s;
  // cum_[j - 1] < x < cum_[j]: segment j-1 -> j has positive area, hence positive length.
  const Knot& a = knots_[j - 1];
  const Knot& b = knots_[j];
  double dt = b.t_s - a.t_s;
  double dx = x - cum_[j - 1];
  double r0 = a.rate_rps;
  double slope = (b.rate_rps - r0) / dt;
  // Solve r0*tau + slope/2*tau^2 = dx. This form of the root never subtracts nearly equal
  // numbers (r0 >= 0 and the square root >= 0), unlike (-r0 + sqrt(...)) / slope, and it is
  // exact for slope == 0.
  double disc = std::max(0.0, r0 * r0 + 2 * slope * dx);
  double denom = r0 + std::sqrt(disc);
  if (!(denom > 0)) return b.t_s;
  double tau = std::min(2 * dx / denom, dt);
  return std::min(a.t_s + tau, b.t_s);
}

double RateProfile::peak_rate() const {
  double peak = 0;
  for (const Knot& k : knots_) peak = std::max(peak, k.rate_rps);
  return peak;
}

RateProfile RateProfile::clamped(double max_rps) const {
  check_rate(max_rps, "clamp maximum");
  std::vector<Knot> out;
  out.reserve(knots_.size() * 2);
  for (size_t i = 0; i < knots_.size(); ++i) {
    const Knot& k = knots_[i];
    out.push_back({k.t_s, std::min(k.rate_rps, max_rps)});
    if (i + 1 == knots_.size()) break;
    const Knot& next = knots_[i + 1];
    bool crosses = (k.rate_rps < max_rps && next.rate_rps > max_rps) ||
                   (k.rate_rps > max_rps && next.rate_rps < max_rps);
    if (crosses && next.t_s > k.t_s) {
      // min(linear, constant) is linear on either side of the crossing: one knot there makes
      // the clamped profile exact.
      double f = (max_rps - k.rate_rps) / (next.rate_rps - k.rate_rps);
      double t_s = std::clamp(k.t_s + f * (next.t_s - k.t_s), k.t_s, next.t_s);
      out.push_back({t_s, max_rps});
    }
  }
  return RateProfile(std::move(out), duration_s_);
}

RateProfile RateProfile::scaled(double factor) const {
  if (!std::isfinite(factor) || factor < 0) {
    fail("scale factor must be finite and >= 0, got " + num(factor));
  }
  std::vector<Knot> out = knots_;
  for (Knot& k : out) k.rate_rps *= factor;
  return RateProfile(std::move(out), duration_s_);
}

}  // namespace trafficsim::core
