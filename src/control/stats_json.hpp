#pragma once
// The control API's figures (docs/control-api.md): a job's Stats object from one snapshot
// (latencies in ms, corrected; rates and percentiles over the last 500 ms; counters cumulative),
// its final figures from the job's report, and seed 002's /admin/traffic-stats shape.
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "jobs/traffic_job.hpp"

namespace trafficsim::control {

struct PhaseInfo {
  size_t index = 0, count = 0;
  std::string title;
  std::optional<double> elapsed_s;  // seconds into the phase (its own clock)
};

// `previous`: the snapshot published before this one, if any. An interval much shorter than the
// 500 ms cadence (the last one, when issuing ends or a stop lands between ticks) holds a handful
// of completions, so its rates and error ratio alone would spike: they are taken over it and the
// interval before it (of the same run: previous->elapsed below this one's) instead. The
// percentiles stay the interval's own.
boost::json::object stats_json(const jobs::TrafficSnapshot& snapshot, double t_unix,
                               const std::optional<PhaseInfo>& phase,
                               const jobs::TrafficSnapshot* previous = nullptr);

// Shorter than this, an interval is folded into the one before it.
inline constexpr double kShortIntervalS = 0.25;

// The final cumulative figures from a job's report (load::build_report's shape): the same
// fields as stats_json, latencies over the whole run.
boost::json::object final_stats_json(const boost::json::object& report);

// {"baseline": {rpm, requests, errors, error_rate}, "demo": {current_rpm, demo_minute, requests,
// errors, error_rate}} from a dual-mode job's latest snapshot.
boost::json::object traffic_stats_json(const jobs::TrafficSnapshot& snapshot);

// "0.1%": one decimal.
std::string percent_text(double ratio);

}  // namespace trafficsim::control
