#include "telemetry/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <limits>
#include <shared_mutex>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace trafficsim::telemetry {

namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool valid_metric_name(std::string_view name) {
  if (name.empty() || is_digit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '_' || c == ':'; });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || is_digit(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '_'; });
}

void validate_names(std::string_view metric, const std::vector<std::string>& label_names) {
  if (!valid_metric_name(metric)) {
    throw std::invalid_argument(fmt::format("invalid metric name \"{}\"", metric));
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!valid_label_name(label)) {
      throw std::invalid_argument(
          fmt::format("metric {}: invalid label name \"{}\"", metric, label));
    }
    if (label == "le") {
      throw std::invalid_argument(
          fmt::format("metric {}: label name \"le\" is reserved for histogram buckets", metric));
    }
    if (std::find(label_names.begin(), label_names.begin() + i, label) != label_names.begin() + i) {
      throw std::invalid_argument(fmt::format("metric {}: duplicate label \"{}\"", metric, label));
    }
  }
}

// Strictly increasing finite bounds, at least one; a trailing +Inf is implied, so it is dropped.
std::vector<double> normalized_bounds(std::vector<double> bounds) {
  if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity()) {
    bounds.pop_back();
  }
  if (bounds.empty()) throw std::invalid_argument("histogram needs at least one finite bucket");
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      throw std::invalid_argument(
          fmt::format("histogram bucket bound {} is not finite", bounds[i]));
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument(fmt::format(
          "histogram bucket bounds must increase strictly ({} then {})", bounds[i - 1], bounds[i]));
    }
  }
  return bounds;
}

// Rounds to 15 significant digits (all a double holds reliably), so that generated bounds print
// as a person would write them.
double round_significant(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", v);
  return std::strtod(text, nullptr);
}

// "# HELP" text escapes backslash and newline only.
void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

// Label values additionally escape the double quote that delimits them.
void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

namespace {

// name{labels} value — labels already rendered as a="x",b="y" (possibly empty).
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   std::string_view labels, std::string_view value) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

size_t hash_values(auto begin, auto end) {
  size_t hash = 0x9e3779b97f4a7c15ULL;
  for (auto it = begin; it != end; ++it) {
    hash ^= std::hash<std::string_view>{}(std::string_view(*it)) + 0x9e3779b97f4a7c15ULL +
            (hash << 6) + (hash >> 2);
  }
  return hash;
}

// Lets the child table be searched with the caller's string_views, without building a key.
struct LabelValuesHash {
  using is_transparent = void;
  size_t operator()(const std::vector<std::string>& values) const {
    return hash_values(values.begin(), values.end());
  }
  size_t operator()(std::span<const std::string_view> values) const {
    return hash_values(values.begin(), values.end());
  }
};

struct LabelValuesEqual {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](std::string_view x, std::string_view y) { return x == y; });
  }
};

template <class Child>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<Child, Counter>) return "counter";
  if constexpr (std::is_same_v<Child, Gauge>) return "gauge";
  if constexpr (std::is_same_v<Child, Histogram>) return "histogram";
}

}  // namespace

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Below 1e15 every integral double prints exactly without an exponent; above, fmt's shortest
  // form (e.g. 1e+15) is both exact and what Prometheus parses.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

// ----- Counter, Gauge, Histogram -----

void Counter::inc(double v) {
  if (!(v >= 0)) return;  // negative or NaN: a counter never decreases
  value_.fetch_add(v, std::memory_order_relaxed);
}

void Gauge::inc(double v) {
  value_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(normalized_bounds(std::move(upper_bounds))),
      bucket_counts_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {}

void Histogram::observe(double v) {
  // NaN compares false with everything, so place it explicitly in +Inf.
  const size_t index =
      std::isnan(v)
          ? upper_bounds_.size()
          : static_cast<size_t>(std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) -
                                upper_bounds_.begin());
  bucket_counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  return cumulative_counts().back();
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  // The count is the sum of the buckets rather than a separate atomic, so that a scrape racing
  // with observe() still shows _count equal to the +Inf bucket.
  std::vector<uint64_t> cumulative(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = running;
  }
  return cumulative;
}

// ----- Family -----

namespace detail {

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

}  // namespace detail

template <class Child>
struct Family<Child>::Children {
  struct Entry {
    std::string rendered_labels;  // a="x",b="y", escaped once at creation
    std::unique_ptr<Child> child;
  };
  mutable std::shared_mutex mutex;
  std::unordered_map<std::vector<std::string>, Entry, LabelValuesHash, LabelValuesEqual> table;
};

template <class Child>
Family<Child>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                      std::vector<double> upper_bounds)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)),
      children_(std::make_unique<Children>()) {
  // Without labels there is exactly one series, and it should be scraped as 0 before first use.
  if (label_names_.empty()) with(std::span<const std::string_view>());
}

template <class Child>
Family<Child>::~Family() = default;

