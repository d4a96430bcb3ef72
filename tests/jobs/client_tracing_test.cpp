// --trace-ratio end to end in one process: the load engine's traceparent, its client spans, and
// the demo target's server, client and database spans form one trace per generated request —
// generator -> POST /checkout -> GET /products/recommendations (client) -> the recommendations
// server span -> SELECT -> its connection-pool wait and execution.
#include "jobs/client_tracing.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/trace_context.hpp"
#include "jobs/traffic_job.hpp"
#include "scenarios/scenario.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::jobs {
namespace {

scenarios::Scenario scenario_of(const std::string& yaml) {
  return scenarios::load_scenario(scenarios::Source{"trace.yaml", yaml, false}, {});
}

std::string hex(const core::TraceId& id) { return core::to_hex(id); }
std::string hex(const core::SpanId& id) { return core::to_hex(id); }

TEST(ClientTracingTest, OneGeneratedCheckoutIsOneTraceFromTheGeneratorToTheDatabase) {
  std::string dir = testing::temp_dir();
  auto client_spans = std::make_shared<telemetry::SpanBuffer>(4096);
  TrafficJobSettings s;
  s.builtin.data_dir = dir;
  s.builtin.catalog_rows = 2000;
  s.trace_ratio = 1.0;
  s.client_spans = client_spans;
  std::vector<telemetry::Span> server_spans;
  {
    TrafficJob job(scenario_of("name: checkout\nduration: 1s\nstreams:\n  - name: shop\n"
                               "    rate: 10\n    requests:\n"
                               "      - {method: POST, path: /checkout, body: '{\"user_id\":\"u1\"}',"
                               " headers: {Content-Type: application/json}}\n"),
                   {}, s);
    TrafficResult r = job.run();
    ASSERT_GT(r.report.at("requests").to_number<uint64_t>(), 5u);
    ASSERT_TRUE(r.report.contains("tracing"));
    EXPECT_EQ(r.report.at("tracing").at("client_spans").to_number<uint64_t>(),
              r.report.at("requests").to_number<uint64_t>());
    // The built-in target's spans, as GET /debug/traces gives them.
    const auto port =
        static_cast<uint16_t>(std::stoi(job.url().substr(job.url().rfind(':') + 1)));
    auto body = testing::http_call(port, "GET", "/debug/traces?limit=5000");
    ASSERT_EQ(body.status, 200);
    auto doc = boost::json::parse(body.body).as_object();
    for (const auto& v : doc.at("spans").as_array()) {
      const auto& o = v.as_object();
      telemetry::Span sp;
      auto id = [](const boost::json::value& x, auto& out) {
        const std::string h(x.as_string());
        for (size_t i = 0; i < out.size(); ++i) out[i] = std::stoi(h.substr(2 * i, 2), nullptr, 16);
      };
      id(o.at("traceId"), sp.trace_id);
      id(o.at("spanId"), sp.span_id);
      if (o.contains("parentSpanId")) id(o.at("parentSpanId"), sp.parent_span_id);
      sp.name = std::string(o.at("name").as_string());
      sp.kind = static_cast<telemetry::SpanKind>(o.at("kind").to_number<int>());
      server_spans.push_back(std::move(sp));
    }
  }
  std::filesystem::remove_all(dir);

  const auto generated = client_spans->recent(4096);
  ASSERT_FALSE(generated.empty());
  // Index the target's spans by parent.
  std::multimap<std::string, const telemetry::Span*> by_parent;
  for (const auto& sp : server_spans) by_parent.emplace(hex(sp.parent_span_id), &sp);
  auto children = [&](const telemetry::Span& parent) {
    std::vector<const telemetry::Span*> out;
    auto [a, b] = by_parent.equal_range(hex(parent.span_id));
    for (auto it = a; it != b; ++it) out.push_back(it->second);
    return out;
  };
  auto child_named = [&](const telemetry::Span& parent, const std::string& name) {
    for (const auto* c : children(parent)) {
      if (c->name == name) return c;
    }
    return static_cast<const telemetry::Span*>(nullptr);
  };

  size_t complete = 0;
  for (const auto& g : generated) {
    EXPECT_EQ(g.kind, telemetry::SpanKind::client);
    EXPECT_EQ(g.display_name(), "POST /checkout");
    EXPECT_EQ(g.all_attributes().at("http.response.status_code").to_number<int>(), 200);
    EXPECT_EQ(g.all_attributes().at("http.request.method").as_string(), "POST");
    const auto* checkout = child_named(g, "POST /checkout");
    if (checkout == nullptr) continue;
    EXPECT_EQ(checkout->kind, telemetry::SpanKind::server);
    EXPECT_EQ(hex(checkout->trace_id), hex(g.trace_id));
    const auto* call = child_named(*checkout, "GET /products/recommendations");
    ASSERT_NE(call, nullptr) << "checkout's client span";
    EXPECT_EQ(call->kind, telemetry::SpanKind::client);
    const auto* rec = child_named(*call, "GET /products/recommendations");
    ASSERT_NE(rec, nullptr) << "the recommendations server span";
    EXPECT_EQ(rec->kind, telemetry::SpanKind::server);
    const auto* select = child_named(*rec, "SELECT ecommerce.products");
    ASSERT_NE(select, nullptr) << "the query span";
    EXPECT_NE(child_named(*select, "Connection pool wait"), nullptr);
    EXPECT_NE(child_named(*select, "Query execution"), nullptr);
    for (const auto* sp : {checkout, call, rec, select}) EXPECT_EQ(hex(sp->trace_id), hex(g.trace_id));
    ++complete;
  }
  // The ring may have lost the oldest spans; most generated requests must be whole traces.
  EXPECT_GE(complete, generated.size() / 2) << complete << " of " << generated.size();
}

TEST(ClientTracingTest, EveryRequestCarriesATraceparentAndTheRatioDecidesTheSampledFlag) {
  testing::TestServerOptions so;
  so.keep_heads = 400;
  testing::TestServer server(so);
  auto spans = std::make_shared<telemetry::SpanBuffer>(4096);
  TrafficJobSettings s;
  s.url = server.url("");
  s.trace_ratio = 0.25;
  s.client_spans = spans;
  TrafficJob job(scenario_of("name: t\nduration: 2s\nstreams:\n  - name: s\n    rate: 200\n"
                             "    requests: [{path: /x}]\n"),
                 {}, s);
  TrafficResult r = job.run();
  const auto heads = server.request_heads();
  ASSERT_GE(heads.size(), 300u);
  size_t sampled = 0;
  std::set<std::string> sampled_ids;
  for (const auto& h : heads) {
    const auto at = h.find("traceparent: ");
    ASSERT_NE(at, std::string::npos) << h;
    const auto value = h.substr(at + 13, 55);
    auto tc = core::parse_traceparent(value);
    ASSERT_TRUE(tc) << value;
    if (tc->flags & 1) {
      ++sampled;
      sampled_ids.insert(core::to_hex(tc->span_id));
    }
  }
  const double share = static_cast<double>(sampled) / static_cast<double>(heads.size());
  EXPECT_NEAR(share, 0.25, 0.08) << sampled << " of " << heads.size();
  // Every sampled request, and only those, became a client span with the header's ids.
  const auto recorded = spans->recent(4096);
  EXPECT_EQ(recorded.size(), r.report.at("tracing").at("client_spans").to_number<uint64_t>());
  size_t matched = 0;
  for (const auto& sp : recorded) matched += sampled_ids.count(core::to_hex(sp.span_id));
  EXPECT_EQ(matched, sampled);
}

TEST(ClientTracingTest, WithoutARatioNoRequestCarriesATraceparent) {
  testing::TestServer server;
  TrafficJobSettings s;
  s.url = server.url("");
  TrafficJob job(scenario_of("name: t\nduration: 500ms\nstreams:\n  - name: s\n    rate: 20\n"
                             "    requests: [{path: /x}]\n"),
                 {}, s);
  TrafficResult r = job.run();
  const auto heads = server.request_heads();
  ASSERT_FALSE(heads.empty());
  for (const auto& h : heads) EXPECT_EQ(h.find("traceparent"), std::string::npos) << h;
  EXPECT_FALSE(r.report.contains("tracing"));
}

}  // namespace
}  // namespace trafficsim::jobs
