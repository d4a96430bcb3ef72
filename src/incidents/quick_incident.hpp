#pragma once
// POST /api/v1/incidents, the seed's quick incident: a service, a title, the metrics someone saw
// (value against baseline, with σ or a deviation in σ) and the context around them in; the
// analyzer's input and the incident's draft out. Errors are 400s naming the JSON path at fault.
#include <string>
#include <string_view>
#include <variant>

#include "http/api_error.hpp"
#include "incidents/analyzer.hpp"

namespace trafficsim::incidents {

inline constexpr size_t kMaxQuickIncidentBytes = 256 << 10;
inline constexpr size_t kMaxQuickIncidentMetrics = 100;

struct QuickIncident {
  std::string title;
  std::string severity;  // critical, high, medium, low (default high)
  AnalysisInput input;   // service, title, metrics (as observations), context
};

// {"service": "payment-service" (or "service_name"), "title": "...", "severity": "high",
//  "metrics": [{"name", "value", "baseline", "sigma" | "deviation_sigma", "unit"}],
//  "context": {"recent_deployments": [{"service","version","minutes_ago","change"}],
//              "dependencies": ["..."], "notes": ["..."]}}
std::variant<QuickIncident, http::ApiError> parse_quick_incident(std::string_view body);

}  // namespace trafficsim::incidents
