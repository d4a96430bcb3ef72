// OTLP export as a user meets it: `trafficsim run --otlp URL --trace-ratio R` against the built-in
// target sends the generator's client spans and the target's spans, logs and metrics to the
// endpoint (protobuf by default, JSON when OTEL_EXPORTER_OTLP_PROTOCOL says so) and reports what
// it sent; bad settings are refused naming the flag or variable; an endpoint that is down costs
// spans, never the load's rate, and the run still ends.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

namespace json = boost::json;
using trafficsim::testing::run_process;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

uint64_t num(const json::value& v) { return v.to_number<uint64_t>(); }

struct Run {
  trafficsim::testing::ProcessResult process;
  json::object report;
};

Run run_with(const std::string& otlp, const std::vector<std::string>& env,
             const std::string& ratio = "1", const std::string& rate = "20") {
  trafficsim::testing::TempDir dir;
  const std::string report = (dir.path() / "r.json").string();
  std::vector<std::string> argv = {"env"};
  for (const auto& e : env) argv.push_back(e);
  for (const auto& a :
       {kBinary, std::string("run"), std::string("--mode"), std::string("normal_traffic"),
        std::string("--rate"), rate, std::string("--duration"), std::string("2s"),
        std::string("--otlp"), otlp, std::string("--trace-ratio"), ratio, std::string("-q"),
        std::string("--json"), report, std::string("--data-dir"), dir.path().string(),
        std::string("--catalog-rows"), std::string("2000")})
    argv.push_back(a);
  Run r;
  r.process = run_process(argv, 60s);
  if (std::filesystem::exists(report)) {
    std::ifstream in(report);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    r.report = json::parse(text).as_object();
  }
  return r;
}

size_t posts_to(const trafficsim::testing::TestServer& sink, const std::string& line,
                const std::string& content_type) {
  size_t n = 0;
  for (const auto& h : sink.request_heads()) {
    if (h.rfind(line, 0) == 0 && h.find("Content-Type: " + content_type) != std::string::npos) ++n;
  }
  return n;
}

TEST(OtlpCli, RunExportsClientAndServerSpansLogsAndMetricsAsProtobufAndReportsThem) {
  trafficsim::testing::TestServerOptions so;
  so.keep_heads = 200;
  trafficsim::testing::TestServer sink(so);
  Run r = run_with(sink.url(""), {});
  ASSERT_EQ(r.process.exit_code, 0) << r.process.err;
  const uint64_t requests = num(r.report.at("requests"));
  ASSERT_EQ(requests, 40u);
  const auto& ex = r.report.at("export").as_object();
  // One client span (generator) and one server span (target) per request.
  EXPECT_EQ(num(ex.at("traces").at("sent")), 2 * requests);
  EXPECT_EQ(num(ex.at("logs").at("sent")), requests);
  EXPECT_GT(num(ex.at("metrics").at("sent")), 0u);
  for (const char* s : {"traces", "logs", "metrics"}) {
    EXPECT_EQ(num(ex.at(s).at("dropped")), 0u) << s;
    EXPECT_EQ(num(ex.at(s).at("failed")), 0u) << s;
  }
  EXPECT_EQ(num(r.report.at("tracing").at("client_spans")), requests);
  EXPECT_GE(posts_to(sink, "POST /v1/traces HTTP/1.1", "application/x-protobuf"), 2u);
  EXPECT_GE(posts_to(sink, "POST /v1/logs HTTP/1.1", "application/x-protobuf"), 1u);
  EXPECT_GE(posts_to(sink, "POST /v1/metrics HTTP/1.1", "application/x-protobuf"), 1u);
  EXPECT_NE(r.process.out.find("export: "), std::string::npos) << r.process.out;
}

