// `trafficsim validate dual-mode` against a fake demo (the test server answering /health,
// /admin/traffic-stats and /metrics with chosen figures): passing figures exit 0, each failing
// figure fails its own row and exits 1, an unreachable target is a clear failure, bad flags exit 2.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

namespace json = boost::json;
using trafficsim::testing::ProcessResult;
using trafficsim::testing::run_process;
using trafficsim::testing::TestServer;
using trafficsim::testing::TestServerOptions;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

ProcessResult validate(std::vector<std::string> args) {
  args.insert(args.begin(), {kBinary, "validate", "dual-mode", "--no-color"});
  return run_process(std::move(args), 30s);
}

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

std::string health(bool enabled, double minute) {
  return json::serialize(json::object{
      {"status", "healthy"},
      {"service", "trafficsim-target"},
      {"version", "0.1.0"},
      {"demo", json::object{{"mode", enabled ? "blackfriday" : "off"},
                            {"enabled", enabled},
                            {"start_timestamp", 1796168153.3},
                            {"time_scale", 60},
                            {"duration_minutes", 30},
                            {"minute", minute},
                            {"phase", "surge"}}}});
}

// Seed 002's shape, as the control plane serves it (error_rate as text, no error_ratio).
std::string traffic_stats(const std::string& baseline_error_rate, double demo_minute) {
  return json::serialize(json::object{
      {"baseline", json::object{{"rpm", 100}, {"requests", 1000}, {"errors", 1},
                                {"error_rate", baseline_error_rate}}},
      {"demo", json::object{{"current_rpm", 3400}, {"demo_minute", demo_minute},
                            {"requests", 8000}, {"errors", 1200}, {"error_rate", "15.0%"}}}});
}

