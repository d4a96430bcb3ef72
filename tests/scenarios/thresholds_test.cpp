// Thresholds: parsing every accepted spelling, helpful rejections, and evaluation against stats
// blocks built by the report's own serialiser (so a change of report keys breaks these tests).
#include "scenarios/thresholds.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "load/report.hpp"
#include "load/stats.hpp"

namespace trafficsim::scenarios {
namespace {

namespace json = boost::json;
using M = Threshold::Metric;
using Op = Threshold::Op;

// ---- parsing ------------------------------------------------------------------------------------

struct Form {
  const char* text;
  M metric;
  Op op;
  double value;
};

TEST(ThresholdParse, AcceptsEveryForm) {
  const std::vector<Form> forms = {
      // Percentiles, units, spacing, case.
      {"p95 < 500ms", M::p95, Op::lt, 500'000},
      {"p95<500ms", M::p95, Op::lt, 500'000},
      {"p95 < 500", M::p95, Op::lt, 500'000},  // bare number: milliseconds, as in k6
      {"P95 <= 1.5S", M::p95, Op::le, 1'500'000},
      {"p95 < 0.5ms", M::p95, Op::lt, 500},
      {"p95 < .5ms", M::p95, Op::lt, 500},
      {"p95 < 1.1ms", M::p95, Op::lt, 1100},
      {"p95 < 2 s", M::p95, Op::lt, 2'000'000},
      {"p50 > 250us", M::p50, Op::gt, 250},
      {"p50 > 250\xc2\xb5s", M::p50, Op::gt, 250},
      {"p90 >= 2m", M::p90, Op::ge, 120'000'000},
      {"p99 < 1.5m", M::p99, Op::lt, 90'000'000},
      {"p99.9 < 1s", M::p999, Op::lt, 1'000'000},
      {"p999 < 1s", M::p999, Op::lt, 1'000'000},
      // k6 spellings.
      {"p(50) < 100", M::p50, Op::lt, 100'000},
      {"p(90) < 100", M::p90, Op::lt, 100'000},
      {"p(95)<200", M::p95, Op::lt, 200'000},
      {"p(99) < 300ms", M::p99, Op::lt, 300'000},
      {"p(99.9) <= 2s", M::p999, Op::le, 2'000'000},
      {"med < 100ms", M::p50, Op::lt, 100'000},
      {"MED<100MS", M::p50, Op::lt, 100'000},
      // max / mean / avg.
      {"max < 3s", M::max, Op::lt, 3'000'000},
      {"mean < 10ms", M::mean, Op::lt, 10'000},
      {"avg < 10ms", M::mean, Op::lt, 10'000},
      {"AVG<10MS", M::mean, Op::lt, 10'000},
      // error_rate: percent or ratio.
      {"error_rate < 1%", M::error_rate, Op::lt, 0.01},
      {"error_rate < 1 %", M::error_rate, Op::lt, 0.01},
      {"error_rate < 0.01", M::error_rate, Op::lt, 0.01},
      {"error_rate < 0.3%", M::error_rate, Op::lt, 0.003},
      {"error_rate <= 2.5%", M::error_rate, Op::le, 0.025},
      {"error_rate <= 0%", M::error_rate, Op::le, 0},
      {"error_rate <= 0", M::error_rate, Op::le, 0},
      {"error_rate < 100%", M::error_rate, Op::lt, 1},
      {"error_rate < 1", M::error_rate, Op::lt, 1},
      {"Error_Rate<5%", M::error_rate, Op::lt, 0.05},
      // rps.
      {"rps > 100", M::rps, Op::gt, 100},
      {"rps >= 99.5rps", M::rps, Op::ge, 99.5},
      {"rps >= 20 req/s", M::rps, Op::ge, 20},
      {"RPS>=20REQ/S", M::rps, Op::ge, 20},
      // Counts.
      {"requests >= 1000", M::requests, Op::ge, 1000},
      {"errors < 1", M::errors, Op::lt, 1},
      {"errors <= 0", M::errors, Op::le, 0},
      {"dropped <= 0", M::dropped, Op::le, 0},
  };
  for (const Form& f : forms) {
    SCOPED_TRACE(f.text);
    Threshold t = parse_threshold(f.text);
    EXPECT_EQ(t.text, f.text);
    EXPECT_EQ(t.metric, f.metric);
    EXPECT_EQ(t.op, f.op);
    EXPECT_DOUBLE_EQ(t.value, f.value);
  }
}

TEST(ThresholdParse, PercentIsExactlyTheRatio) {
  // A percentage equals the ratio written out, to the last bit: comparisons at the boundary are
  // decided by the numbers, not by rounding in the parser.
  EXPECT_EQ(parse_threshold("error_rate < 0.3%").value, 0.003);
  EXPECT_EQ(parse_threshold("error_rate < 1%").value, 1.0 / 100.0);
  EXPECT_EQ(parse_threshold("p95 < 1.1ms").value, 1100.0);
}

TEST(ThresholdParse, KeepsTheTextTrimmed) {
  Threshold t = parse_threshold("  \tp95 <  500ms \n");
  EXPECT_EQ(t.text, "p95 <  500ms");
}

struct Bad {
  const char* text;
  std::vector<const char*> mentions;  // besides the quoted text and an example
};

TEST(ThresholdParse, RejectsWithHelpfulMessages) {
  const std::vector<Bad> bad = {
      {"", {"empty"}},
      {"   ", {"empty"}},
      {"p95 500ms", {"operator", "<="}},
      {"< 5ms", {"no metric", "p95", "error_rate"}},
      {"p97 < 5ms", {"percentile 'p97'", "p50", "p90", "p99.9"}},
      {"p(97) < 5ms", {"percentile 'p(97)'", "p(99.9)"}},
      {"p100 < 5ms", {"percentile 'p100'"}},
      {"latency < 5ms", {"unknown metric 'latency'", "error_rate", "dropped", "avg"}},
      {"p 95 < 5ms", {"unknown metric 'p 95'"}},
      {"p95 == 5ms", {"'=='", "<, <=, > or >="}},
      {"p95 = 5ms", {"'='"}},
      {"p95 != 5ms", {"'!='"}},
      {"p95 <> 5ms", {"'<>'"}},
      {"p95 =< 5ms", {"'=<'", "<="}},
      {"p95 => 5ms", {"'=>'", ">="}},
      {"p95 <", {"no value", "ms"}},
      {"p95 < -5ms", {"-5ms", "signed"}},
      {"p95 < fast", {"'fast' is not a number"}},
      {"p95 < 5 parsecs", {"'5 parsecs'", "latency", "us, ms, s or m"}},
      {"p95 < 5%", {"'5%'", "latency"}},
      {"p95 < 5ms 3", {"'5ms 3'"}},
      {"p95 < 5h", {"'5h'"}},
      {"mean < 1.2.3ms", {"'1.2.3ms'"}},
      {"error_rate < 5", {"ratio between 0 and 1", "5%"}},
      {"error_rate < 150%", {"more than 100%"}},
      {"error_rate < 1ms", {"'1ms'", "percentage"}},
      {"error_rate < -1%", {"signed"}},
      {"rps > 5ms", {"'5ms'", "requests per second"}},
      {"requests > 1.5", {"1.5 is not a whole number"}},
      {"requests > 1,000", {"'1,000'", "whole number"}},
      {"errors < 10%", {"'10%'", "count"}},
      {"dropped < 1e3", {"'1e3'"}},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.text);
    try {
      parse_threshold(b.text);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
      std::string msg = e.what();
      std::string trimmed = b.text;
      trimmed.erase(0, trimmed.find_first_not_of(' '));  // all of it when only spaces
      EXPECT_NE(msg.find("\"" + trimmed + "\""), std::string::npos) << msg;
      EXPECT_NE(msg.find("p95 < 500ms"), std::string::npos) << msg;  // what a valid one looks like
      for (const char* m : b.mentions)
        EXPECT_NE(msg.find(m), std::string::npos) << m << ": " << msg;
    }
  }
}

// ---- evaluation ---------------------------------------------------------------------------------

json::object block(const load::EndpointStats& s, double duration_s = 10) {
  return load::stats_to_json(s, duration_s, {});
}

// n responses 200, corrected latencies given, service latencies a tenth of them.
load::EndpointStats with_latencies(const std::vector<int64_t>& corrected_us) {
  load::EndpointStats s;
  for (int64_t us : corrected_us) {
    ++s.requests;
    ++s.responses_by_status[200];
    s.corrected.record(us);
    s.service.record(us / 10);
  }
  return s;
}

ThresholdResult eval(const char* text, const json::object& stats, std::string stream = "api") {
  return evaluate_threshold(parse_threshold(text), stats, std::move(stream));
}

TEST(ThresholdEval, LatencyPercentilesFromCorrected) {
  // 10, 20, ..., 1000 us: below 2048 us the histogram is exact.
  std::vector<int64_t> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i * 10);
  json::object s = block(with_latencies(v));
  const auto& c = s.at("latency").at("corrected").as_object();
  ASSERT_EQ(c.at("p95_us").to_number<int64_t>(), 950);

  ThresholdResult r = eval("p95 < 1ms", s);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.actual, 950);
  EXPECT_EQ(r.actual_text, "950us");
  EXPECT_EQ(r.stream, "api");
  EXPECT_EQ(r.threshold.text, "p95 < 1ms");

  EXPECT_FALSE(eval("p95 < 900us", s).passed);
  EXPECT_TRUE(eval("p95 > 900us", s).passed);
  EXPECT_EQ(eval("p50 < 1s", s).actual, 500);
  EXPECT_EQ(eval("med < 1s", s).actual, 500);
  EXPECT_EQ(eval("p(90) < 1s", s).actual, 900);
  EXPECT_EQ(eval("p99 < 1s", s).actual, 990);
  EXPECT_EQ(eval("p99.9 < 1s", s).actual, 1000);
  EXPECT_EQ(eval("max < 1s", s).actual, 1000);
  EXPECT_EQ(eval("mean < 1s", s).actual, 505);
  EXPECT_EQ(eval("avg < 1s", s).actual_text, "505us");
  // Corrected, not service (service here is a tenth).
  EXPECT_FALSE(eval("p95 < 100us", s).passed);
}

TEST(ThresholdEval, StrictAndInclusiveOperatorsAtEquality) {
  std::vector<int64_t> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i * 10);
  json::object s = block(with_latencies(v));  // max 1000 us = 1 ms
  EXPECT_FALSE(eval("max < 1ms", s).passed);
  EXPECT_TRUE(eval("max <= 1ms", s).passed);
  EXPECT_FALSE(eval("max > 1000us", s).passed);
  EXPECT_TRUE(eval("max >= 1000us", s).passed);
  EXPECT_FALSE(eval("max < 0.001s", s).passed);
  EXPECT_TRUE(eval("max <= 0.001s", s).passed);

  // Error rate exactly 1 %: 1 of 100.
  load::EndpointStats e = with_latencies(std::vector<int64_t>(99, 100));
  ++e.requests;
  ++e.errors_timeout;
  json::object es = block(e);
  EXPECT_FALSE(eval("error_rate < 1%", es).passed);
  EXPECT_TRUE(eval("error_rate <= 1%", es).passed);
  EXPECT_TRUE(eval("error_rate <= 0.01", es).passed);
  EXPECT_FALSE(eval("error_rate > 1%", es).passed);
  EXPECT_TRUE(eval("error_rate >= 1%", es).passed);
  EXPECT_EQ(eval("error_rate < 1%", es).actual_text, "1%");

  // Counts and rates at equality.
  EXPECT_FALSE(eval("errors < 1", es).passed);
  EXPECT_TRUE(eval("errors <= 1", es).passed);
  EXPECT_TRUE(eval("requests >= 100", es).passed);
  EXPECT_FALSE(eval("requests > 100", es).passed);
  EXPECT_TRUE(eval("rps >= 10", es).passed);  // 100 completed in 10 s
  EXPECT_FALSE(eval("rps > 10", es).passed);
}

TEST(ThresholdEval, HumanTexts) {
  json::object ms = block(with_latencies(std::vector<int64_t>(20, 612'000)));
  EXPECT_EQ(eval("p95 < 500ms", ms).actual_text, "612ms");
  EXPECT_FALSE(eval("p95 < 500ms", ms).passed);
  EXPECT_EQ(eval("p95 < 500ms", ms).actual, 612'000);
  EXPECT_TRUE(eval("p95 < 1s", ms).passed);

  json::object small = block(with_latencies(std::vector<int64_t>(20, 1250)));
  EXPECT_EQ(eval("p95 < 1ms", small).actual_text, "1.25ms");
  json::object sec = block(with_latencies(std::vector<int64_t>(20, 2'500'000)));
  EXPECT_EQ(eval("max < 1s", sec).actual_text, "2.5s");

  load::EndpointStats s = with_latencies(std::vector<int64_t>(1204, 100));
  s.dropped = 12'345;
  json::object big = block(s, 10);
  EXPECT_EQ(eval("requests > 2000", big).actual_text, "1,204");
  EXPECT_EQ(eval("dropped <= 0", big).actual_text, "12,345");
  EXPECT_FALSE(eval("dropped <= 0", big).passed);
  EXPECT_EQ(eval("rps > 200", big).actual_text, "120.4 req/s");
  EXPECT_EQ(eval("errors < 1", big).actual_text, "0");
  EXPECT_EQ(eval("error_rate < 1%", big).actual_text, "0%");

  load::EndpointStats r = with_latencies(std::vector<int64_t>(198, 100));
  ThresholdResult rr = eval("rps >= 20", block(r, 10));
  EXPECT_EQ(rr.actual_text, "19.8 req/s");
  EXPECT_DOUBLE_EQ(rr.actual, 19.8);
  EXPECT_FALSE(rr.passed);
}

TEST(ThresholdEval, ErrorRateCountsTransportAndStatusErrors) {
  // 200 requests: 195 x 200, 3 x 500 (unexpected statuses), 2 timeouts -> 5 errors = 2.5 %.
  load::EndpointStats s = with_latencies(std::vector<int64_t>(195, 100));
  s.responses_by_status[500] = 3;
  s.errors_status = 3;
  s.errors_timeout = 2;
  s.requests = 200;
  json::object o = block(s);
  ThresholdResult r = eval("error_rate < 2.5%", o);
  EXPECT_DOUBLE_EQ(r.actual, 0.025);
  EXPECT_EQ(r.actual_text, "2.5%");
  EXPECT_FALSE(r.passed);
  EXPECT_TRUE(eval("error_rate <= 2.5%", o).passed);
  EXPECT_TRUE(eval("error_rate < 0.03", o).passed);
  // Same figure as the report's own error_ratio.
  EXPECT_DOUBLE_EQ(r.actual, o.at("error_ratio").as_double());
  EXPECT_EQ(eval("errors < 10", o).actual, 5);
  EXPECT_TRUE(eval("errors <= 5", o).passed);
  EXPECT_FALSE(eval("errors < 5", o).passed);

  // A tiny rate does not show as 0 %.
  load::EndpointStats t = with_latencies(std::vector<int64_t>(99'999, 100));
  ++t.requests;
  ++t.errors_connect;
  ThresholdResult tr = eval("error_rate < 0.001%", block(t));
  EXPECT_EQ(tr.actual_text, "0.001%");
  EXPECT_FALSE(tr.passed);
  EXPECT_TRUE(eval("error_rate <= 0.001%", block(t)).passed);
  t.errors_connect = 2345;
  t.requests = 99'999 + 2345;
  EXPECT_EQ(eval("error_rate < 1%", block(t)).actual_text, "2.29%");
}

TEST(ThresholdEval, ErrorRateCountsResponsesClosedMidway) {
  // 100 requests: 96 x 200, 4 closed mid-response -> 4 % of 100 completed, as error_ratio says.
  load::EndpointStats s = with_latencies(std::vector<int64_t>(96, 100));
  s.errors_closed_mid_response = 4;
  s.requests = 100;
  json::object o = block(s);
  EXPECT_DOUBLE_EQ(eval("error_rate < 1%", o).actual, 0.04);
  EXPECT_DOUBLE_EQ(eval("error_rate < 1%", o).actual, o.at("error_ratio").as_double());
  o.erase("unexpected_failures");
  EXPECT_EQ(eval("errors < 1", o).actual, 4);
}

TEST(ThresholdEval, UsesUnexpectedFailuresWhenPresent) {
  // Injected bad requests that failed as intended are responses with an expected status: not
  // errors. When the report carries "unexpected_failures", that is the error count.
  load::EndpointStats s = with_latencies(std::vector<int64_t>(100, 100));
  json::object o = block(s);
  o["expected_failures"] = 40;
  o["unexpected_failures"] = 2;
  EXPECT_EQ(eval("errors < 5", o).actual, 2);
  EXPECT_DOUBLE_EQ(eval("error_rate < 5%", o).actual, 0.02);
  json::object plain = block(s);
  EXPECT_EQ(eval("errors < 1", plain).actual, 0);
  EXPECT_TRUE(eval("errors < 1", plain).passed);
}

TEST(ThresholdEval, WithoutFailureKeysSumsTheErrorsObject) {
  // Reports written before "unexpected_failures" existed: errors = connect + timeout + other +
  // status, the same figure.
  load::EndpointStats s = with_latencies(std::vector<int64_t>(90, 100));
  s.responses_by_status[503] = 4;
  s.errors_status = 4;
  s.errors_connect = 1;
  s.errors_timeout = 2;
  s.errors_other = 3;
  s.requests = 100;
  json::object current = block(s);
  json::object old = current;
  old.erase("unexpected_failures");
  old.erase("expected_failures");
  EXPECT_EQ(eval("errors < 1", old).actual, 10);
  EXPECT_EQ(eval("errors < 1", current).actual, 10);
  EXPECT_DOUBLE_EQ(eval("error_rate < 1%", old).actual, 0.1);
  EXPECT_DOUBLE_EQ(eval("error_rate < 1%", current).actual, 0.1);
  EXPECT_DOUBLE_EQ(eval("error_rate < 1%", old).actual, current.at("error_ratio").as_double());
}

TEST(ThresholdEval, NoResponsesFailsLatencyThresholds) {
  load::EndpointStats s;
  s.requests = 5;
  s.errors_connect = 5;
  json::object o = block(s);
  for (const char* text : {"p95 < 1s", "max < 1m", "mean >= 0us", "p50 > 0ms"}) {
    SCOPED_TRACE(text);
    ThresholdResult r = eval(text, o);
    EXPECT_FALSE(r.passed);
    EXPECT_EQ(r.actual_text, "no responses");
  }
  ThresholdResult e = eval("error_rate <= 100%", o);  // every request failed
  EXPECT_TRUE(e.passed);
  EXPECT_EQ(e.actual_text, "100%");
}

TEST(ThresholdEval, NoRequestsFailsErrorRate) {
  json::object o = block(load::EndpointStats{});
  ThresholdResult r = eval("error_rate < 1%", o);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.actual_text, "no requests");
  EXPECT_FALSE(eval("error_rate <= 100%", o).passed);
  EXPECT_EQ(eval("p95 < 1s", o).actual_text, "no responses");
  EXPECT_FALSE(eval("requests >= 1", o).passed);
  EXPECT_EQ(eval("requests >= 1", o).actual_text, "0");
  EXPECT_TRUE(eval("errors < 1", o).passed);
  EXPECT_TRUE(eval("dropped <= 0", o).passed);
  ThresholdResult rps = eval("rps > 0", o);
  EXPECT_FALSE(rps.passed);
  EXPECT_EQ(rps.actual_text, "0 req/s");
}

TEST(ThresholdEval, WholeRunAndStreamsOfAReportShapedObject) {
  // The top level of a report is a stats block plus other keys; streams carry their own.
  load::EndpointStats a = with_latencies(std::vector<int64_t>(50, 300));
  load::EndpointStats b = with_latencies(std::vector<int64_t>(50, 1900));
  load::EndpointStats total = a;
  total.merge(b);
  json::object report = block(total);
  json::object sa = block(a);
  sa["name"] = "a";
  json::object sb = block(b);
  sb["name"] = "b";
  report["streams"] = json::array{sa, sb};
  report["meta"] = json::object{{"model", "open"}};

  ThresholdResult whole = eval("max < 1ms", report, "");
  EXPECT_EQ(whole.stream, "");
  EXPECT_FALSE(whole.passed);
  EXPECT_EQ(whole.actual, 1900);
  const auto& streams = report.at("streams").as_array();
  EXPECT_TRUE(eval("max < 1ms", streams[0].as_object(), "a").passed);
  EXPECT_FALSE(eval("max < 1ms", streams[1].as_object(), "b").passed);
  EXPECT_EQ(eval("rps >= 5", streams[1].as_object(), "b").actual, 5);
}

TEST(ThresholdEval, RpsFallsBackToDuration) {
  json::object o = block(with_latencies(std::vector<int64_t>(30, 100)), 3);
  o.erase("achieved_rps");
  EXPECT_DOUBLE_EQ(eval("rps >= 10", o).actual, 10);
  EXPECT_TRUE(eval("rps >= 10", o).passed);
}

TEST(ThresholdEval, MalformedBlockNamesStreamAndField) {
  json::object o;
  o["requests"] = 1;
  try {
    eval("p95 < 1s", o, "checkout");
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("checkout"), std::string::npos) << msg;
    EXPECT_NE(msg.find("latency"), std::string::npos) << msg;
  }
  EXPECT_THROW(eval("dropped < 1", o, ""), std::runtime_error);
  EXPECT_THROW(eval("error_rate < 1%", o, ""), std::runtime_error);
}

}  // namespace
}  // namespace trafficsim::scenarios
