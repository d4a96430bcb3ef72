// The client-side monitor source: the load engine's statistics as the families the built-in
// monitors read — counts by status (an expected 400 is an LLM error too), latency buckets that
// parse back and give the monitor set the p95 they encode, tokens per request when the stream
// counts them — and, fed by a real traffic job, the same counts as the run's report.
#include "jobs/client_source.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "jobs/traffic_job.hpp"
#include "monitors/monitor_set.hpp"
#include "monitors/monitor_spec.hpp"
#include "scenarios/scenario.hpp"
#include "support/test_server.hpp"
#include "telemetry/exposition_parser.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::jobs {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The sum of every sample named `name` whose labels include `want` (nullopt: no such sample).
std::optional<double> value(const telemetry::Exposition& e, const std::string& name,
                            const Labels& want = {}) {
  std::optional<double> sum;
  for (const auto& s : e.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) {
      const std::string* got = s.label(k);
      match = match && got && *got == v;
    }
    if (match) sum = sum.value_or(0) + s.value;
  }
  return sum;
}

load::RequestTemplate request(std::string method, std::string target, std::string traffic = "") {
  load::RequestTemplate t;
  t.name = method + " " + target;
  t.method = std::move(method);
  t.target = std::move(target);
  if (!traffic.empty()) t.headers.emplace_back("x-traffic-type", std::move(traffic));
  return t;
}

// One stream: classify (tagged), malformed classify (expected 400), GET /products?limit=5
// (untagged).
load::Plan error_injection_plan() {
  load::Plan plan;
  load::Stream s;
  s.name = "HACKATHON_TRAFFIC_ERROR_INJECTION";
  s.requests.push_back(request("POST", "/hackathon/classify", s.name));
  auto malformed = request("POST", "/hackathon/classify", s.name);
  malformed.injected = true;
  malformed.expected_statuses = {400};
  s.requests.push_back(malformed);
  s.requests.push_back(request("GET", "/products?limit=5"));
  plan.streams.push_back(std::move(s));
  return plan;
}

load::RunStats stats_for(const load::Plan& plan) {
  load::RunStats st;
  st.streams.resize(plan.streams.size());
  for (size_t i = 0; i < plan.streams.size(); ++i)
    st.streams[i].endpoints.resize(plan.streams[i].requests.size());
  return st;
}

void answer(load::EndpointStats& e, int status, uint64_t n, int64_t service_us) {
  e.requests += n;
  e.responses_by_status[static_cast<size_t>(status)] += n;
  e.service.record_n(service_us, static_cast<int64_t>(n));
  e.corrected.record_n(service_us, static_cast<int64_t>(n));
}

monitors::MonitorStatus status_of(const std::vector<monitors::MonitorStatus>& all,
                                  const std::string& id) {
  for (const auto& s : all)
    if (s.spec->id == id) return s;
  throw std::runtime_error("no monitor " + id);
}

