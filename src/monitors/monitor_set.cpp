#include "monitors/monitor_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/duration.hpp"

namespace trafficsim::monitors {

namespace json = boost::json;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool selected(const Selector& sel, const std::string& name, const telemetry::ExpositionSample& s) {
  if (s.name != name) return false;
  return std::all_of(sel.match.begin(), sel.match.end(),
                     [&](const LabelMatcher& m) { return m.matches(s.label(m.label)); });
}

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
std::string format_window(Duration d) { return core::format_duration(d); }

// histogram_quantile over cumulative bucket counts (upper bound -> count), as Prometheus does:
// linear inside the bucket that holds the rank; the highest finite bound for the +Inf bucket.
std::optional<double> quantile_of(const std::map<double, double>& buckets, double q) {
  if (buckets.empty()) return std::nullopt;
  double total = buckets.rbegin()->second;
  if (!(total > 0)) return std::nullopt;
  double rank = q * total, lower = 0, below = 0, largest_finite = 0;
  for (const auto& [upper, count] : buckets) {
    if (std::isfinite(upper)) largest_finite = upper;
    if (count >= rank) {
      if (!std::isfinite(upper)) return largest_finite;
      if (count <= below) return upper;
      return lower + (upper - lower) * (rank - below) / (count - below);
    }
    lower = upper;
    below = count;
  }
  return largest_finite;
}

std::string fmt_value(double v, const std::string& unit) {
  std::string text = std::abs(v) >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v);
  return unit.empty() ? text : text + " " + unit;
}

}  // namespace

std::string_view state_name(MonitorState s) {
  switch (s) {
    case MonitorState::ok: return "OK";
    case MonitorState::pending: return "PENDING";
    case MonitorState::alert: return "ALERT";
  }
  return "OK";
}

json::object MonitorEvent::to_json() const {
  json::object o{{"monitor", monitor_id},   {"name", monitor_name},
                 {"severity", severity},    {"service", service},
                 {"from", state_name(from)}, {"to", state_name(to)},
                 {"t", t_unix},             {"threshold", threshold},
                 {"reason", reason}};
  o["value"] = value ? json::value(*value) : json::value(nullptr);
  if (baseline) o["baseline"] = *baseline;
  o["unit"] = unit;
  return o;
}

MonitorSet::MonitorSet(std::vector<MonitorSpec> specs, double time_scale)
    : time_scale_(time_scale > 0 ? time_scale : 1) {
  monitors_.reserve(specs.size());
  for (auto& s : specs) {
    Monitor m;
    m.spec = time_scale_ == 1 ? std::move(s) : s.scaled(time_scale_);
    m.status.threshold = m.spec.threshold;
    monitors_.push_back(std::move(m));
  }
  for (auto& m : monitors_) m.status.spec = &m.spec;
}

std::map<double, double> MonitorSet::reduce(const MonitorSpec& spec, const telemetry::Exposition& scrape) {
  std::map<double, double> out;
  const Signal& sig = spec.signal;
  switch (sig.kind) {
    case SignalKind::quantile: {
      const std::string name = sig.metric.metric + "_bucket";
      for (const auto& s : scrape.samples) {
        if (!selected(sig.metric, name, s)) continue;
        const std::string* le = s.label("le");
        if (!le) continue;
        double bound = *le == "+Inf" ? kInf : std::strtod(le->c_str(), nullptr);
        out[bound] += s.value;
      }
      break;
    }
    case SignalKind::ratio:
      for (const auto& s : scrape.samples) {
        if (selected(sig.numerator, sig.numerator.metric, s)) out[0] += s.value;
        if (selected(sig.denominator, sig.denominator.metric, s)) out[1] += s.value;
      }
      break;
    case SignalKind::mean:
      for (const auto& s : scrape.samples) {
        if (selected(sig.metric, sig.metric.metric + "_sum", s)) out[0] += s.value;
        if (selected(sig.metric, sig.metric.metric + "_count", s)) out[1] += s.value;
      }
      break;
    case SignalKind::gauge:
      for (const auto& s : scrape.samples)
        if (selected(sig.metric, sig.metric.metric, s)) out[0] += s.value;
      break;
  }
  return out;
}

