#pragma once
// What a scenario run adds to the load engine's JSON report: the scenario block (name, source,
// variables), the threshold results, and for demo-clock runs the seed 002 `traffic_stats` block.
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "load/plan.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/thresholds.hpp"

namespace trafficsim::scenarios {

// Every threshold of the scenario (streams' and the run's) against the report.
std::vector<ThresholdResult> evaluate_thresholds(const Scenario& scenario,
                                                 const boost::json::object& report);

// The thresholds a run report carries ("thresholds.results": each result's stream and
// condition) evaluated again on `report` (the merge of segment reports). Empty when `carrier`
// has none (a bench report). Throws std::runtime_error naming the field when they are malformed.
std::vector<ThresholdResult> reevaluate_thresholds(const boost::json::object& carrier,
                                                   const boost::json::object& report);
// {"passed": all passed, "results": [{stream, condition, actual, actual_text, passed}, …]}.
boost::json::object thresholds_to_json(const std::vector<ThresholdResult>& thresholds);

// Seed 002's /admin/traffic-stats shape, one entry per stream:
//   {"baseline": {"rpm", "requests", "errors", "error_rate": "0.4%", "error_ratio"},
//    "demo": {"current_rpm", "demo_minute", "requests", "errors", "error_rate", "error_ratio"}}
// Streams whose rate follows the demo clock carry current_rpm (the rate at the end of the run)
// and demo_minute; the others carry rpm. errors = 5xx + timeouts + transport errors, as the
// scenario's `expect` says.
boost::json::object traffic_stats(const load::Plan& plan, const Scenario& scenario,
                                  const boost::json::object& report,
                                  const DemoClockSpec* clock, double end_unix);

// "78.0%" (one decimal, as the seed prints it).
std::string percent_text(double ratio);

// Adds "scenario", "thresholds" and (when given) "traffic_stats" to the report.
void annotate_report(boost::json::object& report, const Scenario& scenario,
                     const std::map<std::string, std::string>& params,
                     const std::vector<ThresholdResult>& thresholds,
                     const DemoClockSpec* clock, const boost::json::object* stats);

}  // namespace trafficsim::scenarios