// A Prometheus histogram of 100 baseline requests: `fast` of them under 50 ms, the rest under
// 250 ms; and 100 demo requests under 2.5 s.
std::string metrics(int fast) {
  std::string out =
      "# HELP http_request_duration_seconds Time from receiving a request to answering it.\n"
      "# TYPE http_request_duration_seconds histogram\n";
  auto series = [&](const std::string& labels, std::map<std::string, int> buckets) {
    for (const auto& [le, n] : buckets)
      out += fmt::format("http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, le, n);
  };
  // Two baseline series (the quantile sums them), 50 requests each.
  for (const char* endpoint : {"/products", "/products/1"})
    series(fmt::format("endpoint=\"{}\",method=\"GET\",traffic_type=\"baseline\"", endpoint),
           {{"0.05", fast / 2}, {"0.1", fast / 2}, {"0.25", 50}, {"2.5", 50}, {"+Inf", 50}});
  series("endpoint=\"/products/recommendations\",method=\"GET\",traffic_type=\"demo\"",
         {{"0.05", 0}, {"0.1", 0}, {"0.25", 0}, {"2.5", 100}, {"+Inf", 100}});
  return out;
}

TestServerOptions demo_server(const std::string& health_body, const std::string& stats_body,
                              const std::string& metrics_body, int stats_status = 200) {
  TestServerOptions o;
  o.status = 404;
  o.body = "not found";
  o.routes["/health"] = {200, health_body};
  o.routes["/admin/traffic-stats"] = {stats_status, stats_body};
  o.routes["/metrics"] = {200, metrics_body};
  return o;
}

// name -> status ("pass", "fail", "info", "skipped") from --json.
std::map<std::string, std::string> statuses(const ProcessResult& r) {
  std::map<std::string, std::string> out;
  json::value v = json::parse(r.out);
  for (const auto& c : v.at("checks").as_array())
    out[std::string(c.at("name").as_string())] = std::string(c.at("status").as_string());
  return out;
}

TEST(ValidateDualModeCli, HealthyFiguresPassEveryCheckAndExitZero) {
  TestServer server(demo_server(health(true, 10.2), traffic_stats("0.1%", 10), metrics(100)));
  ProcessResult r = validate({"--url", server.url("")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  for (const char* row : {"PASS    target reachable", "PASS    demo mode on", "PASS    demo minute",
                          "PASS    traffic stats", "PASS    baseline error rate",
                          "PASS    baseline p95", "INFO    demo stream", "All checks passed",
                          "minute 10.2 (surge)", "0.1% (1 of 1000)", "15.0% errors"})
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
  // 100 of 100 under 50 ms: p95 interpolates to 0.05 * 95/100 = 47.5 ms.
  EXPECT_NE(r.out.find("48 ms"), std::string::npos) << r.out;
}

TEST(ValidateDualModeCli, EachFailingFigureFailsItsRowAndExitsOne) {
  // Baseline: 5 % errors; 50 of 100 under 50 ms, so p95 = 0.1 + 0.15 * 45/50 = 235 ms.
  TestServer server(demo_server(health(true, 10.2), traffic_stats("5.0%", 10), metrics(50)));
  ProcessResult r = validate({"--url", server.url(""), "--json"});
  ASSERT_EQ(r.exit_code, 1) << describe(r);
  auto s = statuses(r);
  EXPECT_EQ(s["target reachable"], "pass");
  EXPECT_EQ(s["demo mode on"], "pass");
  EXPECT_EQ(s["baseline error rate"], "fail");
  EXPECT_EQ(s["baseline p95"], "fail");
  EXPECT_NE(r.out.find("235 ms"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(r.out).at("passed"), json::value(false));

  // The limits are flags: with room for both, the same figures pass.
  ProcessResult relaxed = validate({"--url", server.url(""), "--max-baseline-error-rate", "6%",
                                    "--max-baseline-p95", "300ms"});
  EXPECT_EQ(relaxed.exit_code, 0) << describe(relaxed);
}

TEST(ValidateDualModeCli, DemoModeOffOrAWrongMinuteFails) {
  TestServer off(demo_server(health(false, 0), traffic_stats("0.1%", 10), metrics(100)));
  ProcessResult r = validate({"--url", off.url(""), "--json"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(statuses(r)["demo mode on"], "fail");

  // The target says minute 10, the traffic stats minute 20: two clocks, not one.
  TestServer skewed(demo_server(health(true, 10.0), traffic_stats("0.1%", 20), metrics(100)));
  r = validate({"--url", skewed.url(""), "--json"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(statuses(r)["demo minute"], "fail");
  EXPECT_NE(r.out.find("traffic stats say 20.0"), std::string::npos) << r.out;
}

TEST(ValidateDualModeCli, NoDualModeJobIsAFailureThatSaysSo) {
  TestServer server(demo_server(health(true, 3), "{\"error\":\"not_found\"}", metrics(100), 404));
  ProcessResult r = validate({"--url", server.url("")});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.out.find("FAIL    traffic stats"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("status 404 (no dual-mode job runs)"), std::string::npos) << r.out;
}

TEST(ValidateDualModeCli, AnUnreachableTargetIsAClearFailure) {
  const std::string url = "http://127.0.0.1:" + std::to_string(trafficsim::testing::free_port());
  ProcessResult r = validate({"--url", url});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.out.find("FAIL    target reachable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cannot read " + url + "/health"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refused"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SKIP    baseline p95"), std::string::npos) << r.out;

  ProcessResult j = validate({"--url", url, "--json"});
  EXPECT_EQ(j.exit_code, 1) << describe(j);
  EXPECT_EQ(json::parse(j.out).at("passed"), json::value(false));
}

TEST(ValidateDualModeCli, BadFlagsExitTwoNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const Case& c : std::vector<Case>{{{"--url", "ftp://x"}, "--url"},
                                         {{"--max-baseline-error-rate", "5"}, "--max-baseline-error-rate"},
                                         {{"--max-baseline-p95", "fast"}, "--max-baseline-p95"},
                                         {{"--timeout", "0s"}, "--timeout"},
                                         {{"--no-such-flag"}, "--no-such-flag"}}) {
    ProcessResult r = validate(c.args);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << describe(r);
  }
}

}  // namespace
