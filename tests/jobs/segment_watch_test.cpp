// jobs/segment_watch: a distributed run's segments scraped and put side by side — direct URLs
// and a Prometheus /federate answer — with a segment that stops answering keeping its last
// counts, and bad URLs named.
#include "jobs/segment_watch.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>

#include "support/test_server.hpp"
#include "telemetry/exposition_parser.hpp"

namespace trafficsim::jobs {
namespace {

using testing::TestServer;
using testing::TestServerOptions;

std::string segment_page(int i, int n, int ok, int failed) {
  return "# TYPE trafficsim_segment_info gauge\n"
         "trafficsim_segment_info{segment=\"" +
         std::to_string(i) + "\",segments=\"" + std::to_string(n) +
         "\"} 1\n"
         "# TYPE http_requests_total counter\n"
         "http_requests_total{segment=\"" +
         std::to_string(i) + "\",segments=\"" + std::to_string(n) +
         "\",endpoint=\"/\",method=\"GET\",status=\"200\",traffic_type=\"load\"} " +
         std::to_string(ok) +
         "\n"
         "http_requests_total{segment=\"" +
         std::to_string(i) + "\",segments=\"" + std::to_string(n) +
         "\",endpoint=\"/\",method=\"GET\",status=\"timeout\",traffic_type=\"load\"} " +
         std::to_string(failed) + "\n";
}

std::unique_ptr<TestServer> serving(const std::string& path, const std::string& body) {
  TestServerOptions o;
  o.status = 404;
  o.body = "no";
  o.routes[path] = {200, body};
  return std::make_unique<TestServer>(o);
}

double requests_in(const std::string& exposition) {
  double total = 0;
  for (const auto& s : telemetry::parse_exposition(exposition).samples)
    if (s.name == "http_requests_total") total += s.value;
  return total;
}

TEST(SegmentWatch, SumsTheSegmentsAndKeepsTheLastCountsOfOneThatStoppedAnswering) {
  auto a = serving("/metrics", segment_page(0, 2, 90, 10));
  auto b = serving("/metrics", segment_page(1, 2, 100, 0));
  // One as a URL, one as the HOST:PORT --metrics-listen printed.
  SegmentWatch watch({{a->url("/metrics"), "127.0.0.1:" + std::to_string(b->port())}, ""});
  watch.scrape_once();
  auto j = watch.to_json();
  EXPECT_EQ(j.at("mode").as_string(), "urls");
  EXPECT_EQ(j.at("up").as_int64(), 2);
  EXPECT_EQ(j.at("known").as_int64(), 2);
  EXPECT_EQ(j.at("requests").to_number<uint64_t>(), 200u);
  EXPECT_EQ(j.at("errors").to_number<uint64_t>(), 10u) << "the timeouts";
  const auto& first = j.at("segments").as_array().at(0).as_object();
  EXPECT_EQ(first.at("segment").as_string(), "0");
  EXPECT_EQ(first.at("segments").as_string(), "2");
  EXPECT_EQ(first.at("requests").to_number<uint64_t>(), 100u);
  EXPECT_DOUBLE_EQ(requests_in(watch.exposition()), 200.0);

  // Segment 1 ends (its process exits): its counts stay in the sum, marked down.
  b.reset();
  watch.scrape_once();
  j = watch.to_json();
  EXPECT_EQ(j.at("up").as_int64(), 1);
  EXPECT_EQ(j.at("requests").to_number<uint64_t>(), 200u);
  const auto& second = j.at("segments").as_array().at(1).as_object();
  EXPECT_FALSE(second.at("up").as_bool());
  EXPECT_FALSE(second.at("error").as_string().empty());
  EXPECT_EQ(second.at("requests").to_number<uint64_t>(), 100u);
  EXPECT_DOUBLE_EQ(requests_in(watch.exposition()), 200.0);
}

TEST(SegmentWatch, APrometheusFederateAnswerIsGroupedBySegment) {
  // What /federate?match[]={segments!=""} answers: the series with the scrape's labels added.
  const std::string federate =
      "# TYPE http_requests_total untyped\n"
      "http_requests_total{endpoint=\"/\",instance=\"10.0.0.5:9464\",job=\"trafficsim\","
      "method=\"GET\",segment=\"0\",segments=\"3\",status=\"200\",traffic_type=\"load\"} 40 "
      "1764700000000\n"
      "http_requests_total{endpoint=\"/\",instance=\"10.0.0.6:9464\",job=\"trafficsim\","
      "method=\"GET\",segment=\"1\",segments=\"3\",status=\"503\",traffic_type=\"load\"} 2 "
      "1764700000000\n"
      "http_requests_total{endpoint=\"/\",instance=\"10.0.0.6:9464\",job=\"trafficsim\","
      "method=\"GET\",segment=\"1\",segments=\"3\",status=\"200\",traffic_type=\"load\"} 38 "
      "1764700000000\n"
      "# TYPE trafficsim_segment_info untyped\n"
      "trafficsim_segment_info{instance=\"10.0.0.7:9464\",job=\"trafficsim\",segment=\"2\","
      "segments=\"3\"} 1 1764700000000\n";
  auto prometheus = serving("/federate", federate);
  SegmentWatch watch({{}, prometheus->url("/")});
  watch.scrape_once();
  auto j = watch.to_json();
  EXPECT_EQ(j.at("mode").as_string(), "prometheus");
  EXPECT_EQ(j.at("known").as_int64(), 3);
  EXPECT_EQ(j.at("up").as_int64(), 3);
  EXPECT_EQ(j.at("requests").to_number<uint64_t>(), 80u);
  EXPECT_EQ(j.at("errors").to_number<uint64_t>(), 2u);
  const auto& list = j.at("segments").as_array();
  EXPECT_EQ(list.at(1).at("requests").to_number<uint64_t>(), 40u);
  EXPECT_EQ(list.at(2).at("segments").as_string(), "3");
  // The re-rendered samples parse back with every label.
  const auto parsed = telemetry::parse_exposition(watch.exposition());
  EXPECT_EQ(parsed.malformed_lines, 0u);
  EXPECT_EQ(parsed.samples.size(), 4u);
  EXPECT_DOUBLE_EQ(requests_in(watch.exposition()), 80.0);

  // Prometheus goes away: every segment is down, the last counts stay.
  prometheus.reset();
  watch.scrape_once();
  j = watch.to_json();
  EXPECT_EQ(j.at("up").as_int64(), 0);
  EXPECT_EQ(j.at("requests").to_number<uint64_t>(), 80u);
  EXPECT_TRUE(j.contains("error"));
}

TEST(SegmentWatch, BadUrlsAreNamed) {
  try {
    SegmentWatch w({{"http://127.0.0.1:1/metrics", "ftp://x/"}, ""});
    FAIL() << "ftp accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--segments 'ftp://x/'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SegmentWatch({{}, ""}), std::invalid_argument);
  EXPECT_THROW(SegmentWatch({{"127.0.0.1:9464"}, "http://127.0.0.1:9090"}), std::invalid_argument);
  try {
    SegmentWatch w({{}, "prometheus:9090"});
    FAIL() << "a URL without a scheme accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--segments-prometheus"), std::string::npos) << e.what();
  }
  EXPECT_EQ(SegmentWatch::metrics_url("10.0.0.5:9464"), "http://10.0.0.5:9464/metrics");
  EXPECT_EQ(SegmentWatch::metrics_url("http://pod:9464"), "http://pod:9464/metrics");
  EXPECT_EQ(SegmentWatch::metrics_url("http://pod:9464/custom"), "http://pod:9464/custom");
}

TEST(SegmentWatch, StartScrapesAtOnceAndStopIsPrompt) {
  auto a = serving("/metrics", segment_page(0, 1, 5, 0));
  SegmentWatch watch({{a->url("/metrics")}, "", std::chrono::milliseconds(60'000)});
  watch.start();
  EXPECT_EQ(watch.to_json().at("requests").to_number<uint64_t>(), 5u);
  const auto before = std::chrono::steady_clock::now();
  watch.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5))
      << "stop waits for the one-minute interval";
}

}  // namespace
}  // namespace trafficsim::jobs