TEST(ClientSourceTest, CountsEveryAnswerByStatusAndEveryClassifyFailureAsAnLlmError) {
  const load::Plan plan = error_injection_plan();
  load::RunStats interval = stats_for(plan);
  auto& ep = interval.streams[0].endpoints;
  answer(ep[0], 200, 60, 200'000);
  ep[0].requests += 2;
  ep[0].errors_timeout = 2;
  answer(ep[1], 400, 40, 5'000);
  ep[1].expected_failures = 40;  // expected by the scenario, an error all the same
  answer(ep[2], 200, 10, 20'000);
  answer(ep[2], 503, 1, 20'000);

  ClientSource source;
  EXPECT_TRUE(telemetry::parse_exposition(source.exposition()).samples.empty())
      << "no requests yet: no samples, so the monitors have no data";
  source.add(plan, interval);
  source.add(plan, interval);  // a second drain adds up
  auto e = telemetry::parse_exposition(source.exposition());
  EXPECT_EQ(e.malformed_lines, 0u);

  const std::string tt = "HACKATHON_TRAFFIC_ERROR_INJECTION";
  EXPECT_EQ(value(e, "http_requests_total",
                  {{"endpoint", "/hackathon/classify"},
                   {"method", "POST"},
                   {"status", "200"},
                   {"traffic_type", tt}}),
            120);
  EXPECT_EQ(
      value(e, "http_requests_total", {{"endpoint", "/hackathon/classify"}, {"status", "400"}}),
      80);
  EXPECT_EQ(value(e, "http_requests_total", {{"status", "timeout"}}), 4);
  // The query is not part of the endpoint; an untagged request is "load" traffic.
  EXPECT_EQ(value(e, "http_requests_total",
                  {{"endpoint", "/products"}, {"method", "GET"}, {"traffic_type", "load"}}),
            22);
  EXPECT_EQ(value(e, "http_requests_total", {{"status", "503"}}), 2);

  // LLM families: classify only; errors are every non-2xx answer and every transport error.
  EXPECT_EQ(value(e, "llm_requests_total", {{"traffic_type", tt}}), 2 * (60 + 2 + 40));
  EXPECT_EQ(value(e, "llm_errors_total"), 2 * (2 + 40));
  EXPECT_EQ(value(e, "llm_errors_total", {{"status", "400"}}), 80);
  EXPECT_EQ(value(e, "llm_errors_total", {{"status", "timeout"}}), 4);
  EXPECT_EQ(value(e, "llm_request_duration_seconds_count"), 2 * (60 + 40));
  EXPECT_FALSE(value(e, "llm_tokens_per_request_count"))
      << "the stream counts no tokens: the family is absent";

  // The built-in error monitor reads the ratio the counts make: 42 of 102 classify requests.
  monitors::MonitorSet set(monitors::builtin_monitors());
  set.observe(telemetry::Exposition{}, 1000);
  set.observe(e, 1001);
  const auto burst = status_of(set.statuses(), "llm_error_burst");
  ASSERT_TRUE(burst.value);
  EXPECT_NEAR(*burst.value, 42.0 / 102.0, 1e-12);
  EXPECT_EQ(burst.state, monitors::MonitorState::pending);  // above 5 %, for 15 s not yet held
}

TEST(ClientSourceTest, LatencyBucketsParseBackAndGiveTheP95TheMonitorSetComputes) {
  const load::Plan plan = error_injection_plan();
  load::RunStats interval = stats_for(plan);
  // 90 answers at 200 ms and 10 at 4 s: the 95th falls in the (3 s, 4 s] bucket, halfway
  // through its 10 answers, so histogram_quantile interpolates 3.5 s.
  answer(interval.streams[0].endpoints[0], 200, 90, 200'000);
  answer(interval.streams[0].endpoints[0], 200, 10, 4'000'000);
  answer(interval.streams[0].endpoints[2], 200, 5, 30'000'000);  // not classify: not LLM latency
  ClientSource source;
  source.add(plan, interval);
  auto e = telemetry::parse_exposition(source.exposition());

  EXPECT_EQ(value(e, "llm_request_duration_seconds_bucket", {{"le", "0.2"}}), 90);
  EXPECT_EQ(value(e, "llm_request_duration_seconds_bucket", {{"le", "3"}}), 90);
  EXPECT_EQ(value(e, "llm_request_duration_seconds_bucket", {{"le", "4"}}), 100);
  EXPECT_EQ(value(e, "llm_request_duration_seconds_bucket", {{"le", "+Inf"}}), 100);
  EXPECT_NEAR(*value(e, "llm_request_duration_seconds_sum"), 90 * 0.2 + 10 * 4.0, 1e-6);
  EXPECT_EQ(
      value(e, "http_request_duration_seconds_bucket", {{"endpoint", "/products"}, {"le", "15"}}),
      0);
  EXPECT_EQ(
      value(e, "http_request_duration_seconds_bucket", {{"endpoint", "/products"}, {"le", "30"}}),
      5);
  // Buckets are cumulative and never decrease with the bound.
  double previous = 0;
  for (double bound : ClientSource::latency_bounds_s()) {
    auto n =
        value(e, "http_request_duration_seconds_bucket",
              {{"endpoint", "/hackathon/classify"}, {"le", telemetry::format_metric_value(bound)}});
    ASSERT_TRUE(n) << bound;
    EXPECT_GE(*n, previous) << bound;
    previous = *n;
  }

  monitors::MonitorSet set(monitors::builtin_monitors());
  set.observe(telemetry::Exposition{}, 1000);
  set.observe(e, 1001);
  const auto latency = status_of(set.statuses(), "llm_latency_spike");
  ASSERT_TRUE(latency.value);
  EXPECT_NEAR(*latency.value, 3500, 1e-6);                    // ms
  EXPECT_EQ(latency.state, monitors::MonitorState::pending);  // above 3 000 ms
}

TEST(ClientSourceTest, TokensPerRequestIsTheMeanOverTheAnswersWhoseTokensWereCounted) {
  load::Plan plan = error_injection_plan();
  plan.streams[0].counter_names = {"input_tokens", "output_tokens"};
  load::RunStats interval = stats_for(plan);
  auto& ep = interval.streams[0].endpoints;
  for (auto& e : ep) e.counters.assign(2, 0);
  answer(ep[0], 200, 60, 200'000);
  ep[0].counters = {6000, 3000};
  answer(ep[1], 400, 40, 5'000);  // no tokens in a 400's body: counted neither in sum nor count
  ClientSource source;
  source.add(plan, interval);
  auto e = telemetry::parse_exposition(source.exposition());
  EXPECT_EQ(value(e, "llm_tokens_per_request_sum"), 9000);
  EXPECT_EQ(value(e, "llm_tokens_per_request_count"), 60);
  EXPECT_EQ(value(e, "llm_tokens_per_request_bucket", {{"le", "+Inf"}}), 60);

  auto specs = monitors::load_monitors(R"(monitors:
  - name: Tokens
    signal: {mean: llm_tokens_per_request, unit: tokens}
    above: 1000
    window: 1m
)",
                                       "t.yaml");
  monitors::MonitorSet set(specs);
  set.observe(telemetry::Exposition{}, 1000);
  set.observe(e, 1001);
  ASSERT_TRUE(set.statuses().at(0).value);
  EXPECT_DOUBLE_EQ(*set.statuses().at(0).value, 150);
}

TEST(ClientSourceTest, RunsOneAfterAnotherAddUpIntoTheSameSeries) {
  // A script's phases: different plans, the same labels — the counters keep growing.
  load::Plan first = error_injection_plan();
  load::Plan second;
  second.streams.push_back(first.streams[0]);
  std::swap(second.streams[0].requests[0], second.streams[0].requests[2]);  // another order
  load::RunStats a = stats_for(first), b = stats_for(second);
  answer(a.streams[0].endpoints[0], 200, 7, 1000);
  answer(b.streams[0].endpoints[2], 200, 5, 1000);  // the same classify template, moved
  ClientSource source;
  source.add(first, a);
  source.add(second, b);
  auto e = telemetry::parse_exposition(source.exposition());
  EXPECT_EQ(value(e, "llm_requests_total"), 12);
  EXPECT_EQ(value(e, "http_requests_total", {{"endpoint", "/hackathon/classify"}}), 12);
}

// Fed by a real run (load::Plan::on_interval on the engine's thread, the last drain included):
// the source's counts are the report's.
TEST(ClientSourceTest, FollowsATrafficJobToTheReportsCounts) {
  testing::TestServerOptions so;
  so.routes["/hackathon/classify"] = {400, R"({"error":"bad"})"};
  testing::TestServer server(so);
  auto sc = scenarios::load_scenario(scenarios::Source{"job.yaml", R"(name: client
duration: 1s
streams:
  - name: demo
    rate: 60
    requests:
      - {path: /hackathon/classify, method: POST, body: "{}"}
      - {path: "/products?limit=5"}
)",
                                                       false},
                                     {});
  TrafficJobSettings s;
  s.url = server.url("");
  s.client_source = std::make_shared<ClientSource>();
  TrafficJob job(sc, {}, s);
  TrafficResult r = job.run();
  const uint64_t requests = r.report.at("requests").to_number<uint64_t>();
  ASSERT_EQ(requests, 60u);
  auto e = telemetry::parse_exposition(s.client_source->exposition());
  const double classify = *value(e, "llm_requests_total", {{"traffic_type", "demo"}});
  const double products =
      *value(e, "http_requests_total", {{"endpoint", "/products"}, {"status", "200"}});
  EXPECT_EQ(classify + products, 60);
  EXPECT_GT(classify, 0);
  EXPECT_GT(products, 0);
  EXPECT_EQ(value(e, "llm_errors_total", {{"status", "400"}}), classify);
  EXPECT_EQ(
      value(e, "http_requests_total", {{"endpoint", "/hackathon/classify"}, {"status", "400"}}),
      classify);
  EXPECT_EQ(value(e, "http_request_duration_seconds_count"), 60);
}

}  // namespace
}  // namespace trafficsim::jobs
