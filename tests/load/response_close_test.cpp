// How the engine ends a response when the server closes the connection with (or instead of) the
// last bytes: a close-delimited body ends at EOF and is a response; a close before the declared
// end (mid-head, mid-Content-Length body, mid-chunk) is "closed mid-response", counted at once,
// never a timeout. The servers send their bytes and the FIN in one segment, so the last bytes
// and the close arrive in the same wake-up of the client.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "load/engine.hpp"
#include "load/report.hpp"
#include "support/raw_response_server.hpp"

namespace trafficsim::load {
namespace {

using namespace std::chrono_literals;
using testing::RawResponseServer;

const std::string kCloseDelimited = "HTTP/1.0 200 OK\r\n\r\nhi";
const std::string kCloseDelimited11 = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello";
const std::string kShortOfContentLength = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc";
const std::string kTruncatedHead = "HTTP/1.1 200 OK\r\nContent-Le";
const std::string kTruncatedChunk =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n8\r\nab";

// The command: bench URL -R 10 -d 2s --timeout 1s (20 arrivals, uniform).
Plan open_plan(const std::string& url_text) {
  std::string error;
  auto url = http::parse_url(url_text, &error);
  EXPECT_TRUE(url) << error;
  Stream s;
  s.name = "s";
  s.url = *url;
  s.profile = core::RateProfile::constant(10, 2.0);
  s.timeout = 1s;
  RequestTemplate t;
  t.target = url->target;
  t.name = "GET " + t.target;
  s.requests.push_back(t);
  Plan p;
  p.model = LoadModel::open;
  p.duration = 2s;
  p.threads = 1;
  p.seed = 42;
  p.streams.push_back(s);
  return p;
}

Plan closed_plan(const std::string& url_text) {
  Plan p = open_plan(url_text);
  p.model = LoadModel::closed;
  p.duration = 500ms;
  p.streams[0].connections = 2;
  return p;
}

void expect_complete_accounting(const EndpointStats& t) {
  EXPECT_EQ(t.requests, t.responses() + t.errors_connect + t.errors_timeout + t.errors_other +
                            t.errors_closed_mid_response);
}

TEST(ResponseClose, CloseDelimitedBodyIsAResponseInTheOpenModel) {
  for (const std::string& bytes : {kCloseDelimited, kCloseDelimited11}) {
    RawResponseServer server(bytes);
    Engine engine(open_plan(server.url()));
    EndpointStats t = engine.run().stats.total();
    EXPECT_EQ(t.requests, 20u) << bytes;
    EXPECT_EQ(t.responses_by_status[200], 20u) << bytes;
    EXPECT_EQ(t.errors_timeout, 0u) << bytes;
    EXPECT_EQ(t.errors_closed_mid_response, 0u) << bytes;
    EXPECT_EQ(t.errors(), 0u) << bytes;
    EXPECT_EQ(t.corrected.count(), 20);
    EXPECT_EQ(t.bytes_in, 20 * bytes.size()) << bytes;
    expect_complete_accounting(t);
  }
}

TEST(ResponseClose, CloseDelimitedBodyIsAResponseInTheClosedModel) {
  RawResponseServer server(kCloseDelimited);
  Engine engine(closed_plan(server.url()));
  EndpointStats t = engine.run().stats.total();
  EXPECT_GT(t.requests, 0u);
  EXPECT_EQ(t.responses_by_status[200], t.requests);
  EXPECT_EQ(t.errors_timeout, 0u);
  EXPECT_EQ(t.errors(), 0u);
  expect_complete_accounting(t);
}

struct Truncation {
  const char* what;
  const std::string* bytes;
};
const Truncation kTruncations[] = {{"short of Content-Length", &kShortOfContentLength},
                                   {"mid-head", &kTruncatedHead},
                                   {"mid-chunk", &kTruncatedChunk}};

TEST(ResponseClose, CloseMidResponseIsItsOwnErrorInTheOpenModel) {
  for (const Truncation& c : kTruncations) {
    RawResponseServer server(*c.bytes);
    Plan p = open_plan(server.url());
    std::mutex mu;
    std::map<std::string, int> outcomes;
    p.on_request = [&](const RequestEvent& ev) {
      std::lock_guard lock(mu);
      ++outcomes[std::string(ev.outcome)];
    };
    Engine engine(p);
    RunResult r = engine.run();
    EndpointStats t = r.stats.total();
    EXPECT_EQ(t.requests, 20u) << c.what;
    EXPECT_EQ(t.errors_closed_mid_response, 20u) << c.what;
    EXPECT_EQ(t.errors_timeout, 0u) << c.what;
    EXPECT_EQ(t.errors_other, 0u) << c.what;
    EXPECT_EQ(t.responses(), 0u) << c.what;
    EXPECT_EQ(t.errors(), 20u) << c.what;
    EXPECT_EQ(t.bytes_in, 20 * c.bytes->size()) << c.what;
    EXPECT_EQ(outcomes["closed_mid_response"], 20) << c.what;
    EXPECT_EQ(outcomes.size(), 1u) << c.what;
    ASSERT_EQ(r.error_samples.size(), 1u) << c.what;
    EXPECT_EQ(r.error_samples[0], "connection closed mid-response") << c.what;
    expect_complete_accounting(t);
  }
}

TEST(ResponseClose, CloseMidResponseIsItsOwnErrorInTheClosedModel) {
  for (const Truncation& c : kTruncations) {
    RawResponseServer server(*c.bytes);
    Engine engine(closed_plan(server.url()));
    EndpointStats t = engine.run().stats.total();
    EXPECT_GT(t.requests, 0u) << c.what;
    EXPECT_EQ(t.errors_closed_mid_response, t.requests) << c.what;
    EXPECT_EQ(t.errors_timeout, 0u) << c.what;
    EXPECT_EQ(t.errors_other, 0u) << c.what;
    expect_complete_accounting(t);
  }
}

TEST(ResponseClose, ReportCountsClosedMidResponseAndMergeAddsIt) {
  RawResponseServer server(kShortOfContentLength);
  std::vector<std::pair<std::string, boost::json::object>> parts;
  for (uint32_t i = 0; i < 2; ++i) {
    Plan p = open_plan(server.url());
    p.segment = {i, 2};
    Engine engine(p);
    RunResult r = engine.run();
    auto report = build_report(p, r, "test");
    EXPECT_EQ(report.at("errors").at("closed_mid_response").as_uint64(), 10u);
    EXPECT_EQ(report.at("errors").at("timeout").as_uint64(), 0u);
    EXPECT_EQ(report.at("unexpected_failures").as_uint64(), 10u);
    EXPECT_DOUBLE_EQ(report.at("error_ratio").as_double(), 1.0);
    EXPECT_EQ(stats_from_json(report).errors_closed_mid_response, 10u);
    parts.emplace_back("seg" + std::to_string(i), std::move(report));
  }
  auto merged = merge_reports(parts);
  EXPECT_EQ(merged.at("errors").at("closed_mid_response").as_uint64(), 20u);
  const auto& s0 = merged.at("streams").as_array()[0].as_object();
  EXPECT_EQ(s0.at("errors").at("closed_mid_response").as_uint64(), 20u);
  EXPECT_EQ(s0.at("endpoints").as_array()[0].at("errors").at("closed_mid_response").as_uint64(),
            20u);
}

// A report written before the kind existed still reads (and merges) as zero of it.
TEST(ResponseClose, ReportsWithoutTheKindReadAsZero) {
  EndpointStats s;
  s.requests = 3;
  s.responses_by_status[200] = 3;
  auto o = stats_to_json(s, 1.0, {});
  o.at("errors").as_object().erase("closed_mid_response");
  EXPECT_EQ(stats_from_json(o).errors_closed_mid_response, 0u);
  EXPECT_EQ(stats_from_json(o).requests, 3u);
}

}  // namespace
}  // namespace trafficsim::load