TEST(OtlpCli, TheProtocolVariableSwitchesToJsonAndHeadersAreSent) {
  trafficsim::testing::TestServerOptions so;
  so.keep_heads = 200;
  trafficsim::testing::TestServer sink(so);
  Run r = run_with(sink.url(""), {"OTEL_EXPORTER_OTLP_PROTOCOL=http/json",
                                  "OTEL_EXPORTER_OTLP_HEADERS=x-team=sre,authorization=Bearer%20k"},
                   "0.5");
  ASSERT_EQ(r.process.exit_code, 0) << r.process.err;
  EXPECT_GE(posts_to(sink, "POST /v1/traces HTTP/1.1", "application/json"), 1u);
  EXPECT_EQ(posts_to(sink, "POST /v1/traces HTTP/1.1", "application/x-protobuf"), 0u);
  bool headers = false;
  for (const auto& h : sink.request_heads())
    headers = headers || (h.find("x-team: sre") != std::string::npos &&
                          h.find("authorization: Bearer k") != std::string::npos);
  EXPECT_TRUE(headers);
  const uint64_t requests = num(r.report.at("requests"));
  const uint64_t client = num(r.report.at("tracing").at("client_spans"));
  EXPECT_GT(client, requests / 5);
  EXPECT_LT(client, requests * 4 / 5);
}

TEST(OtlpCli, BadSettingsAreRefusedNamingTheFlagOrVariable) {
  struct Case {
    std::vector<std::string> env;
    std::string otlp, ratio, names;
  };
  const std::vector<Case> cases = {
      {{}, "ftp://127.0.0.1:4318", "1", "--otlp"},
      {{}, "http://127.0.0.1:4318", "2", "--trace-ratio"},
      {{"OTEL_EXPORTER_OTLP_PROTOCOL=grpc"}, "http://127.0.0.1:4318", "1",
       "OTEL_EXPORTER_OTLP_PROTOCOL"},
      {{"OTEL_EXPORTER_OTLP_TIMEOUT=soon"}, "http://127.0.0.1:4318", "1",
       "OTEL_EXPORTER_OTLP_TIMEOUT"},
      {{"OTEL_EXPORTER_OTLP_COMPRESSION=brotli"}, "http://127.0.0.1:4318", "1",
       "OTEL_EXPORTER_OTLP_COMPRESSION"},
      {{"OTEL_TRACES_SAMPLER=traceidratio", "OTEL_TRACES_SAMPLER_ARG=1.5"},
       "http://127.0.0.1:4318", "1", "OTEL_TRACES_SAMPLER_ARG"},
  };
  for (const auto& c : cases) {
    Run r = run_with(c.otlp, c.env, c.ratio);
    EXPECT_EQ(r.process.exit_code, 2) << c.names << ": " << r.process.err;
    EXPECT_NE(r.process.err.find(c.names), std::string::npos) << r.process.err;
    EXPECT_TRUE(r.report.empty()) << "nothing ran";
  }
}

TEST(OtlpCli, AnEndpointThatIsDownCostsSpansNotTheRate) {
  // A port nothing listens on: every export fails to connect and is retried, then counted.
  const int closed_port = trafficsim::testing::free_port();
  const auto started = std::chrono::steady_clock::now();
  Run r = run_with("http://127.0.0.1:" + std::to_string(closed_port), {}, "1", "200");
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(r.process.exit_code, 0) << r.process.err;
  // The open model's arrivals are all sent: 200/s for 2 s.
  EXPECT_EQ(num(r.report.at("requests")), 400u);
  EXPECT_EQ(num(r.report.at("errors").at("connect")), 0u);
  const auto& traces = r.report.at("export").at("traces").as_object();
  EXPECT_EQ(num(traces.at("sent")), 0u);
  EXPECT_EQ(num(traces.at("failed")) + num(traces.at("dropped")), 800u);
  EXPECT_GT(num(traces.at("retried")), 0u);
  // Two exporters, each bounded by its 5 s shutdown deadline, after a 2 s run and start-up.
  EXPECT_LT(took, 25.0);
}

}  // namespace
