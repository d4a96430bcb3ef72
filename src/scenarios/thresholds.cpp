#include "scenarios/thresholds.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "core/ascii.hpp"

namespace trafficsim::scenarios {

namespace json = boost::json;
using Metric = Threshold::Metric;
using Op = Threshold::Op;

namespace {

constexpr std::string_view kExample = R"(e.g. "p95 < 500ms", "p(99.9) <= 2s", "error_rate < 1%")";
constexpr std::string_view kMetrics =
    "p50, p90, p95, p99, p99.9 (or p999), max, mean (or avg), error_rate, rps, requests, errors, "
    "dropped; k6 spellings p(50), p(90), p(95), p(99), p(99.9) and med (= p50) work too";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(std::string_view text, const std::string& what) {
  throw std::invalid_argument(fmt::format(
      "invalid threshold \"{}\": {}; a threshold is METRIC OP VALUE, {}", text, what, kExample));
}

bool is_latency(Metric m) {
  switch (m) {
    case Metric::p50:
    case Metric::p90:
    case Metric::p95:
    case Metric::p99:
    case Metric::p999:
    case Metric::max:
    case Metric::mean:
      return true;
    default:
      return false;
  }
}

std::optional<Metric> metric_named(const std::string& name) {
  static constexpr std::array<std::pair<std::string_view, Metric>, 20> kNames{{
      {"p50", Metric::p50},       {"p(50)", Metric::p50},
      {"med", Metric::p50},       {"p90", Metric::p90},
      {"p(90)", Metric::p90},     {"p95", Metric::p95},
      {"p(95)", Metric::p95},     {"p99", Metric::p99},
      {"p(99)", Metric::p99},     {"p99.9", Metric::p999},
      {"p999", Metric::p999},     {"p(99.9)", Metric::p999},
      {"max", Metric::max},       {"mean", Metric::mean},
      {"avg", Metric::mean},      {"error_rate", Metric::error_rate},
      {"rps", Metric::rps},       {"requests", Metric::requests},
      {"errors", Metric::errors}, {"dropped", Metric::dropped},
  }};
  for (const auto& [n, m] : kNames)
    if (n == name) return m;
  return std::nullopt;
}

// "p97", "p(97)", "p99.99": something that is meant as a percentile.
bool looks_like_percentile(std::string_view name) {
  if (name.size() < 2 || name[0] != 'p') return false;
  name.remove_prefix(1);
  if (name.front() == '(' && name.back() == ')') name = name.substr(1, name.size() - 2);
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  return true;
}

// The unsigned decimal number at the start of s ("12", "0.5", ".5", "3."): its length, 0 if none.
size_t number_length(std::string_view s) {
  size_t i = 0, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  return digits ? i : 0;
}

// The number written in `digits` times 10^exp10, correctly rounded (so "0.3%" is exactly the
// double nearest 0.003, and "1.1ms" the double nearest 1100).
double decimal(std::string_view digits, int exp10) {
  std::string s = fmt::format("{}e{}", digits, exp10);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return HUGE_VAL;
  return v;
}

std::string_view metric_kind(Metric m) {
  if (is_latency(m)) return "a latency";
  if (m == Metric::error_rate) return "a ratio";
  if (m == Metric::rps) return "a rate";
  return "a count";
}

std::string_view value_help(Metric m) {
  if (is_latency(m))
    return "a latency is a number with a unit us, ms, s or m (minutes), e.g. 500ms; a bare number "
           "means milliseconds";
  if (m == Metric::error_rate)
    return "an error rate is a percentage such as 1% (0% to 100%) or a ratio such as 0.01 (0 to 1)";
  if (m == Metric::rps) return "a rate is a number of requests per second, e.g. 100 or 100rps";
  return "a count is a whole number, e.g. 1000";
}

double parse_value(std::string_view text, std::string_view metric_text, Metric m,
                   std::string_view v) {
  if (v.empty()) fail(text, fmt::format("no value after the operator; {}", value_help(m)));
  if (v.front() == '-' || v.front() == '+')
    fail(text,
         fmt::format("'{}' is not a valid value: values are never signed; {}", v, value_help(m)));
  size_t n = number_length(v);
  if (n == 0) fail(text, fmt::format("'{}' is not a number; {}", v, value_help(m)));
  std::string_view digits = v.substr(0, n);
  std::string unit = core::to_lower_ascii(trim(v.substr(n)));
  auto bad_unit = [&]() -> double {
    fail(text, fmt::format("'{}' is not a valid value for {} ({}): {}", v, metric_text,
                           metric_kind(m), value_help(m)));
  };

  if (is_latency(m)) {
    if (unit.empty() || unit == "ms") return decimal(digits, 3);
    if (unit == "us" || unit == "\xc2\xb5s" /* µs */) return decimal(digits, 0);
    if (unit == "s") return decimal(digits, 6);
    if (unit == "m") return decimal(digits, 6) * 60;
    return bad_unit();
  }
  if (m == Metric::error_rate) {
    if (unit == "%") {
      double r = decimal(digits, -2);
      if (r > 1) fail(text, fmt::format("{} is more than 100%; {}", v, value_help(m)));
      return r;
    }
    if (!unit.empty()) return bad_unit();
    double r = decimal(digits, 0);
    if (r > 1)
      fail(text, fmt::format("{} is not a ratio between 0 and 1 (for a percentage write {}%); {}",
                             digits, digits, value_help(m)));
    return r;
  }
  if (m == Metric::rps) {
    if (unit.empty() || unit == "rps" || unit == "req/s") return decimal(digits, 0);
    return bad_unit();
  }
  // Counts.
  if (!unit.empty()) return bad_unit();
  if (digits.find('.') != std::string_view::npos)
    fail(text, fmt::format("{} is not a whole number; {}", digits, value_help(m)));
  return decimal(digits, 0);
}

// ---- evaluation -------------------------------------------------------------------------------

std::string where(const std::string& stream) {
  return stream.empty() ? "the report's totals" : fmt::format("stream '{}'", stream);
}

[[noreturn]] void missing(const std::string& stream, std::string_view field) {
  throw std::runtime_error(fmt::format("cannot evaluate thresholds: {} has no numeric field '{}'",
                                       where(stream), field));
}

std::optional<double> opt_num(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  const json::value& v = it->value();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  return std::nullopt;
}

double num(const json::object& o, std::string_view key, const std::string& stream,
           std::string_view path) {
  if (auto v = opt_num(o, key)) return *v;
  missing(stream, path);
}

const json::object& sub(const json::object& o, std::string_view key, const std::string& stream,
                        std::string_view path) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_object()) missing(stream, path);
  return it->value().as_object();
}

