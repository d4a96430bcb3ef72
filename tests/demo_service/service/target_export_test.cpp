// The demo target with an OTLP exporter: sampled requests' spans and every request's log record
// go to the endpoint, unsampled ones (traceparent flag 00) stay local, the exporter's counts are
// on /metrics (which promtool still accepts), and the log buffer the dashboard reads has one
// record per request tied to its span.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "core/trace_context.hpp"
#include "demo_service/target_service.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::demo_service {
namespace {

using namespace std::chrono_literals;
using testing::http_call;

std::shared_ptr<telemetry::OtlpExporter> exporter_to(const std::string& base) {
  auto env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto o = telemetry::otlp_options_from(env, base, "target-test");
  o.batch_delay = 100ms;
  return std::make_shared<telemetry::OtlpExporter>(o);
}

TEST(TargetExport, SampledSpansAndEveryLogRecordAreExportedAndCountedOnMetrics) {
  testing::TestServerOptions so;
  so.keep_heads = 100;
  testing::TestServer sink(so);
  testing::TempDir dir;
  auto exporter = exporter_to(sink.url(""));
  TargetOptions o;
  o.port = 0;
  o.data_dir = dir.path();
  o.catalog_rows = 2000;
  o.access_log = "off";
  o.exporter = exporter;
  auto svc = std::make_unique<TargetService>(o);
  svc->start();
  const auto port = svc->port();

  core::TraceContext sampled{core::random_trace_id(), core::random_span_id(), 0x01};
  core::TraceContext unsampled{core::random_trace_id(), core::random_span_id(), 0x00};
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(http_call(port, "GET", "/products", {}, {{"traceparent", sampled.traceparent()}}).status,
              200);
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(
        http_call(port, "GET", "/products", {}, {{"traceparent", unsampled.traceparent()}}).status,
        200);

  // Server span + SELECT + pool wait + execution per sampled request; a log record per request.
  ASSERT_TRUE(testing::eventually(
      [&] {
        return exporter->stats(telemetry::Signal::traces).sent >= 12 &&
               exporter->stats(telemetry::Signal::logs).sent >= 5;
      },
      10s));
  EXPECT_EQ(exporter->stats(telemetry::Signal::traces).sent, 12u);
  EXPECT_EQ(exporter->stats(telemetry::Signal::logs).sent, 5u);

  // Every request's log record, tied to its span, in the buffer the Logs page reads.
  const auto logs = svc->logs().since(0, 100);
  ASSERT_EQ(logs.size(), 5u);
  EXPECT_EQ(core::to_hex(logs[0].record.trace_id), core::to_hex(sampled.trace_id));
  EXPECT_EQ(core::to_hex(logs[4].record.trace_id), core::to_hex(unsampled.trace_id));
  EXPECT_EQ(logs[0].record.severity, telemetry::Severity::info);
  EXPECT_NE(logs[0].record.body.find("GET /products 200"), std::string::npos) << logs[0].record.body;

  auto metrics = http_call(port, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("trafficsim_otlp_items_total{signal=\"traces\",outcome=\"sent\"}"),
            std::string::npos);
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    const auto file = dir.write("metrics.txt", metrics.body);
    auto check = testing::run_process({"sh", "-c", "promtool check metrics < " + file.string()},
                                      20s);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }

  // Shutdown sends the final metrics: the registry as OTLP metrics.
  svc->stop();
  exporter->shutdown();
  EXPECT_GT(exporter->stats(telemetry::Signal::metrics).sent, 0u);
  bool metrics_post = false;
  for (const auto& h : sink.request_heads())
    metrics_post = metrics_post || h.rfind("POST /v1/metrics HTTP/1.1", 0) == 0;
  EXPECT_TRUE(metrics_post);
}

}  // namespace
}  // namespace trafficsim::demo_service
