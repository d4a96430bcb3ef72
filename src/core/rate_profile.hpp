#pragma once
// A rate profile: the arrival rate of one stream as a function of time since the run started.
// Every shape is piecewise linear in time (a step is two knots at the same time), so one type
// answers every question the scheduler asks: rate, integral, and the inverse of the integral.
#include <limits>
#include <utility>
#include <vector>

namespace trafficsim::core {

class RateProfile {
 public:
  struct Knot {
    double t_s;       // seconds since run start, non-decreasing along the profile
    double rate_rps;  // requests per second at t_s, >= 0
  };

  // rate_rps for the whole duration.
  static RateProfile constant(double rate_rps, double duration_s);
  // Linear from from_rps at 0 to to_rps at duration_s.
  static RateProfile linear_ramp(double from_rps, double to_rps, double duration_s);
  // 0 -> peak over the first 25 %, hold to 75 %, peak -> 0 over the rest.
  static RateProfile peak(double peak_rps, double duration_s);
  // Consecutive steps of (length_s, rate_rps); the duration is the sum of the lengths.
  static RateProfile steps(const std::vector<std::pair<double, double>>& steps);
  // Piecewise-linear table of (t_s, rate_rps), t non-decreasing, first t = 0. Before duration_s
  // the last rate holds; points past duration_s are cut off.
  static RateProfile table(std::vector<Knot> knots, double duration_s);

  double duration_s() const { return duration_s_; }
  double rate_at(double t_s) const;                  // rate just after t_s (right-continuous)
  double cumulative(double t_s) const;               // integral of the rate over [0, t_s]
  double integral(double t0_s, double t1_s) const {  // expected arrivals in [t0, t1)
    return cumulative(t1_s) - cumulative(t0_s);
  }
  double total_arrivals() const { return cumulative(duration_s_); }
  // Smallest t in [0, duration] with cumulative(t) >= x, or +infinity when x > total_arrivals().
  double inverse_cumulative(double x) const;
  double peak_rate() const;

  // min(rate, max_rps) everywhere (segments crossing max_rps are split exactly).
  RateProfile clamped(double max_rps) const;
  // rate * factor everywhere.
  RateProfile scaled(double factor) const;

  const std::vector<Knot>& knots() const { return knots_; }

  static constexpr double kInfinity = std::numeric_limits<double>::infinity();

 private:
  RateProfile(std::vector<Knot> knots, double duration_s);
  std::vector<Knot> knots_;  // first t = 0, last t = duration_s
  std::vector<double> cum_;  // cumulative(knots_[i].t_s)
  double duration_s_ = 0;
};

}  // namespace trafficsim::core
