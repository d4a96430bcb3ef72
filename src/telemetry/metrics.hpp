#pragma once
// A Prometheus metric registry and its text exposition (format 0.0.4).
//
// Registration happens at start-up and its mistakes (bad names, duplicates, unsorted buckets) are
// programming errors: they throw std::invalid_argument. After that, hot paths only touch a child:
// Family::with() looks the label values up under a shared lock (cache the reference to skip even
// that), and Counter / Gauge / Histogram updates are lock-free atomics. Everything is thread-safe.
//
// Exposition order is stable so that diffs of two scrapes are readable: families in registration
// order, children sorted by label values.
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::telemetry {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Monotonic total; negative increments are ignored (a counter never goes down).
class Counter {
 public:
  void inc(double v = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0);
  void dec(double v = 1.0) { inc(-v); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into buckets with the given upper bounds (a value v lands in the first
// bucket with v <= bound; NaN and values above the last bound only in +Inf).
class Histogram {
 public:
  // upper_bounds: strictly increasing, finite, non-empty (a trailing +Inf is dropped); otherwise
  // std::invalid_argument.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double v);
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  // Observations <= each upper bound, cumulative; one more entry than upper_bounds() for +Inf.
  std::vector<uint64_t> cumulative_counts() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;  // not cumulative; last is +Inf
  std::atomic<double> sum_{0.0};
};

namespace detail {

// What the registry needs of every family: its sample names (to refuse collisions) and its text.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends HELP, TYPE and every child's samples.
  virtual void expose(std::string& out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

}  // namespace detail

template <class Child>
class Family final : public detail::FamilyBase {
 public:
  ~Family() override;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The child for these label values, in the order of the family's label names; created on first
  // use. The reference stays valid as long as the registry, so hot paths may cache it. A wrong
  // number of values throws std::invalid_argument. Keep values few (never a raw user id or URL):
  // every distinct combination is a time series that lives until the process ends.
  Child& with(std::initializer_list<std::string_view> label_values) {
    return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  Child& with(std::span<const std::string_view> label_values);

 private:
  friend class Registry;  // the only creator: it validates names and buckets first
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> upper_bounds);
  void expose(std::string& out) const override;

  struct Children;                    // the lookup table, defined in metrics.cpp
  std::vector<double> upper_bounds_;  // histograms only
  std::unique_ptr<Children> children_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* without a
  // leading "__" and never "le" (reserved for buckets); counter names end in "_total". A name (or
  // a histogram's _bucket/_sum/_count) already registered throws, as does any other violation.
  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names,
                             std::vector<double> upper_bounds);

  // Runs fn, in registration order with the others, at the start of every expose(): for values
  // computed on demand (queue depth, open connections). expose() calls never overlap, so fn needs
  // no locking of its own against other scrapes; it must not call on_collect() or expose().
  void on_collect(std::function<void()> fn);

  // The whole page in text format 0.0.4 (serve it with kPrometheusContentType).
  std::string expose() const;

 private:
  template <class F>
  F& add(std::unique_ptr<F> family, std::vector<std::string> sample_names);

  mutable std::mutex families_mutex_;  // guards the three containers below
  std::vector<std::unique_ptr<detail::FamilyBase>> families_;
  std::set<std::string, std::less<>> sample_names_;
  std::vector<std::function<void()>> collectors_;
  mutable std::mutex expose_mutex_;  // one scrape at a time, collectors included
};

// Bucket bounds start, start*factor, ... (count of them); start > 0, factor > 1, count >= 1.
// Bounds are rounded to 15 significant digits so that they print as written (0.3, not
// 0.30000000000000004).
std::vector<double> exponential_buckets(double start, double factor, int count);
// Bucket bounds start, start+width, ... (count of them); width > 0, count >= 1. Rounded likewise.
std::vector<double> linear_buckets(double start, double width, int count);

// Appends a label value escaped for the text format (backslash, double quote, newline).
void append_label_value(std::string& out, std::string_view value);

// Number text as Prometheus reads it: integers without exponent or fraction where exact ("3"),
// otherwise the shortest round-trip form ("0.25", "1e-05"); "+Inf", "-Inf", "NaN".
std::string format_metric_value(double v);

}  // namespace trafficsim::telemetry