void MonitorSet::record(Monitor& m, double t, std::map<double, double> raw) {
  if (m.spec.signal.kind != SignalKind::gauge) {
    // A counter that went down was reset (the target restarted): what it had counted stays
    // counted, as Prometheus's increase() does.
    for (auto& [key, value] : raw) {
      auto last = m.last_raw.find(key);
      if (last != m.last_raw.end() && value < last->second) m.offset[key] += last->second;
      m.last_raw[key] = value;
      value += m.offset[key];
    }
  }
  m.points.push_back(Point{t, std::move(raw)});
  // Keep one point at or before the longest window's start, none older.
  const double keep_from = t - seconds(m.spec.history());
  size_t drop = 0;
  while (drop + 1 < m.points.size() && m.points[drop + 1].t <= keep_from) ++drop;
  if (drop) m.points.erase(m.points.begin(), m.points.begin() + static_cast<ptrdiff_t>(drop));
  if (m.points.size() > kMaxPoints) {
    // Thin the older half to every other point; the newest half keeps full resolution.
    std::vector<Point> thinned;
    size_t half = m.points.size() / 2;
    for (size_t i = 0; i < m.points.size(); ++i)
      if (i >= half || i % 2 == 0) thinned.push_back(std::move(m.points[i]));
    m.points.swap(thinned);
  }
}

MonitorSet::Reading MonitorSet::read(const Monitor& m, double now) const {
  Reading r;
  const auto& pts = m.points;
  if (pts.size() < 2 && m.spec.signal.kind != SignalKind::gauge) return r;
  if (pts.empty()) return r;
  // The newest point at or before `at`; the oldest when the history is shorter (a partial
  // window: what exists).
  auto at_or_before = [&](double at) -> const Point& {
    auto it = std::upper_bound(pts.begin(), pts.end(), at,
                               [](double v, const Point& p) { return v < p.t; });
    return it == pts.begin() ? pts.front() : *(it - 1);
  };
  auto diff = [](const Point& a, const Point& b) {
    std::map<double, double> d;
    for (const auto& [k, v] : a.values) {
      auto it = b.values.find(k);
      d[k] = v - (it == b.values.end() ? 0 : it->second);
    }
    return d;
  };
  const Signal& sig = m.spec.signal;
  // The signal between two points.
  auto signal_between = [&](const Point& from, const Point& to) -> std::optional<double> {
    if (&from == &to && sig.kind != SignalKind::gauge) return std::nullopt;
    if (sig.kind == SignalKind::gauge) {
      auto it = to.values.find(0);
      if (it == to.values.end()) return std::nullopt;
      return it->second * sig.scale;
    }
    auto d = diff(to, from);
    if (sig.kind == SignalKind::quantile) {
      auto q = quantile_of(d, sig.q);
      if (!q) return std::nullopt;
      return *q * sig.scale;
    }
    double den = d.count(1) ? d[1] : 0;
    if (!(den > 0)) return std::nullopt;
    return d[0] / den * sig.scale;
  };
  const Point& last = pts.back();
  const double window = seconds(m.spec.window);

  if (m.spec.objective) {  // SLO burn rate
    const double budget = 1 - *m.spec.objective;
    bool any = false, have = false;
    std::string why;
    for (const auto& b : m.spec.burn) {
      auto lr = signal_between(at_or_before(now - seconds(b.long_window)), last);
      auto sr = signal_between(at_or_before(now - seconds(b.short_window)), last);
      if (!lr || !sr) continue;
      have = true;
      double lb = *lr / budget, sb = *sr / budget;
      if (!r.value) {
        r.value = sb;
        r.threshold = b.factor;
      }
      if (lb > b.factor && sb > b.factor && !any) {
        any = true;
        r.value = sb;
        r.threshold = b.factor;
        why = fmt::format("error budget burning {:.1f}x over {} and {:.1f}x over {} (> {:g}x)", lb,
                          format_window(b.long_window), sb, format_window(b.short_window), b.factor);
      }
    }
    if (!have) return Reading{};
    r.condition = any;
    r.recovered = !any;
    r.reason = any ? why : fmt::format("error budget burning {:.2f}x", r.value.value_or(0));
    return r;
  }

  r.value = signal_between(at_or_before(now - window), last);
  if (!r.value) return Reading{};
  const std::string& unit = sig.unit;
  if (m.spec.baseline_factor) {  // anomaly: against the preceding baseline window
    const Point& window_start = at_or_before(now - window);
    if (now - window - pts.front().t < seconds(m.spec.min_baseline)) {
      r.value.reset();  // not enough history for a baseline yet: no data
      return r;
    }
    const Point& baseline_start = at_or_before(now - window - seconds(m.spec.baseline));
    r.baseline = signal_between(baseline_start, window_start);
    if (!r.baseline || !(*r.baseline > 0)) return Reading{};
    r.threshold = *m.spec.baseline_factor * *r.baseline;
    r.condition = *r.value > *r.threshold;
    r.recovered = *r.value <= m.spec.recover.value_or(*m.spec.baseline_factor) * *r.baseline;
    r.reason = fmt::format("{} is {:.1f}x the baseline {} (threshold {:g}x)", fmt_value(*r.value, unit),
                           *r.value / *r.baseline, fmt_value(*r.baseline, unit), *m.spec.baseline_factor);
    return r;
  }
  r.threshold = m.spec.threshold;
  const double recover = m.spec.recover.value_or(m.spec.threshold);
  bool above = m.spec.comparison == Comparison::above;
  r.condition = above ? *r.value > m.spec.threshold : *r.value < m.spec.threshold;
  r.recovered = above ? *r.value <= recover : *r.value >= recover;
  r.reason = fmt::format("{} over {} {} the threshold {}", fmt_value(*r.value, unit),
                         format_window(m.spec.window), r.condition ? (above ? "above" : "below")
                                                                   : (above ? "at or below" : "at or above"),
                         fmt_value(m.spec.threshold, unit));
  return r;
}

