// The deterministic analyzer: series -> observations -> per-cause scores -> ranked hypotheses and
// actions. The scoring is written out rule by rule below; docs/incidents.md ("Analysis") states
// the same rules in words.
#include "incidents/analyzer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace trafficsim::incidents {

std::string_view to_string(Shape s) {
  switch (s) {
    case Shape::steady: return "steady";
    case Shape::spike: return "spike";
    case Shape::gradual: return "gradual";
    case Shape::step: return "step";
    case Shape::drop: return "drop";
    case Shape::flapping: return "flapping";
  }
  return "steady";
}

std::string_view to_string(Signal s) {
  switch (s) {
    case Signal::memory: return "memory";
    case Signal::gc: return "gc";
    case Signal::oom: return "oom";
    case Signal::cpu: return "cpu";
    case Signal::traffic: return "traffic";
    case Signal::latency: return "latency";
    case Signal::errors: return "errors";
    case Signal::db_latency: return "db_latency";
    case Signal::db_connections: return "db_connections";
    case Signal::restarts: return "restarts";
    case Signal::readiness: return "readiness";
    case Signal::dependency_latency: return "dependency_latency";
    case Signal::dependency_errors: return "dependency_errors";
    case Signal::circuit_open: return "circuit_open";
    case Signal::other: return "other";
  }
  return "other";
}

double Observation::deviation() const {
  if (sigma > 0) return (value - baseline) / sigma;
  if (baseline != 0) return 10.0 * (value - baseline) / std::abs(baseline);
  return value == 0 ? 0.0 : (value > 0 ? 10.0 : -10.0);
}

namespace {

bool has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

double mean_of(const std::vector<double>& v, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += v[i];
  return to > from ? sum / static_cast<double>(to - from) : 0.0;
}

}  // namespace

Signal classify_metric(std::string_view raw) {
  const std::string n = lower(raw);
  const bool timing = has(n, "duration") || has(n, "latency") || has(n, "_seconds") ||
                      has(n, "_ms") || has(n, "p95") || has(n, "p99") || has(n, "time");
  if (has(n, "circuit")) return Signal::circuit_open;
  if (has(n, "external") || has(n, "upstream") || has(n, "dependency") || has(n, "third_party") ||
      has(n, "gateway_call") || has(n, "downstream"))
    return has(n, "error") || has(n, "fail") ? Signal::dependency_errors
                                              : Signal::dependency_latency;
  if (n.starts_with("db_") || has(n, "database") || has(n, "query") || has(n, "sql")) {
    if (has(n, "connection") || has(n, "pool")) return Signal::db_connections;
    return Signal::db_latency;
  }
  if (has(n, "oom")) return Signal::oom;
  if (has(n, "memory") || has(n, "heap") || has(n, "rss")) return Signal::memory;
  if (n.starts_with("gc_") || has(n, "garbage") || has(n, "_gc")) return Signal::gc;
  if (has(n, "cpu")) return Signal::cpu;
  if (has(n, "restart") || has(n, "crash")) return Signal::restarts;
  if (has(n, "ready") || has(n, "available_replicas") || has(n, "replicas_available"))
    return Signal::readiness;
  if (has(n, "error") || has(n, "5xx") || has(n, "_500") || has(n, "fail"))
    return Signal::errors;
  if (has(n, "per_second") || has(n, "rps") || has(n, "request_rate") || has(n, "throughput") ||
      has(n, "qps"))
    return Signal::traffic;
  if (timing) return Signal::latency;
  return Signal::other;
}

