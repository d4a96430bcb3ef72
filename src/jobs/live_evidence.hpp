#pragma once
// Gathers what a running demo target knows when a monitor alerts (incidents/live_analysis.hpp):
// GET /debug/traces (recent spans), /metrics (query pools, demo clock) and /admin/faults (with
// the admin key), within a deadline; what cannot be read is named in LiveFindings::gaps rather
// than failing the analysis. Also the IncidentApi's live analyzer built on it.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <boost/json/array.hpp>

#include "incidents/analyzer.hpp"
#include "incidents/live_analysis.hpp"
#include "monitors/monitor_set.hpp"
#include "monitors/monitor_spec.hpp"

namespace trafficsim::jobs {

// Findings from spans in OTLP-JSON form (GET /debug/traces' "spans"), the /metrics text and the
// /admin/faults list ("faults"). Pure: the tests feed it recorded answers.
// Spans that ended before `since_unix_s` (0: none) count only as the baseline of prompt sizes.
incidents::LiveFindings findings_from(const boost::json::array& spans, std::string_view metrics,
                                      const boost::json::array& faults, double since_unix_s = 0);

struct LiveProbeOptions {
  std::string target_url;  // http://127.0.0.1:PORT
  std::string admin_key;   // X-API-Key for /admin/faults when the target has one
  std::chrono::milliseconds timeout{1500};  // per request
  size_t spans = 3000;                       // how many recent spans to read
  // Spans of the monitor's window (divided by this) are the findings; older ones the baseline.
  double time_scale = 1;
};

// Reads the target and fills the monitor's part of the findings; `window_s` (scaled; 0: all
// spans) is how far back from the event the findings look.
incidents::LiveFindings gather_live_findings(const LiveProbeOptions& options,
                                             const monitors::MonitorEvent& event,
                                             double window_s = 0);

// event -> gather -> analyze_live, with the monitor's runbook (looked up by id in `monitors`).
std::function<std::optional<incidents::Analysis>(const monitors::MonitorEvent&)> live_analyzer(
    LiveProbeOptions options, std::vector<monitors::MonitorSpec> monitors);

}  // namespace trafficsim::jobs
