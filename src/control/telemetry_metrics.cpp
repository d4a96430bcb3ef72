#include "control/telemetry_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string_view>

#include <boost/json/array.hpp>

#include "control/telemetry_api.hpp"
#include "telemetry/exposition_parser.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::control {

namespace json = boost::json;

namespace {

enum class ChartKind { rate, quantiles, ratio };

// Which families feed a chart: a predicate on the family name (a counter's full name, a
// histogram's name without _bucket) and the labels that split it into series, first present
// wins. The demo target's names are first; the activity's (seed 003: http requests, database
// queries, jobs, cache operations) match by the same words.
struct ChartRule {
  std::string_view id;
  std::string_view title;
  std::string_view unit;
  ChartKind kind;
  bool (*matches)(std::string_view family);
  std::vector<std::string_view> split_by;
};

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

const std::vector<ChartRule>& chart_rules() {
  static const std::vector<ChartRule> rules = {
      {"request_rate", "Requests per second", "req/s", ChartKind::rate,
       [](std::string_view f) {
         // http_requests_total and friends; not the transport's own count of every request read.
         return f.starts_with("http_") && f.ends_with("requests_total") &&
                f != "http_server_requests_total" && !contains(f, "rejected");
       },
       {"traffic_type", "route", "endpoint"}},
      {"request_duration", "Request duration", "ms", ChartKind::quantiles,
       [](std::string_view f) { return f.starts_with("http_") && contains(f, "duration_seconds"); },
       {"traffic_type"}},
      {"query_time", "Database query time", "ms", ChartKind::quantiles,
       [](std::string_view f) {
         return f.starts_with("db_") && contains(f, "duration_seconds") && !contains(f, "wait");
       },
       {"query", "table", "db_table", "operation"}},
      {"pool_wait", "Connection pool wait", "ms", ChartKind::quantiles,
       [](std::string_view f) { return f.starts_with("db_") && contains(f, "wait_seconds"); },
       {"pool"}},
      {"job_duration", "Job duration", "ms", ChartKind::quantiles,
       [](std::string_view f) { return contains(f, "job") && contains(f, "duration_seconds"); },
       {"job_type", "type", "job"}},
      {"cache_hit_ratio", "Cache hit ratio", "ratio", ChartKind::ratio,
       [](std::string_view f) { return contains(f, "cache") && f.ends_with("_total"); },
       {}},
  };
  return rules;
}

constexpr char kSep = '\x1f';

std::string key_of(std::string_view chart, std::string_view series) {
  std::string k(chart);
  k += kSep;
  k += series;
  return k;
}

std::string series_label(const std::string& source, const telemetry::ExpositionSample& s,
                         const ChartRule& rule) {
  std::string label = source;
  for (auto name : rule.split_by)
    if (const std::string* v = s.label(name); v && !v->empty()) {
      label += " · " + *v;
      break;
    }
  return label;
}

// A cache counter's sample as a hit (true), a miss (false), or neither: by its name
// (cache_hits_total, cache_misses_total) or a label (result/outcome = hit|miss, hit = true|false).
std::optional<bool> cache_outcome(const telemetry::ExpositionSample& s) {
  for (auto name : {"result", "outcome", "hit", "cache_hit", "status"})
    if (const std::string* v = s.label(name)) {
      if (*v == "hit" || *v == "true" || *v == "hits") return true;
      if (*v == "miss" || *v == "false" || *v == "misses") return false;
    }
  if (contains(s.name, "miss")) return false;
  if (contains(s.name, "hit")) return true;
  return std::nullopt;
}

void reduce_into(TelemetryMetrics::Reduced& out, const std::string& source,
                 const telemetry::Exposition& exposition) {
  for (const auto& s : exposition.samples) {
    if (!std::isfinite(s.value)) continue;
    const bool bucket = s.name.ends_with("_bucket") && s.label("le") != nullptr;
    std::string_view family = s.name;
    if (bucket) family.remove_suffix(7);
    // The activity's families (activity_http_requests_total, activity_db_query_duration_seconds,
    // ...) chart beside the demo target's under the same rules.
    if (family.starts_with("activity_")) family.remove_prefix(9);
    for (const auto& rule : chart_rules()) {
      if (!rule.matches(family)) continue;
      if (rule.kind == ChartKind::quantiles && bucket) {
        const std::string& le = *s.label("le");
        double bound = le == "+Inf" ? std::numeric_limits<double>::infinity()
                                    : std::strtod(le.c_str(), nullptr);
        out.buckets[key_of(rule.id, series_label(source, s, rule))][bound] += s.value;
      } else if (rule.kind == ChartKind::rate && !bucket) {
        out.counters[key_of(rule.id, series_label(source, s, rule))] += s.value;
      } else if (rule.kind == ChartKind::ratio && !bucket) {
        if (auto hit = cache_outcome(s))
          out.counters[key_of(rule.id, source + (*hit ? "\x1ehit" : "\x1emiss"))] += s.value;
      }
    }
  }
}

// The increase of a cumulative value over an interval; a value that went down (a restart)
// counts from zero.
double increase(double before, double after) { return after >= before ? after - before : after; }

json::value rounded(std::optional<double> v, double scale = 1) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return std::round(*v * scale * 1000) / 1000;
}

}  // namespace