Observation observe_series(std::string name, std::string unit, const std::vector<double>& series,
                           double floor_sigma) {
  Observation o;
  o.name = std::move(name);
  o.unit = std::move(unit);
  const size_t n = series.size();
  if (n == 0) return o;
  const size_t base_n =
      std::min(n, std::max<size_t>(3, static_cast<size_t>(std::floor(kBaselineFraction * n))));
  o.baseline = mean_of(series, 0, base_n);
  double var = 0;
  for (size_t i = 0; i < base_n; ++i) var += (series[i] - o.baseline) * (series[i] - o.baseline);
  o.sigma = base_n > 1 ? std::sqrt(var / static_cast<double>(base_n - 1)) : 0.0;
  // A second estimate of the noise from the whole series: the median step-to-step change
  // (robust to a step, a spike or a trend; the baseline part alone is a small sample whose
  // spread is often well under the truth).
  if (n >= 8) {
    std::vector<double> diffs;
    diffs.reserve(n - 1);
    for (size_t i = 1; i < n; ++i) diffs.push_back(std::abs(series[i] - series[i - 1]));
    std::nth_element(diffs.begin(), diffs.begin() + diffs.size() / 2, diffs.end());
    // |x1 - x2| of two N(0, σ²) has median 0.6745 · √2 · σ.
    o.sigma = std::max(o.sigma, diffs[diffs.size() / 2] / (0.6745 * std::sqrt(2.0)));
  }
  o.sigma = std::max(o.sigma, floor_sigma);
  o.value = o.baseline;
  if (n <= base_n) return o;

  // The level: the kLevelWindow-sample mean farthest from the baseline, after the baseline part.
  const size_t w = std::min(kLevelWindow, n - base_n);
  double best = 0;
  for (size_t i = base_n; i + w <= n; ++i) {
    double m = mean_of(series, i, i + w);
    if (std::abs(m - o.baseline) > std::abs(best - o.baseline) || i == base_n) {
      best = m;
    }
  }
  o.value = best;
  const double dev = o.deviation();
  if (std::abs(dev) < kAnomalySigma) return o;  // steady: no shape to tell

  // Shape: where the series first crosses half the change, how long it takes from there to 90 %
  // of it, and how often it goes back below half.
  const double half = o.baseline + 0.5 * (o.value - o.baseline);
  const double ninety = o.baseline + 0.9 * (o.value - o.baseline);
  const bool up = o.value > o.baseline;
  auto beyond = [&](double x, double level) { return up ? x >= level : x <= level; };
  std::vector<double> smooth(n);
  for (size_t i = 0; i < n; ++i) {
    size_t a = i >= 1 ? i - 1 : 0, b = std::min(n, i + 2);
    smooth[i] = mean_of(series, a, b);
  }
  // Crossings count with hysteresis (above 70 %, back below 30 %): noise on a slow climb is
  // not a flap.
  const double high = o.baseline + 0.7 * (o.value - o.baseline);
  const double low = o.baseline + 0.3 * (o.value - o.baseline);
  size_t first_half = n, first_ninety = n;
  int crossings = 0;
  bool above = false;
  for (size_t i = base_n; i < n; ++i) {
    if (beyond(smooth[i], half) && first_half == n) first_half = i;
    if (beyond(smooth[i], ninety) && first_ninety == n) first_ninety = i;
    if (!above && beyond(smooth[i], high)) {
      above = true;
      ++crossings;
    } else if (above && !beyond(smooth[i], low)) {
      above = false;
      ++crossings;
    }
  }
  const size_t rest = n - std::min(first_half, n);
  if (crossings >= 6) {
    o.shape = Shape::flapping;
  } else if (!up) {
    o.shape = Shape::drop;
  } else if (first_ninety != n && first_half != n &&
             static_cast<double>(first_ninety - first_half) <= 0.08 * static_cast<double>(n)) {
    // Reached at once: a step when it stays at its level to the end, else a spike.
    o.shape = rest > 0 && first_ninety - first_half <= 1 ? Shape::step : Shape::spike;
  } else {
    o.shape = Shape::gradual;
  }
  return o;
}