std::vector<MonitorEvent> MonitorSet::observe(const telemetry::Exposition& scrape, double now) {
  std::vector<MonitorEvent> events;
  std::lock_guard lock(mu_);
  for (auto& m : monitors_) {
    record(m, now, reduce(m.spec, scrape));
    Reading r = read(m, now);
    MonitorStatus& st = m.status;
    st.has_data = r.value.has_value();
    st.value = r.value;
    st.baseline = r.baseline;
    if (r.threshold) st.threshold = *r.threshold;
    auto move_to = [&](MonitorState to, std::string reason) {
      MonitorEvent e{m.spec.id, m.spec.name, m.spec.severity, m.spec.service, st.state, to, now,
                     r.value, st.threshold, r.baseline, std::move(reason), m.spec.signal.unit};
      st.state = to;
      st.since_unix = now;
      if (to == MonitorState::alert) st.ever_alerted = true;
      if (to != MonitorState::pending) m.pending_since.reset();
      events.push_back(std::move(e));
    };
    bool condition = r.condition;
    if (!r.value) {
      if (m.spec.no_data == NoData::ok && st.state != MonitorState::ok) move_to(MonitorState::ok, "no data");
      if (m.spec.no_data != NoData::alert) continue;
      condition = true;
      r.reason = "no data";
    }
    const double for_s = seconds(m.spec.for_duration);
    switch (st.state) {
      case MonitorState::ok:
        if (!condition) break;
        if (for_s <= 0) {
          move_to(MonitorState::alert, r.reason);
        } else {
          move_to(MonitorState::pending, r.reason);
          m.pending_since = now;
        }
        break;
      case MonitorState::pending:
        if (!condition) {
          move_to(MonitorState::ok, r.reason);
        } else if (now - m.pending_since.value_or(now) >= for_s) {
          move_to(MonitorState::alert, r.reason + fmt::format(" for {}", format_window(m.spec.for_duration)));
        }
        break;
      case MonitorState::alert:
        if (r.value && r.recovered) move_to(MonitorState::ok, r.reason);
        break;
    }
  }
  return events;
}

std::vector<MonitorStatus> MonitorSet::statuses() const {
  std::lock_guard lock(mu_);
  std::vector<MonitorStatus> out;
  for (const auto& m : monitors_) out.push_back(m.status);
  return out;
}

bool MonitorSet::any_alerted() const {
  std::lock_guard lock(mu_);
  return std::any_of(monitors_.begin(), monitors_.end(),
                     [](const Monitor& m) { return m.status.ever_alerted; });
}

json::array MonitorSet::to_json() const {
  std::lock_guard lock(mu_);
  json::array out;
  for (const auto& m : monitors_) {
    const MonitorStatus& st = m.status;
    json::object o{{"id", m.spec.id},
                   {"name", m.spec.name},
                   {"description", m.spec.description},
                   {"severity", m.spec.severity},
                   {"service", m.spec.service},
                   {"state", state_name(st.state)},
                   {"hasData", st.has_data},
                   {"threshold", st.threshold},
                   {"unit", m.spec.signal.unit},
                   {"windowSeconds", seconds(m.spec.window)},
                   {"forSeconds", seconds(m.spec.for_duration)},
                   {"since", st.since_unix},
                   {"everAlerted", st.ever_alerted}};
    o["value"] = st.value ? json::value(*st.value) : json::value(nullptr);
    if (st.baseline) o["baseline"] = *st.baseline;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace trafficsim::monitors