template <class Child>
Child& Family<Child>::with(std::span<const std::string_view> label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument(fmt::format("metric {}: {} label values given for {} label names",
                                            name_, label_values.size(), label_names_.size()));
  }
  {
    std::shared_lock lock(children_->mutex);
    auto it = children_->table.find(label_values);
    if (it != children_->table.end()) return *it->second.child;
  }

  typename Children::Entry entry;
  for (size_t i = 0; i < label_values.size(); ++i) {
    if (i > 0) entry.rendered_labels += ',';
    entry.rendered_labels += label_names_[i];
    entry.rendered_labels += "=\"";
    append_label_value(entry.rendered_labels, label_values[i]);
    entry.rendered_labels += '"';
  }
  if constexpr (std::is_same_v<Child, Histogram>) {
    entry.child = std::make_unique<Histogram>(upper_bounds_);
  } else {
    entry.child = std::make_unique<Child>();
  }

  std::unique_lock lock(children_->mutex);
  // Another thread may have created it meanwhile; try_emplace then keeps theirs.
  auto [it, inserted] = children_->table.try_emplace(
      std::vector<std::string>(label_values.begin(), label_values.end()), std::move(entry));
  return *it->second.child;
}

template <class Child>
void Family<Child>::expose(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_help(out, help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_name<Child>();
  out += '\n';

  std::shared_lock lock(children_->mutex);
  using Item = typename decltype(children_->table)::const_pointer;
  std::vector<Item> sorted;
  sorted.reserve(children_->table.size());
  for (const auto& item : children_->table) sorted.push_back(&item);
  std::sort(sorted.begin(), sorted.end(), [](Item a, Item b) { return a->first < b->first; });

  std::vector<std::string> le_texts;
  if constexpr (std::is_same_v<Child, Histogram>) {
    for (double bound : upper_bounds_) le_texts.push_back(format_metric_value(bound));
    le_texts.emplace_back("+Inf");
  }

  for (Item item : sorted) {
    const std::string& labels = item->second.rendered_labels;
    const Child& child = *item->second.child;
    if constexpr (std::is_same_v<Child, Histogram>) {
      const std::vector<uint64_t> cumulative = child.cumulative_counts();
      std::string bucket_labels = labels;
      if (!bucket_labels.empty()) bucket_labels += ',';
      const size_t prefix_length = bucket_labels.size();
      for (size_t i = 0; i < cumulative.size(); ++i) {
        bucket_labels.resize(prefix_length);
        bucket_labels += "le=\"";
        bucket_labels += le_texts[i];
        bucket_labels += '"';
        append_sample(out, name_, "_bucket", bucket_labels, std::to_string(cumulative[i]));
      }
      append_sample(out, name_, "_sum", labels, format_metric_value(child.sum()));
      append_sample(out, name_, "_count", labels, std::to_string(cumulative.back()));
    } else {
      append_sample(out, name_, "", labels, format_metric_value(child.value()));
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ----- Registry -----

Registry::Registry() = default;
Registry::~Registry() = default;

template <class F>
F& Registry::add(std::unique_ptr<F> family, std::vector<std::string> sample_names) {
  std::lock_guard lock(families_mutex_);
  for (const auto& sample : sample_names) {
    if (sample_names_.contains(sample)) {
      throw std::invalid_argument(
          fmt::format("metric {}: name \"{}\" is already registered", family->name(), sample));
    }
  }
  sample_names_.insert(sample_names.begin(), sample_names.end());
  F& result = *family;
  families_.push_back(std::move(family));
  return result;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> label_names) {
  validate_names(name, label_names);
  if (!name.ends_with("_total")) {
    throw std::invalid_argument(fmt::format("counter name \"{}\" must end in _total", name));
  }
  std::vector<std::string> samples{name};
  return add(std::unique_ptr<CounterFamily>(
                 new CounterFamily(std::move(name), std::move(help), std::move(label_names), {})),
             std::move(samples));
}

GaugeFamily& Registry::gauge(std::string name, std::string help,
                             std::vector<std::string> label_names) {
  validate_names(name, label_names);
  std::vector<std::string> samples{name};
  return add(std::unique_ptr<GaugeFamily>(
                 new GaugeFamily(std::move(name), std::move(help), std::move(label_names), {})),
             std::move(samples));
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> upper_bounds) {
  validate_names(name, label_names);
  std::vector<double> bounds = normalized_bounds(std::move(upper_bounds));
  // The family name is reserved too, so that no other family prints HELP/TYPE under it.
  std::vector<std::string> samples{name, name + "_bucket", name + "_sum", name + "_count"};
  return add(std::unique_ptr<HistogramFamily>(new HistogramFamily(
                 std::move(name), std::move(help), std::move(label_names), std::move(bounds))),
             std::move(samples));
}

void Registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(families_mutex_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::expose() const {
  std::lock_guard scrape(expose_mutex_);
  // Collectors run without families_mutex_ held: they may create children or even families.
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(families_mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();

  std::string out;
  std::lock_guard lock(families_mutex_);
  for (const auto& family : families_) family->expose(out);
  return out;
}

// ----- Bucket helpers -----

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    throw std::invalid_argument(
        fmt::format("exponential_buckets needs start > 0, factor > 1, count >= 1 (got {}, {}, {})",
                    start, factor, count));
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(round_significant(bound));
  return bounds;
}

std::vector<double> linear_buckets(double start, double width, int count) {
  if (!std::isfinite(start) || !(width > 0) || count < 1) {
    throw std::invalid_argument(fmt::format(
        "linear_buckets needs width > 0, count >= 1 (got {}, {}, {})", start, width, count));
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) bounds.push_back(round_significant(start + i * width));
  return bounds;
}

}  // namespace trafficsim::telemetry