namespace {

// How strongly one observation speaks, 0 below the anomaly bar, up to 3 (12 σ and beyond).
double strength(const Observation& o) {
  double d = std::abs(o.deviation());
  if (d < kAnomalySigma) return 0;
  return std::min(3.0, d / kAnomalySigma);
}

struct Signals {
  // Sum of strengths per signal, rising and falling apart.
  double up[15] = {};
  double down[15] = {};
  std::vector<std::string> names[15];
  double rise(Signal s) const { return up[static_cast<int>(s)]; }
  double fall(Signal s) const { return down[static_cast<int>(s)]; }
  double any(Signal s) const { return rise(s) + fall(s); }
};

std::string evidence_line(const Observation& o) {
  return fmt::format("{} {} {:.4g}{} vs baseline {:.4g} ({:+.1f} σ, {})", o.name,
                     o.value >= o.baseline ? "rose to" : "fell to", o.value,
                     o.unit.empty() ? "" : " " + o.unit, o.baseline, o.deviation(),
                     to_string(o.shape));
}

const Deployment* recent_deployment(const IncidentContext& c, const std::string& service,
                                    double within_minutes) {
  const Deployment* best = nullptr;
  for (const auto& d : c.recent_deployments) {
    if (!d.service.empty() && !service.empty() && d.service != service) continue;
    if (d.minutes_ago > within_minutes) continue;
    if (!best || d.minutes_ago < best->minutes_ago) best = &d;
  }
  return best;
}

bool mentions_query(const IncidentContext& c) {
  for (const auto& d : c.recent_deployments) {
    std::string ch = lower(d.change);
    if (has(ch, "query") || has(ch, "index") || has(ch, "schema") || has(ch, "migration") ||
        has(ch, "sql"))
      return true;
  }
  return false;
}

}  // namespace

