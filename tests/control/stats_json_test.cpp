// The Stats object of one snapshot: a short last interval is folded into the one before it, so
// currentRps does not spike when issuing ends or a stop lands between two ticks.
#include "control/stats_json.hpp"

#include <gtest/gtest.h>

namespace trafficsim::control {
namespace {

jobs::TrafficSnapshot snap(double elapsed, double interval_s, double rps, double error_ratio) {
  jobs::TrafficSnapshot t;
  t.engine.elapsed_s = elapsed;
  t.engine.interval_s = interval_s;
  auto fill = [&](load::StreamSnapshot& s, const char* name) {
    s.name = name;
    s.interval_rps = rps;
    s.interval_sent_rps = rps;
    s.interval_error_ratio = error_ratio;
  };
  fill(t.engine.total, "total");
  t.engine.streams.resize(1);
  fill(t.engine.streams[0], "s");
  return t;
}

double rps_of(const boost::json::object& o) { return o.at("currentRps").to_number<double>(); }

TEST(StatsJson, AShortLastIntervalIsFoldedIntoThePreviousOne) {
  auto previous = snap(10.0, 0.5, 20, 0.1);   // 10 completions, 1 failed
  auto last = snap(10.01, 0.01, 900, 0.0);    // 9 completions in 10 ms: 900/s on its own
  auto o = stats_json(last, 0, std::nullopt, &previous);
  EXPECT_NEAR(rps_of(o), 19 / 0.51, 0.01);
  EXPECT_NEAR(o.at("errorRatio").to_number<double>(), 1.0 / 19, 0.001);
  EXPECT_NEAR(rps_of(o.at("streams").as_array()[0].as_object()), 19 / 0.51, 0.01);
  // Without a previous snapshot, or at the full cadence, the interval speaks for itself.
  EXPECT_NEAR(rps_of(stats_json(last, 0, std::nullopt, nullptr)), 900, 1e-9);
  auto regular = snap(10.5, 0.5, 30, 0);
  EXPECT_NEAR(rps_of(stats_json(regular, 0, std::nullopt, &previous)), 30, 1e-9);
}

TEST(StatsJson, ANewPhaseIsNotFoldedIntoThePreviousPhase) {
  auto previous_phase_end = snap(30.0, 0.5, 20, 0);
  auto first_of_next = snap(0.1, 0.1, 50, 0);  // elapsed restarts: another run
  EXPECT_NEAR(rps_of(stats_json(first_of_next, 0, std::nullopt, &previous_phase_end)), 50, 1e-9);
}

}  // namespace
}  // namespace trafficsim::control
