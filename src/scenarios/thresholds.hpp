#pragma once
// Thresholds: k6-style pass/fail conditions on a run, e.g. "p95 < 500ms" or "error_rate < 1%".
// A scenario lists them per stream; after the run each is evaluated against that stream's stats
// block of the JSON report (docs/report-format.md), and a run with a failing threshold exits
// with a distinct code.
//
// Grammar (metric names and units are case-insensitive; spaces around the operator optional):
//
//   condition := metric op value
//   metric    := p50 | p90 | p95 | p99 | p99.9 | p999 | max | mean | avg (= mean)
//              | error_rate | rps | requests | errors | dropped
//              | p(50) | p(90) | p(95) | p(99) | p(99.9) | med (= p50)      (k6 spellings)
//   op        := <  |  <=  |  >  |  >=                                    (no ==, !=)
//   value     := latency metrics:  NUMBER [us | µs | ms | s | m]           (bare number: ms, as
//                                  in k6; m is minutes)
//                error_rate:       NUMBER %  (0..100)  |  NUMBER  (a ratio, 0..1)
//                rps:              NUMBER [rps | req/s]
//                counts:           INTEGER
//   NUMBER    := digits [. digits]  |  . digits                           (never negative)
//
// Latency metrics read the "corrected" latency summary (from the intended send time: the honest
// figure under coordinated omission). HdrHistogram percentiles are the top of their bucket, so
// at 3 significant digits a reported percentile may sit up to 0.1 % above the true value (never
// above the exact max).
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace trafficsim::scenarios {

// One parsed condition.
struct Threshold {
  // p50 … p999 are percentiles of corrected latency, max/mean its exact maximum and mean;
  // error_rate is errors / completed requests (the report's "error_ratio"); rps the achieved
  // rate ("achieved_rps"); requests, errors and dropped are counts.
  enum class Metric {
    p50,
    p90,
    p95,
    p99,
    p999,
    max,
    mean,
    error_rate,
    rps,
    requests,
    errors,
    dropped
  };
  enum class Op { lt, le, gt, ge };
  std::string text;  // as written, trimmed, e.g. "p95 < 500ms"
  Metric metric;
  Op op;
  double value;  // latency: microseconds; error_rate: a ratio 0..1; rps: per second; counts: count
};

// Parses one condition. Throws std::invalid_argument with a message saying what is wrong and what
// a valid condition looks like, quoting the text.
Threshold parse_threshold(std::string_view text);

// The outcome of one threshold on one stats block.
struct ThresholdResult {
  Threshold threshold;
  std::string stream;       // stream name ("" for the whole run)
  double actual = 0;        // in the metric's unit (us, ratio, per second, count)
  std::string actual_text;  // human: "612ms", "2.31%", "19.8 req/s", "1,204"
  bool passed = false;
};

// Evaluates against a stats block of the report (a stream's object or the report's top level).
//
// A latency threshold fails when the block has no responses (actual_text "no responses"); an
// error_rate threshold fails when nothing completed (actual_text "no requests"). The error count
// is the block's "unexpected_failures" when present, else the sum of "errors" (connect, timeout,
// other, status); responses that failed as intended ("expected_failures") are not errors.
// Throws std::runtime_error, naming the stream and the field, when the block lacks a field the
// metric needs (not a report stats block).
ThresholdResult evaluate_threshold(const Threshold& t, const boost::json::object& stats,
                                   std::string stream_name);

}  // namespace trafficsim::scenarios