std::optional<double> bucket_quantile(const std::map<double, double>& cumulative, double q) {
  if (cumulative.empty()) return std::nullopt;
  const double total = cumulative.rbegin()->second;
  if (total <= 0) return std::nullopt;
  const double rank = q * total;
  double prev_bound = 0, prev_count = 0;
  for (const auto& [bound, count] : cumulative) {
    if (count >= rank) {
      if (std::isinf(bound)) return prev_bound;
      if (count <= prev_count) return bound;
      return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count);
    }
    prev_bound = bound;
    prev_count = count;
  }
  return prev_bound;
}

TelemetryMetrics::TelemetryMetrics(std::function<double()> now_unix_s)
    : now_(std::move(now_unix_s)) {}

boost::json::object TelemetryMetrics::sample_and_render(
    const std::vector<TelemetrySource>& sources) {
  // Exposition is rendered outside the lock (each registry serialises its own scrapes).
  const double now = now_();
  std::unique_lock lock(mutex_);
  const bool due = history_.empty() || now - history_.back().t >= kMinInterval;
  lock.unlock();
  if (due) {
    Sample sample;
    sample.t = now;
    for (const auto& source : sources)
      if (source.registry != nullptr)
        reduce_into(sample.values, source.name,
                    telemetry::parse_exposition(source.registry->expose()));
      else if (source.exposition)
        reduce_into(sample.values, source.name, telemetry::parse_exposition(source.exposition()));
    lock.lock();
    if (history_.empty() || now - history_.back().t >= kMinInterval) {
      history_.push_back(std::move(sample));
      while (history_.size() > kHistory) history_.pop_front();
    }
  } else {
    lock.lock();
  }

  // Every series any sample knows, per chart, in a stable order.
  std::map<std::string, std::set<std::string>> series_of;
  for (const auto& s : history_) {
    for (const auto& [k, v] : s.values.counters) {
      auto sep = k.find(kSep);
      std::string series = k.substr(sep + 1);
      if (auto mark = series.find('\x1e'); mark != std::string::npos) series.resize(mark);
      series_of[k.substr(0, sep)].insert(series);
    }
    for (const auto& [k, v] : s.values.buckets) {
      auto sep = k.find(kSep);
      series_of[k.substr(0, sep)].insert(k.substr(sep + 1));
    }
  }

  json::array t;
  for (size_t i = 1; i < history_.size(); ++i) t.push_back(std::round(history_[i].t * 1000) / 1000);

  auto counter_at = [&](size_t i, const std::string& key) {
    const auto& c = history_[i].values.counters;
    auto it = c.find(key);
    return it == c.end() ? std::optional<double>() : it->second;
  };
  auto delta_buckets = [&](size_t i, const std::string& key) {
    std::map<double, double> out;
    const auto& now_b = history_[i].values.buckets;
    const auto& then_b = history_[i - 1].values.buckets;
    auto cur = now_b.find(key);
    if (cur == now_b.end()) return out;
    auto prev = then_b.find(key);
    bool reset = false;
    for (const auto& [bound, count] : cur->second) {
      double before = 0;
      if (prev != then_b.end())
        if (auto p = prev->second.find(bound); p != prev->second.end()) before = p->second;
      if (count < before) reset = true;
      out[bound] = count - before;
    }
    if (reset) out = cur->second;
    return out;
  };

  json::array charts;
  for (const auto& rule : chart_rules()) {
    json::array series;
    for (const auto& label : series_of[std::string(rule.id)]) {
      auto add = [&](std::string name, json::array values) {
        std::string source = label.substr(0, label.find(" · "));
        series.push_back(json::object{{"label", std::move(name)},
                                      {"source", std::move(source)},
                                      {"values", std::move(values)}});
      };
      const std::string key = key_of(rule.id, label);
      if (rule.kind == ChartKind::rate) {
        json::array values;
        for (size_t i = 1; i < history_.size(); ++i) {
          auto a = counter_at(i - 1, key), b = counter_at(i, key);
          double dt = history_[i].t - history_[i - 1].t;
          if (!b || dt <= 0) values.push_back(nullptr);
          else values.push_back(rounded(increase(a.value_or(0), *b) / dt));
        }
        add(label, std::move(values));
      } else if (rule.kind == ChartKind::quantiles) {
        json::array p50, p95;
        for (size_t i = 1; i < history_.size(); ++i) {
          auto d = delta_buckets(i, key);
          p50.push_back(rounded(bucket_quantile(d, 0.5), 1000));
          p95.push_back(rounded(bucket_quantile(d, 0.95), 1000));
        }
        add(label + " p50", std::move(p50));
        add(label + " p95", std::move(p95));
      } else {
        json::array values;
        const std::string hits = key + "\x1ehit", misses = key + "\x1emiss";
        for (size_t i = 1; i < history_.size(); ++i) {
          double h = increase(counter_at(i - 1, hits).value_or(0), counter_at(i, hits).value_or(0));
          double m =
              increase(counter_at(i - 1, misses).value_or(0), counter_at(i, misses).value_or(0));
          values.push_back(h + m > 0 ? rounded(h / (h + m)) : json::value(nullptr));
        }
        add(label, std::move(values));
      }
    }
    charts.push_back(json::object{{"id", rule.id},
                                  {"title", rule.title},
                                  {"unit", rule.unit},
                                  {"series", std::move(series)}});
  }
  return json::object{{"t", std::move(t)},
                      {"charts", std::move(charts)},
                      {"samples", history_.size()},
                      {"interval_s", kMinInterval}};
}

}  // namespace trafficsim::control
