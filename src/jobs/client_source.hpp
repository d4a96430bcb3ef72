#pragma once
// The client-side monitor source (`--monitor-source client`, and the default of `run` and `play`
// against an external --url): the load engine's own statistics as a Prometheus exposition, so
// the built-in monitors judge any target, one without a /metrics too. It names the families the
// demo target exposes, seen from the client:
//
//   http_requests_total{endpoint, method, status, traffic_type}     counter
//   http_request_duration_seconds{endpoint, method, traffic_type}   histogram
//   llm_request_duration_seconds{traffic_type}                      histogram, classify only
//   llm_requests_total{traffic_type}                                counter, classify only
//   llm_errors_total{traffic_type, status}                          counter, classify only
//   llm_tokens_per_request{traffic_type}                            _sum and _count (see below)
//
// endpoint: the request's path as the scenario wrote it (its template), without the query;
// traffic_type: the request's X-Traffic-Type (as the scenario sets it: demo, baseline, the
// stream's name), else "load"; status: the response's code, or the transport error that ended
// the request ("timeout", "connect", "closed_mid_response", "error"). The LLM families count the
// requests to /hackathon/classify; an LLM error is every answer outside 2xx and every transport
// error — the client cannot tell a malformed request from a failure, so error_injection's
// expected 400s count, as they do at the target. Durations are the service latency (from the
// actual send to the whole response), not the corrected latency, so a saturated generator's
// queueing is not read as the target's slowness; HDR resolution, so a value within 0.1 % above
// a bucket bound may count in that bucket. Tokens per request: the streams that count
// `input_tokens` and `output_tokens` from their bodies (the shipped seed-000 scenarios do) add
// them per 2xx classify answer; for other streams the family is absent and the cost monitor has
// no data client-side.
//
// Threads: add() on the engine's thread (load::Plan::on_interval: once per 500 ms drain, never
// per request), exposition() on the monitor runner's. One mutex, taken by those two only and
// never by a worker: the hot path is unchanged.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "load/plan.hpp"
#include "load/stats.hpp"

namespace trafficsim::jobs {

class ClientSource {
 public:
  static constexpr const char* kLlmEndpoint = "/hackathon/classify";
  // The latency buckets' upper bounds, seconds: the demo target's, with finer steps around the
  // latency monitor's 3 s.
  static const std::vector<double>& latency_bounds_s();

  // Folds one drain of a run of `plan` in (interval: parallel to plan.streams and their
  // requests). Series are keyed by their labels, so runs one after another (a script's phases)
  // add up into the same counters, which never go down.
  void add(const load::Plan& plan, const load::RunStats& interval);
  // Sets plan.on_interval to add() to this source (which must outlive the plan's runs); `plan`
  // must stay where it is while it runs.
  void attach(load::Plan& plan);

  // Everything added so far, in the text format (0.0.4).
  std::string exposition() const;
  // For MonitorRunnerOptions::scrape: never fails (no requests yet: no samples).
  static std::function<std::optional<std::string>(std::string*)> scrape(
      std::shared_ptr<const ClientSource> source);

 private:
  struct Series {
    bool llm = false;
    std::map<std::string, uint64_t> by_status;  // "200", "400", "timeout", ...
    std::vector<uint64_t> buckets;              // cumulative, parallel to latency_bounds_s()
    uint64_t latency_count = 0;
    double latency_sum_s = 0;
    bool has_tokens = false;
    uint64_t token_answers = 0;  // 2xx answers whose tokens were counted
    int64_t tokens = 0;
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // endpoint, method, traffic

  mutable std::mutex mu_;
  std::map<Key, Series> series_;
};

}  // namespace trafficsim::jobs
