// Variants, controls and the scoring of `incident validate`.
#include "incidents/validation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/random.hpp"
#include "incidents/simulation.hpp"

namespace trafficsim::incidents {

namespace json = boost::json;

namespace {

// Uniform in [lo, hi) from (seed, index, k) alone.
struct Draw {
  uint64_t key;
  int k = 0;
  double operator()(double lo, double hi) {
    return lo + (hi - lo) * core::unit_from_bits(core::mix64(key + 0x9e3779b97f4a7c15ULL * ++k));
  }
  size_t pick(size_t n) { return std::min(n - 1, static_cast<size_t>((*this)(0, double(n)))); }
};

Draw draw_for(uint64_t seed, int index, uint64_t salt) {
  return Draw{core::mix64(core::mix64(seed ^ salt) + static_cast<uint64_t>(index))};
}

struct Distractor {
  const char* name;
  const char* unit;
  double baseline;
  double sigma;
};

// Metrics that drift in real incidents without being their cause; one per signal family.
constexpr Distractor kDistractors[] = {
    {"cpu_usage_percent", "%", 40, 3},
    {"db_connections_active", "connections", 20, 2},
    {"gc_collections_total", "collections", 400, 40},
    {"http_requests_per_second", "req/s", 600, 30},
    {"external_api_call_duration_seconds", "s", 0.4, 0.03},
    {"memory_usage_bytes", "bytes", 3e9, 1e8},
    {"disk_usage_percent", "%", 55, 1},
    {"queue_depth", "messages", 12, 2},
    {"db_query_duration_seconds", "s", 0.04, 0.004},
};

constexpr const char* kServices[] = {"checkout-service", "inventory-api",  "auth-service",
                                     "search-api",       "billing-worker", "notification-service",
                                     "cart-service",     "pricing-engine"};

// The cause a signal speaks for: a distractor never brings a second metric of one cause (two
// database metrics drifting together are a database incident, not a distraction).
int family_of(Signal s) {
  switch (s) {
    case Signal::memory: case Signal::gc: case Signal::oom: return 1;
    case Signal::cpu: case Signal::traffic: return 2;
    case Signal::db_latency: case Signal::db_connections: return 3;
    case Signal::restarts: case Signal::readiness: return 4;
    case Signal::dependency_latency: case Signal::dependency_errors: case Signal::circuit_open:
      return 5;
    default: return 10 + static_cast<int>(s);
  }
}

void add_distractors(IncidentScenario& s, Draw& d, double min_sigma, double max_sigma) {
  std::set<std::string> names;
  std::set<int> signals;
  for (const auto& m : s.metrics) {
    names.insert(m.name);
    signals.insert(family_of(classify_metric(m.name)));
  }
  const int count = 1 + static_cast<int>(d.pick(2));
  for (int i = 0, tries = 0; i < count && tries < 20; ++tries) {
    const Distractor& x = kDistractors[d.pick(std::size(kDistractors))];
    const int sig = family_of(classify_metric(x.name));
    if (names.count(x.name) || signals.count(sig)) continue;  // one per family, never the cause's
    names.insert(x.name);
    signals.insert(sig);
    MetricSpec m;
    m.name = x.name;
    m.unit = x.unit;
    m.description = "distractor: drifts without being the cause";
    m.baseline = x.baseline;
    m.sigma = x.sigma;
    m.value = x.baseline + d(min_sigma, max_sigma) * x.sigma;
    m.pattern = MetricPattern::gradual;
    m.onset = d(0.1, 0.5);
    m.min = 0;
    s.metrics.push_back(std::move(m));
    ++i;
  }
}

}  // namespace

IncidentScenario make_variant(const IncidentScenario& base, uint64_t seed, int index) {
  Draw d = draw_for(seed, index, core::stream_key(base.id));
  IncidentScenario s = base;
  s.id = fmt::format("{}_v{}", base.id, index);
  s.duration_seconds = std::max(60.0, std::round(base.duration_seconds * d(0.6, 1.5)));
  const double shift = d(-0.05, 0.15);
  const double scale = d(0.5, 2.0);  // the metric's magnitude: another fleet, another unit size
  const std::string old_service = base.service;
  s.service = kServices[d.pick(std::size(kServices))];
  for (auto& dep : s.context.recent_deployments)
    if (dep.service == old_service) dep.service = s.service;
  for (auto& m : s.metrics) {
    if (m.pattern == MetricPattern::baseline) continue;
    const double dev = std::abs(m.value - m.baseline) / m.sigma;
    const double target = std::max(4.5, dev * d(0.9, 1.8));
    const double sigma = m.sigma * d(0.5, 1.5) * scale;
    const double sign = m.value >= m.baseline ? 1.0 : -1.0;
    m.baseline *= scale;
    m.sigma = sigma;
    m.value = m.baseline + sign * target * sigma;
    if (std::isfinite(m.min) && m.min == 0 && m.value < 0) m.value = 0;  // a drop to nothing
    m.onset = std::clamp(m.onset + shift, 0.12, 0.85);
  }
  add_distractors(s, d, 2.0, 5.0);
  return s;
}

IncidentScenario make_control(const IncidentScenario& base, uint64_t seed, int index) {
  Draw d = draw_for(seed, index, core::stream_key(base.id) ^ 0xc0ffeeULL);
  IncidentScenario s = base;
  s.id = fmt::format("{}_control{}", base.id, index);
  s.expected_root_cause.clear();
  s.expected_action_types.clear();
  for (auto& m : s.metrics) m.pattern = MetricPattern::baseline;
  add_distractors(s, d, 0.5, 2.5);
  return s;
}

bool ValidationReport::passed() const {
  for (const auto& s : scenarios) {
    if (!s.builtin_top1 || s.controls_false > 0) return false;
    if (s.variants > 0 && s.top1_rate() < kVariantTop1Bar) return false;
  }
  return !scenarios.empty();
}

json::object ValidationReport::to_json() const {
  json::array items;
  int v = 0, t1 = 0, t3 = 0, act = 0, c = 0, cf = 0, b = 0;
  for (const auto& s : scenarios) {
    json::array misses;
    for (const auto& m : s.misses) misses.push_back(json::value(m));
    items.push_back(json::object{{"scenario_id", s.scenario_id},
                                 {"expected_root_cause", s.expected_root_cause},
                                 {"builtin_top1", s.builtin_top1},
                                 {"builtin_top", s.builtin_top},
                                 {"variants", s.variants},
                                 {"top1", s.top1_rate()},
                                 {"top3", s.top3_rate()},
                                 {"actions", s.actions_rate()},
                                 {"controls", s.controls},
                                 {"false_incidents", s.controls_false},
                                 {"misses", std::move(misses)}});
    v += s.variants, t1 += s.variants_top1, t3 += s.variants_top3, act += s.variants_actions;
    c += s.controls, cf += s.controls_false, b += s.builtin_top1;
  }
  auto rate = [](int a, int n) { return n ? double(a) / n : 1.0; };
  return json::object{
      {"passed", passed()},
      {"seed", seed},
      {"variants_per_scenario", variants_per_scenario},
      {"seconds", std::round(seconds * 1000) / 1000},
      {"bars", json::object{{"builtin_top1", 1.0},
                            {"variant_top1", kVariantTop1Bar},
                            {"control_false_positive_rate", 0.0}}},
      {"totals", json::object{{"builtin_top1", rate(b, static_cast<int>(scenarios.size()))},
                              {"variants", v},
                              {"top1", rate(t1, v)},
                              {"top3", rate(t3, v)},
                              {"actions", rate(act, v)},
                              {"controls", c},
                              {"false_positive_rate", rate(cf, c)}}},
      {"scenarios", std::move(items)}};
}

namespace {

bool proposes_all(const Analysis& a, const std::vector<std::string>& types) {
  for (const auto& t : types)
    if (std::none_of(a.actions.begin(), a.actions.end(),
                     [&](const Action& x) { return x.type == t; }))
      return false;
  return true;
}

int rank_of(const Analysis& a, const std::string& category) {
  for (size_t i = 0; i < a.hypotheses.size(); ++i)
    if (a.hypotheses[i].category == category) return static_cast<int>(i);
  return -1;
}

}  // namespace

ValidationReport validate_analyzer(const std::vector<IncidentScenario>& scenarios, int variants,
                                   uint64_t seed) {
  const auto begin = std::chrono::steady_clock::now();
  ValidationReport report;
  report.variants_per_scenario = std::max(0, variants);
  report.seed = seed;
  const int controls = std::max(3, report.variants_per_scenario / 10);
  for (const auto& base : scenarios) {
    ScenarioScore score;
    score.scenario_id = base.id;
    score.expected_root_cause = base.expected_root_cause;
    Analysis a = analyze_scenario(base, seed);
    score.builtin_top = a.hypotheses.empty() || !a.anomalous ? "none" : a.hypotheses[0].category;
    score.builtin_top1 = a.anomalous && rank_of(a, base.expected_root_cause) == 0;
    if (!score.builtin_top1)
      score.misses.push_back(fmt::format("as written: {} first (expected {})", score.builtin_top,
                                         base.expected_root_cause));
    for (int i = 0; i < report.variants_per_scenario; ++i) {
      IncidentScenario v = make_variant(base, seed, i);
      Analysis va = analyze_scenario(v, seed + static_cast<uint64_t>(i) + 1);
      int r = va.anomalous ? rank_of(va, base.expected_root_cause) : -1;
      ++score.variants;
      score.variants_top1 += r == 0;
      score.variants_top3 += r >= 0 && r < 3;
      score.variants_actions += proposes_all(va, base.expected_action_types);
      if (r != 0 && score.misses.size() < 10)
        score.misses.push_back(fmt::format(
            "variant {}: {} first (expected {})", i,
            va.anomalous && !va.hypotheses.empty() ? va.hypotheses[0].category : "no anomaly",
            base.expected_root_cause));
    }
    for (int i = 0; i < controls; ++i) {
      IncidentScenario c = make_control(base, seed, i);
      Analysis ca = analyze_scenario(c, seed + 1000003ULL * static_cast<uint64_t>(i + 1));
      ++score.controls;
      if (ca.anomalous) {
        ++score.controls_false;
        if (score.misses.size() < 10)
          score.misses.push_back(fmt::format("control {}: an incident ({})", i, ca.summary));
      }
    }
    report.scenarios.push_back(std::move(score));
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return report;
}

}  // namespace trafficsim::incidents