// Errors of the block: "unexpected_failures" when present, else the sum of "errors".
double error_count(const json::object& s, const std::string& stream) {
  if (auto v = opt_num(s, "unexpected_failures")) return *v;
  if (auto v = opt_num(s, "errors")) return *v;  // a plain count, should a report carry one
  const json::object& e = sub(s, "errors", stream, "errors");
  double sum = 0;
  for (const char* k : {"connect", "timeout", "closed_mid_response", "other", "status"})
    sum += opt_num(e, k).value_or(0);
  return sum;
}

// Requests that finished one way or another: responses + transport errors (the denominator of
// the report's error_ratio; equal to "requests" once a run has ended).
double completed_count(const json::object& s, const std::string& stream) {
  double n = 0;
  for (const auto& [code, count] : sub(s, "responses", stream, "responses")) {
    (void)code;
    if (count.is_number()) n += count.to_number<double>();
  }
  if (auto it = s.find("errors"); it != s.end() && it->value().is_object())
    for (const char* k : {"connect", "timeout", "closed_mid_response", "other"})
      n += opt_num(it->value().as_object(), k).value_or(0);
  return n;
}

// Fixed-point with at most `decimals` decimals, trailing zeros dropped, thousands grouped.
std::string fixed(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  size_t int_end = s.find('.');
  if (int_end == std::string::npos) int_end = s.size();
  size_t int_begin = (!s.empty() && s[0] == '-') ? 1 : 0;
  for (size_t i = int_end; i > int_begin + 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

std::string latency_text(double us) {
  if (us < 1000) return fixed(us, 1) + "us";
  if (us < 10'000) return fixed(us / 1e3, 2) + "ms";
  if (us < 1'000'000) return fixed(us / 1e3, 1) + "ms";
  if (us < 10'000'000) return fixed(us / 1e6, 3) + "s";
  return fixed(us / 1e6, 2) + "s";
}

std::string ratio_text(double r) {
  double pct = r * 100;
  if (pct == 0) return "0%";
  if (pct >= 1) return fixed(pct, 2) + "%";
  // Below 1 %: three significant digits, so a tiny rate never shows as "0%".
  int decimals = 2 - static_cast<int>(std::floor(std::log10(pct)));
  return fixed(pct, decimals) + "%";
}

bool compare(double actual, Op op, double limit) {
  switch (op) {
    case Op::lt:
      return actual < limit;
    case Op::le:
      return actual <= limit;
    case Op::gt:
      return actual > limit;
    case Op::ge:
      return actual >= limit;
  }
  return false;
}

std::string_view latency_key(Metric m) {
  switch (m) {
    case Metric::p50:
      return "p50_us";
    case Metric::p90:
      return "p90_us";
    case Metric::p95:
      return "p95_us";
    case Metric::p99:
      return "p99_us";
    case Metric::p999:
      return "p999_us";
    case Metric::max:
      return "max_us";
    default:
      return "mean_us";
  }
}

}  // namespace

Threshold parse_threshold(std::string_view raw) {
  const std::string_view text = trim(raw);
  if (text.empty()) fail(text, "it is empty");

  // METRIC: everything before the first operator character.
  size_t op_at = text.find_first_of("<>=!");
  if (op_at == std::string_view::npos) fail(text, "no comparison operator (<, <=, > or >=)");
  std::string_view metric_text = trim(text.substr(0, op_at));
  if (metric_text.empty())
    fail(text, fmt::format("no metric before '{}'; metrics: {}", text[op_at], kMetrics));
  std::string name = core::to_lower_ascii(metric_text);
  std::optional<Metric> metric = metric_named(name);
  if (!metric) {
    if (looks_like_percentile(name))
      fail(text, fmt::format("there is no percentile '{}': percentiles are p50, p90, p95, p99 and "
                             "p99.9 (also written p999, or k6-style p(95), p(99.9), med for p50)",
                             metric_text));
    fail(text, fmt::format("unknown metric '{}'; metrics: {}", metric_text, kMetrics));
  }

  // OP: the run of operator characters.
  size_t op_end = text.find_first_not_of("<>=!", op_at);
  if (op_end == std::string_view::npos) op_end = text.size();
  std::string_view op_text = text.substr(op_at, op_end - op_at);
  Op op;
  if (op_text == "<")
    op = Op::lt;
  else if (op_text == "<=")
    op = Op::le;
  else if (op_text == ">")
    op = Op::gt;
  else if (op_text == ">=")
    op = Op::ge;
  else if (op_text == "=<" || op_text == "=>")
    fail(text, fmt::format("operator '{}' is written {}", op_text, op_text == "=<" ? "<=" : ">="));
  else
    fail(text, fmt::format("operator '{}' is not supported: use <, <=, > or >= (equality is "
                           "not a useful condition on a measurement)",
                           op_text));

  double value = parse_value(text, metric_text, *metric, trim(text.substr(op_end)));
  if (!std::isfinite(value)) fail(text, "the value is too large");
  return Threshold{std::string(text), *metric, op, value};
}

ThresholdResult evaluate_threshold(const Threshold& t, const json::object& stats,
                                   std::string stream_name) {
  ThresholdResult r;
  r.threshold = t;
  r.stream = std::move(stream_name);
  const std::string& stream = r.stream;

  if (is_latency(t.metric)) {
    const json::object& lat = sub(stats, "latency", stream, "latency");
    const json::object& c = sub(lat, "corrected", stream, "latency.corrected");
    if (num(c, "count", stream, "latency.corrected.count") <= 0) {
      r.actual_text = "no responses";
      return r;
    }
    std::string_view key = latency_key(t.metric);
    r.actual = num(c, key, stream, fmt::format("latency.corrected.{}", key));
    r.actual_text = latency_text(r.actual);
  } else if (t.metric == Metric::error_rate) {
    double completed = completed_count(stats, stream);
    if (completed <= 0) {
      r.actual_text =
          num(stats, "requests", stream, "requests") > 0 ? "no completed requests" : "no requests";
      return r;
    }
    r.actual = error_count(stats, stream) / completed;
    r.actual_text = ratio_text(r.actual);
  } else if (t.metric == Metric::rps) {
    if (auto v = opt_num(stats, "achieved_rps")) {
      r.actual = *v;
    } else {
      double duration = num(stats, "duration_s", stream, "achieved_rps");
      r.actual = duration > 0 ? completed_count(stats, stream) / duration : 0.0;
    }
    r.actual_text = fixed(r.actual, r.actual < 10 ? 2 : 1) + " req/s";
  } else {
    switch (t.metric) {
      case Metric::requests:
        r.actual = num(stats, "requests", stream, "requests");
        break;
      case Metric::dropped:
        r.actual = num(stats, "dropped", stream, "dropped");
        break;
      default:
        r.actual = error_count(stats, stream);
        break;
    }
    r.actual_text = fixed(r.actual, 0);
  }
  r.passed = compare(r.actual, t.op, t.value);
  return r;
}

}  // namespace trafficsim::scenarios
