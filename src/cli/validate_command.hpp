#pragma once
// `trafficsim validate dual-mode [--url URL]`: seed 002's validation script as a command. Against
// a running `trafficsim demo --scenario blackfriday` (or any target + control plane with the same
// routes) it checks, and prints as a pass/fail table (or --json):
//   - the target answers GET /health;
//   - demo mode is on (/health "demo": enabled) and its minute is within the demo's length and
//     agrees with the traffic stats' demo_minute;
//   - GET /admin/traffic-stats has the seed's baseline and demo entries, both with requests;
//   - the baseline's error rate (traffic stats: the load generator's count) is at most
//     --max-baseline-error-rate (default 2 %, the seed's 0-2 %);
//   - the baseline's p95 is at most --max-baseline-p95 (default 120 ms, the seed's 50-120 ms),
//     from the target's /metrics: http_request_duration_seconds{traffic_type="baseline"}, all
//     endpoints summed, interpolated within the bucket as Prometheus' histogram_quantile does
//     (server-side latency, cumulative since the target started).
// The demo stream's figures are shown as information (no pass/fail: they are meant to degrade).
// Exit 0 when every check passes, 1 when one fails or the target cannot be reached, 2 for bad
// flags.
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace trafficsim::cli {

struct ValidateOptions {
  std::string url = "http://127.0.0.1:8000";
  std::string max_error_rate = "2%";
  std::string max_p95 = "120ms";
  std::string timeout = "5s";
  std::string api_key;  // --api-key or TRAFFICSIM_API_KEY: sent on /admin/traffic-stats
  bool json = false;
  bool no_color = false;
};

// Adds `validate` with its `dual-mode` subcommand; returns the latter.
CLI::App* add_validate_command(CLI::App& app, ValidateOptions& options);
int run_validate_dual_mode(const ValidateOptions& options);

// The q-quantile (0..1) in seconds of the Prometheus histogram `family` in an exposition text,
// summed over every series whose labels include `label_filter` (e.g. traffic_type="baseline"),
// interpolated linearly within its bucket; nullopt when no such series has observations.
// A quantile in the +Inf bucket is the largest finite bound (as histogram_quantile answers).
std::optional<double> histogram_quantile(std::string_view exposition, std::string_view family,
                                         std::string_view label_filter, double q);

}  // namespace trafficsim::cli