void rank_and_normalise(std::vector<Hypothesis>& hypotheses, const std::vector<double>& scores) {
  std::vector<size_t> order(hypotheses.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  // One extra point of "none of these" keeps a lone weak hypothesis from reading as certain.
  double total = 0.5;
  for (double s : scores) total += s;
  std::vector<Hypothesis> out;
  for (size_t i : order) {
    if (!(scores[i] > 0)) continue;
    Hypothesis h = std::move(hypotheses[i]);
    h.confidence = std::round(scores[i] / total * 1000) / 1000;
    out.push_back(std::move(h));
  }
  hypotheses = std::move(out);
}

Analysis analyze(const AnalysisInput& input) {
  Analysis a;
  Signals sig;
  std::vector<const Observation*> deviating;
  for (const auto& o : input.metrics) {
    double s = strength(o);
    if (s <= 0) continue;
    deviating.push_back(&o);
    auto k = static_cast<int>(classify_metric(o.name));
    (o.value >= o.baseline ? sig.up : sig.down)[k] += s;
    sig.names[k].push_back(evidence_line(o));
  }
  std::stable_sort(deviating.begin(), deviating.end(), [](auto* x, auto* y) {
    return std::abs(x->deviation()) > std::abs(y->deviation());
  });
  for (auto* o : deviating)
    a.evidence.metrics.push_back({o->name, o->value, o->baseline, o->sigma, o->unit});
  a.anomalous = !deviating.empty();
  if (!a.anomalous) {
    a.summary = "no metric left its baseline by " + fmt::format("{:g}", kAnomalySigma) + " σ";
    return a;
  }

  const std::string& svc = input.service;
  const Deployment* deploy = recent_deployment(input.context, svc, 60);
  auto lines = [&](std::initializer_list<Signal> ss) {
    std::vector<std::string> out;
    for (Signal s : ss)
      for (const auto& l : sig.names[static_cast<int>(s)]) out.push_back(l);
    return out;
  };
  std::vector<Hypothesis> hs;
  std::vector<double> scores;
  auto add = [&](std::string category, std::string description, double score,
                 std::vector<std::string> evidence) {
    if (!(score > 0)) return;
    hs.push_back({std::move(category), std::move(description), 0, std::move(evidence)});
    scores.push_back(score);
  };

  using S = Signal;
  // Memory leak: memory climbing (gradual above all), the collector working harder, OOM kills.
  {
    double key = sig.rise(S::memory);
    double score = key > 0 ? key + 0.5 * sig.rise(S::gc) + 0.5 * sig.rise(S::oom)
                           : 0.3 * (sig.rise(S::gc) + sig.rise(S::oom));
    add("memory_leak",
        fmt::format("{} leaks memory: usage climbs without being reclaimed{}", svc,
                    sig.rise(S::oom) > 0 ? " until the kernel kills containers (OOM)" : ""),
        score, lines({S::memory, S::gc, S::oom}));
  }
  // Capacity: more traffic than the service was sized for, CPU and latency following it.
  {
    double key = sig.rise(S::traffic);
    double score = key > 0 ? key + 0.5 * sig.rise(S::cpu) + 0.3 * sig.rise(S::latency)
                           : 0.4 * sig.rise(S::cpu);
    add("capacity",
        fmt::format("{} is short of capacity: {} and CPU saturates", svc,
                    key > 0 ? "traffic surged past what it is sized for" : "load rose"),
        score, lines({S::traffic, S::cpu, S::latency}));
  }
  // Database: query time up, connections piling up, request latency following; a deployment
  // that changed a query makes it likelier.
  {
    double key = sig.rise(S::db_latency);
    double score = key > 0 ? key + 0.5 * sig.rise(S::db_connections) +
                                 0.3 * sig.rise(S::latency) + (mentions_query(input.context) ? 0.5 : 0)
                           : 0.4 * sig.rise(S::db_connections);
    add("database",
        fmt::format("{}'s database queries slowed down (a missing index or a bad plan): "
                    "connections are held longer and requests wait for them",
                    svc),
        score, lines({S::db_latency, S::db_connections, S::latency}));
  }
  // Bad deployment: pods restarting or not ready right after a deployment of this service.
  {
    double key = sig.rise(S::restarts) + sig.fall(S::readiness);
    double bonus = deploy ? (deploy->minutes_ago <= 30 ? 1.0 : 0.5) : 0.0;
    double score = key > 0 ? key + 0.3 * sig.fall(S::traffic) + bonus
                           : 0.25 * bonus;
    auto ev = lines({S::restarts, S::readiness, S::traffic});
    if (deploy)
      ev.push_back(fmt::format("{} {} deployed {:g} min ago: {}", deploy->service, deploy->version,
                               deploy->minutes_ago, deploy->change));
    add("bad_deployment",
        deploy ? fmt::format("the deployment of {} {} ({:g} min ago) broke {}: {}", deploy->service,
                             deploy->version, deploy->minutes_ago, svc,
                             key > 0 ? "pods crash and restart" : "it changed what is failing")
               : fmt::format("{}'s pods crash and restart after a change", svc),
        score, std::move(ev));
  }
  // Dependency: calls to something outside got slow or fail, the circuit breaker opens, our
  // errors follow; nothing of ours changed.
  {
    double key = sig.rise(S::dependency_latency) + sig.rise(S::dependency_errors) +
                 0.7 * sig.rise(S::circuit_open);
    double score = key > 0 ? key + 0.4 * sig.rise(S::errors) + (deploy ? 0 : 0.3) : 0.0;
    std::string deps;
    for (const auto& d : input.context.dependencies) deps += (deps.empty() ? "" : ", ") + d;
    add("dependency",
        fmt::format("a dependency of {} is failing or timing out{}; the errors cascade", svc,
                    deps.empty() ? "" : " (" + deps + ")"),
        score, lines({S::dependency_latency, S::dependency_errors, S::circuit_open, S::errors}));
  }
  rank_and_normalise(hs, scores);
  if (hs.empty()) {
    hs.push_back({"unknown",
                  fmt::format("{} metrics of {} deviate without a known pattern",
                              deviating.size(), svc),
                  0.2, lines({S::other, S::latency, S::errors})});
  }
  a.hypotheses = std::move(hs);
  // Actions for the two leading causes (the second only when it is not far behind).
  for (size_t i = 0; i < a.hypotheses.size() && i < 2; ++i) {
    if (i == 1 && a.hypotheses[1].confidence < 0.5 * a.hypotheses[0].confidence) break;
    for (auto& act : actions_for(a.hypotheses[i].category, svc, input.context)) {
      bool dup = std::any_of(a.actions.begin(), a.actions.end(),
                             [&](const Action& x) { return x.type == act.type; });
      if (!dup) a.actions.push_back(std::move(act));
    }
  }
  a.summary = fmt::format("{} ({:.0f} %): {}", a.hypotheses[0].category,
                          a.hypotheses[0].confidence * 100, a.hypotheses[0].description);
  return a;
}

std::vector<Action> actions_for(std::string_view category, const std::string& service,
                                const IncidentContext& context) {
  const Deployment* deploy = recent_deployment(context, service, 24 * 60);
  std::string version = deploy ? deploy->version : "the previous version";
  std::vector<Action> out;
  auto rollback = [&](std::string risk) {
    out.push_back({"rollback", std::move(risk), service + " (all replicas)",
                   {fmt::format("Roll {} back to the version before {}", service, version),
                    "Watch error rate and latency return to the baseline for 10 minutes",
                    "Open a fix for the change before deploying again"},
                   "runbooks/rollback: kubectl rollout undo deployment/" + service});
  };
  if (category == "memory_leak") {
    out.push_back({"restart", "low", service + " pods, one at a time",
                   {fmt::format("Restart {}'s pods one at a time (rolling)", service),
                    "Confirm memory drops to the baseline after each restart",
                    "Capture a heap profile from one pod before restarting it"},
                   "runbooks/memory-leak: rolling restart buys hours, not a fix"});
    if (deploy) rollback("medium");
  } else if (category == "capacity") {
    out.push_back({"scale_out", "low", service + " (adds replicas)",
                   {fmt::format("Scale {} out (2x replicas) or raise the autoscaler's maximum",
                                service),
                    "Check that CPU per replica falls below 70 %",
                    "Confirm the traffic is legitimate (campaign, not abuse)"},
                   "runbooks/capacity: scale out first, then tune"});
    out.push_back({"rate_limit", "medium", "callers over their quota",
                   {"Enable per-client rate limits at the gateway",
                    "Serve 429 with Retry-After rather than time out"},
                   "runbooks/capacity#shedding"});
  } else if (category == "database" || category == "missing_index") {
    out.push_back({"create_index", "medium", "the table's writes during the build",
                   {"EXPLAIN the slow query and find the full table scan",
                    "CREATE INDEX CONCURRENTLY on the filtered and sorted columns",
                    "Re-run EXPLAIN: the plan uses the index; latency returns to the baseline"},
                   "runbooks/database#missing-index"});
    out.push_back({"optimize_query", "low", "the one query",
                   {"Limit the rows the query reads (filter first, paginate)",
                    "Cache its results for a short time if it is read-heavy"},
                   "runbooks/database#slow-query"});
    if (category == "database" && deploy) rollback("medium");
  } else if (category == "bad_deployment") {
    rollback("low");
    out.push_back({"investigate", "low", "none",
                   {"Read the crashing pods' last logs (kubectl logs --previous)",
                    "Compare the new version's configuration with production's"},
                   "runbooks/crash-loop"});
  } else if (category == "dependency") {
    out.push_back({"circuit_breaker", "low", "calls to the failing dependency",
                   {"Open the circuit breaker to the dependency (fail fast)",
                    "Lower the client timeout so threads are not held for 30 s"},
                   "runbooks/dependency#circuit-breaker"});
    out.push_back({"fallback", "medium", "features that need the dependency",
                   {"Serve the degraded path (queue the work, cached answers)",
                    "Tell the dependency's owner, with the failing calls' trace ids"},
                   "runbooks/dependency#fallback"});
  } else if (category == "latency_injection" || category == "error_injection") {
    out.push_back({"remove_fault", "low", "the requests the fault matches",
                   {"List active faults: GET /admin/faults",
                    "Remove the fault (DELETE /admin/faults/{name}) or stop the client sending "
                    "fault hints (X-Fault-Delay-Ms)",
                    "Watch the monitor return to OK"},
                   "runbooks/fault-injection"});
    if (category == "error_injection")
      out.push_back({"fix_client", "low", "the one caller",
                     {"Find the caller sending malformed requests (traffic.type, user agent)",
                      "Validate the request before sending it"},
                     "runbooks/llm-errors"});
  } else if (category == "token_bloat") {
    out.push_back({"limit_prompt_size", "low", "callers with oversized prompts",
                   {"Find the callers whose prompts grew (tokens per request by traffic type)",
                    "Cap the prompt size or truncate context before the model call",
                    "Budget alert on tokens per request"},
                   "runbooks/llm-cost"});
  } else {
    out.push_back({"investigate", "low", "none",
                   {"Compare the deviating metrics with the last deployment and traffic",
                    "Open example traces of the slow or failing requests"},
                   "runbooks/triage"});
  }
  return out;
}

}  // namespace trafficsim::incidents
