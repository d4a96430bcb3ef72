// `trafficsim telemetry` as a user runs it: JSON lines on stdout by default, the same lines for
// one seed apart from time fields, a stress rate of spans, OTLP export, bad flags, Ctrl+C.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

using trafficsim::testing::BackgroundProcess;
using trafficsim::testing::run_process;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e; (e = text.find('\n', b)) != std::string::npos; b = e + 1)
    out.push_back(text.substr(b, e - b));
  EXPECT_EQ(b, text.size()) << "the output ends with a whole line";
  return out;
}

std::string without_time_fields(const std::string& text) {
  static const std::regex time_field(R"re("(time|start|end|timeUnixNano)":"[^"]*")re");
  return std::regex_replace(text, time_field, "\"$1\":\"\"");
}

TEST(TelemetryCommand, WritesOneJsonObjectPerSpanAndLogRecordOnStdout) {
  const auto r = run_process(
      {kBinary, "telemetry", "--seed", "3", "--duration", "1s", "--interval", "100ms"}, 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> spans_by_kind, logs_by_level;
  int lines = 0;
  for (const auto& line : lines_of(r.out)) {
    ++lines;
    const auto o = boost::json::parse(line).as_object();
    const std::string type(o.at("type").as_string()), kind(o.at("kind").as_string());
    const std::string level(o.at("level").as_string());
    EXPECT_FALSE(o.at("message").as_string().empty());
    if (type == "span") {
      ++spans_by_kind[kind];
      for (const char* k :
           {"trace_id", "span_id", "name", "start", "end", "duration_ms", "attributes"})
        EXPECT_TRUE(o.contains(k)) << k << " in " << line;
    } else {
      ASSERT_EQ(type, "log") << line;
      ++logs_by_level[level];
      EXPECT_TRUE(o.contains("time") && o.contains("fields")) << line;
    }
    const std::map<std::string, std::string> level_of = {
        {"http", "info"}, {"db", "debug"}, {"job", "info"}, {"cache", "debug"}};
    if (kind != "log") {
      EXPECT_EQ(level, level_of.at(kind)) << line;
    }
  }
  // 10 ticks of 3-6 activities.
  int spans = 0;
  for (const auto& [kind, n] : spans_by_kind) spans += n;
  EXPECT_GE(spans, 30);
  EXPECT_LE(spans, 60);
  EXPECT_EQ(spans_by_kind.size(), 4u) << r.out;
  EXPECT_GT(lines, spans);
  EXPECT_NE(r.err.find("activities"), std::string::npos) << "a summary on stderr: " << r.err;
}

TEST(TelemetryCommand, OneSeedGivesTheSameStdoutApartFromTimeFields) {
  const std::vector<std::string> argv = {kBinary,      "telemetry", "--seed",     "7",
                                         "--duration", "5s",        "--interval", "100ms"};
  // The two runs side by side: 5 s of wall time, not 10.
  BackgroundProcess a(argv), b(argv);
  auto other = argv;
  other[3] = "8";
  BackgroundProcess c(other);
  const auto ra = a.wait(30s), rb = b.wait(30s), rc = c.wait(30s);
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  const auto la = lines_of(without_time_fields(ra.out));
  const auto lb = lines_of(without_time_fields(rb.out));
  ASSERT_GT(la.size(), 200u);
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) ASSERT_EQ(la[i], lb[i]) << "line " << i + 1;
  EXPECT_NE(without_time_fields(ra.out), without_time_fields(rc.out)) << "another seed differs";
}

TEST(TelemetryCommand, StressRateEmitsRateTimesDurationSpans) {
  const auto started = std::chrono::steady_clock::now();
  const auto r =
      run_process({kBinary, "telemetry", "--seed", "1", "--rate", "20k", "--duration", "2s"}, 60s);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t spans = 0;
  for (size_t at = 0; (at = r.out.find("{\"type\":\"span\"", at)) != std::string::npos; ++at)
    ++spans;
  EXPECT_NEAR(static_cast<double>(spans), 40'000, 40'000 * 0.03);
  EXPECT_GE(took, 1.9);
  EXPECT_LT(took, 10.0);
}

TEST(TelemetryCommand, ExportsSpansLogsAndMetricsOverOtlpInsteadOfStdout) {
  trafficsim::testing::TestServer collector({.body = ""});
  const auto r = run_process({kBinary, "telemetry", "--seed", "2", "--duration", "300ms",
                              "--interval", "100ms", "--otlp", collector.url("")},
                             30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "no JSON lines with an OTLP endpoint (unless --stdout)";
  std::set<std::string> paths;
  for (const auto& head : collector.request_heads())
    paths.insert(head.substr(0, head.find(" HTTP/")));
  EXPECT_TRUE(paths.count("POST /v1/traces")) << r.err;
  EXPECT_TRUE(paths.count("POST /v1/logs")) << r.err;
  EXPECT_TRUE(paths.count("POST /v1/metrics")) << r.err;
  EXPECT_NE(r.err.find("export:"), std::string::npos) << r.err;
}

TEST(TelemetryCommand, BadFlagsExitWithTwoNamingTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--rate", "fast"}, "--rate"},
      {{"--rate", "0"}, "--rate"},
      {{"--intensity", "0"}, "--intensity"},
      {{"--intensity", "lots"}, "--intensity"},
      {{"--duration", "5x"}, "--duration"},
      {{"--interval", "0"}, "--interval"},
      {{"--interval", "100us"}, "--interval"},
      {{"--seed", "-3"}, "--seed"},
      {{"--rate", "1k", "--intensity", "2"}, "--intensity"},
      {{"--otlp", "not a url"}, "--otlp"},
      {{"--bogus"}, "--bogus"},
  };
  for (const auto& [flags, named] : cases) {
    std::vector<std::string> argv = {kBinary, "telemetry", "--duration", "1s"};
    if (flags[0] == "--duration") argv.resize(2);
    argv.insert(argv.end(), flags.begin(), flags.end());
    const auto r = run_process(argv, 10s);
    EXPECT_EQ(r.exit_code, 2) << flags[0] << " " << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "nothing ran";
  }
}

TEST(TelemetryCommand, CtrlCStopsCleanlyWithWholeLines) {
  BackgroundProcess p({kBinary, "telemetry", "--seed", "4", "--interval", "50ms"});
  ASSERT_TRUE(p.wait_for_stdout("\"type\":\"span\"", 20s)) << p.current_stderr();
  ASSERT_TRUE(p.send_signal(SIGINT));
  const auto r = p.wait(20s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& line : lines_of(r.out)) EXPECT_NO_THROW(boost::json::parse(line)) << line;
  EXPECT_NE(r.err.find("activities"), std::string::npos) << r.err;
}

}  // namespace
