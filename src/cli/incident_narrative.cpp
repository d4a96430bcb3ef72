// The stories of `incident --narrative`, and the telling: acts, pauses, the run inside act 2.
#include "cli/incident_narrative.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "cli/arguments.hpp"
#include "cli/incident_printing.hpp"
#include "incidents/metric_pattern.hpp"

namespace trafficsim::cli {

namespace {

using incidents::IncidentScenario;
using incidents::MetricSpec;

const MetricSpec* find_metric(const IncidentScenario& sc, std::string_view name) {
  for (const auto& m : sc.metrics)
    if (m.name == name) return &m;
  return nullptr;
}

// A number as a person says it, in the metric's unit: 2 GB, 45 %, 300 ms, 3,500 req/s.
std::string say(double v, const std::string& unit) {
  if (unit == "bytes") {
    if (std::abs(v) >= 1e9) return fmt::format("{:.3g} GB", v / 1e9);
    if (std::abs(v) >= 1e6) return fmt::format("{:.3g} MB", v / 1e6);
    return fmt::format("{:g} bytes", v);
  }
  if (unit == "state") return v >= 0.5 ? "open" : "closed";
  if (unit == "%") return fmt::format("{:g} %", v);
  if (unit == "s")
    return std::abs(v) < 1 ? fmt::format("{:g} ms", v * 1000) : fmt::format("{:g} s", v);
  std::string n = std::abs(v) >= 1e6 ? fmt::format("{:.3g} million", v / 1e6)
                  : std::abs(v) >= 1000
                      ? format_count(static_cast<uint64_t>(std::llround(std::abs(v))))
                      : fmt::format("{:g}", v);
  return unit.empty() ? n : n + " " + unit;
}

// The numbers a story quotes: name -> baseline, value, deviation; missing when the file has no
// such metric (then the generic story is told instead).
struct Numbers {
  const IncidentScenario& sc;
  const MetricSpec* need(std::string_view name) const { return find_metric(sc, name); }
  std::string base(std::string_view name) const {
    const MetricSpec* m = need(name);
    return m ? say(m->baseline, m->unit) : "";
  }
  std::string value(std::string_view name) const {
    const MetricSpec* m = need(name);
    return m ? say(m->value, m->unit) : "";
  }
  std::string sigma(std::string_view name) const {
    const MetricSpec* m = need(name);
    return m ? fmt::format("{:.1f}", incidents::deviation_sigma(m->value, m->baseline, m->sigma))
             : "";
  }
  double ratio(std::string_view name) const {
    const MetricSpec* m = need(name);
    return m && m->baseline != 0 ? m->value / m->baseline : 0;
  }
  std::string deployed(const std::string& fallback) const {
    if (sc.context.recent_deployments.empty()) return fallback;
    const auto& d = sc.context.recent_deployments.front();
    return fmt::format("{} {}", d.service, d.version);
  }
  std::string change() const {
    if (sc.context.recent_deployments.empty()) return "";
    return sc.context.recent_deployments.front().change;
  }
  std::string minutes_ago() const {
    if (sc.context.recent_deployments.empty()) return "";
    return fmt::format("{:g} minutes", sc.context.recent_deployments.front().minutes_ago);
  }
};

IncidentStory memory_leak(Numbers n) {
  const auto& svc = n.sc.service;
  return {
      "The cache that never forgot",
      fmt::format(
          "It is a quiet afternoon at {0}. Every checkout passes through it, and it does its "
          "work with about {1} of memory in use; its heap holds some {2}, and the garbage "
          "collector has run {3} so far — the steady rhythm of a service that cleans up "
          "after itself. {4} ago {5} went out: \"{6}\". The deployment was green; nobody "
          "thought twice about it.",
          svc, n.base("memory_usage_bytes"), n.base("heap_allocations"),
          n.base("gc_collections_total"), n.minutes_ago(), n.deployed(svc), n.change()),
      fmt::format("Then the memory line starts to lean. It does not jump: it climbs, a little with "
                  "every request, and it never comes back down. The heap fills towards {0}, the "
                  "collector runs harder and harder ({1}) and gets nothing back, and memory heads "
                  "for {2}, {3}σ above normal. Near the end the kernel steps in: the first OOM "
                  "kills. The pager goes off.",
                  n.value("heap_allocations"), n.value("gc_collections_total"),
                  n.value("memory_usage_bytes"), n.sigma("memory_usage_bytes")),
      fmt::format("A spike would point at load; a climb that never recovers points at something "
                  "being kept. The analysis reads the shape of each line as well as its height: "
                  "memory and heap rise together in a steady ramp, the garbage collector works "
                  "without effect, and it all starts after {0}. That is the signature of a leak, "
                  "and the deployment is the first suspect.",
                  n.deployed(svc)),
      fmt::format("Two moves, in order of risk. A rolling restart buys time: each pod starts fresh "
                  "at {0} and the OOM kills stop, but the leak is still in the code and the line "
                  "will climb again. Rolling back {1} removes the cause. Then the cache gets a "
                  "bound (a size limit, an eviction policy) before it ships again.",
                  n.base("memory_usage_bytes"), n.deployed(svc)),
      "Memory that only goes up is a question about what you keep, not about how much traffic "
      "you have.",
  };
}

IncidentStory cpu_spike(Numbers n) {
  const auto& svc = n.sc.service;
  return {
      "The e-mail that worked too well",
      fmt::format("{0} is the front door: every request from the shop passes through it. On a "
                  "normal afternoon it handles about {1} on three replicas, its CPU sits near {2} "
                  "and the p95 latency is a comfortable {3}. Nothing has been deployed today. Ten "
                  "minutes ago, marketing sent the campaign e-mail.",
                  svc, n.base("http_requests_per_second"), n.base("cpu_usage_percent"),
                  n.base("http_request_duration_p95_seconds")),
      fmt::format("The readers arrive all at once. Requests jump to {0}, {1:.1f} times the usual, "
                  "and the CPU climbs to {2} and stays pinned there ({3}σ). With no headroom left "
                  "requests wait in line: the p95 latency goes from {4} to {5}. Customers see a "
                  "spinner; the on-call sees an alert.",
                  n.value("http_requests_per_second"), n.ratio("http_requests_per_second"),
                  n.value("cpu_usage_percent"), n.sigma("cpu_usage_percent"),
                  n.base("http_request_duration_p95_seconds"),
                  n.value("http_request_duration_p95_seconds")),
      "Traffic, CPU and latency rose together, at the same moment, and no deployment is anywhere "
      "near: the code did not change, the load did. The analysis weighs exactly that — a surge "
      "in demand, a resource at its ceiling, no recent change to blame — and points at capacity.",
      fmt::format("{0} needs more hands, not a different brain. Scaling out beyond three replicas "
                  "spreads the load, the CPU comes back under its ceiling and the latency "
                  "follows. Afterwards: an autoscaler, so that the next campaign scales the "
                  "gateway instead of paging a person.",
                  svc),
      "Good news can page you too: plan capacity for your own success.",
  };
}

IncidentStory latency_spike(Numbers n) {
  const auto& svc = n.sc.service;
  return {
      "The query that read every row",
      fmt::format("{0} shows customers their orders. Its API answers in {1} at p95, its database "
                  "queries take {2}, and about {3} of the pool's 100 are busy. {4} ago {5} shipped "
                  "a small feature: \"{6}\".",
                  svc, n.base("http_request_duration_p95_seconds"),
                  n.base("db_query_duration_seconds"), n.base("db_connections_active"),
                  n.minutes_ago(), n.deployed(svc), n.change()),
      fmt::format("At first nobody uses the new filter. Then the evening crowd does. Each of those "
                  "queries reads the whole orders table and takes {0} instead of {1}. Slow queries "
                  "hold on to their connections, the pool fills to {2}, and every other request "
                  "waits for a connection: the API's p95 reaches {3}.",
                  n.value("db_query_duration_seconds"), n.base("db_query_duration_seconds"),
                  n.value("db_connections_active"), n.value("http_request_duration_p95_seconds")),
      fmt::format("The API is slow, but the API is only the messenger. The analysis looks one "
                  "layer down: the database's query time deviates the most ({0}σ), the connection "
                  "pool is nearly exhausted, and a deployment that added a query landed shortly "
                  "before. The latency is the database's, and the database is missing an index.",
                  n.sigma("db_query_duration_seconds")),
      "The lasting fix is an index for the new query, built concurrently so that the table stays "
      "writable. While it builds, the query can be optimized or switched off behind its flag. The "
      "pool drains by itself once the full scans stop.",
      "When every layer is slow, look at the lowest one that changed.",
  };
}

IncidentStory crash_loop(Numbers n) {
  const auto& svc = n.sc.service;
  return {
      "The setting nobody set",
      fmt::format("{0} runs on {1} and answers about {2}: logins, profiles, the things every page "
                  "needs. {3} ago {4} rolled out: \"{5}\".",
                  svc, n.base("kube_pod_ready_count"), n.base("http_requests_per_second"),
                  n.minutes_ago(), n.deployed(svc), n.change()),
      fmt::format("The new pods start, read their configuration, and exit within seconds. "
                  "Kubernetes restarts them and they exit again: CrashLoopBackOff. Restarts pile "
                  "up to {0}, only {1} of {2} stay ready, and the traffic the service can take "
                  "collapses from {3} to {4}.",
                  n.value("kube_pod_container_restarts_total"), n.value("kube_pod_ready_count"),
                  n.base("kube_pod_ready_count"), n.base("http_requests_per_second"),
                  n.value("http_requests_per_second")),
      fmt::format("Pods that die right after they start, restarts that grow in a straight line, "
                  "and a deployment {0} earlier: the analysis puts the deployment first. Neither "
                  "load nor a dependency explains pods that never serve a single request.",
                  n.minutes_ago()),
      fmt::format("Roll back {0}: the previous version does not need the new setting and starts "
                  "cleanly. Then set it in production (or give it a default) and roll forward "
                  "again, with a readiness check that stops the rollout at the first pod.",
                  n.deployed(svc)),
      "A rollout that cannot start should stop itself; a rollback is the quickest way to make it.",
  };
}

IncidentStory dependency(Numbers n) {
  const auto& svc = n.sc.service;
  return {
      "The partner who stopped answering",
      fmt::format("{0} hands every card payment to an external payment gateway. A call takes "
                  "about {1}, and the service returns a handful of errors a minute ({2}): the "
                  "background noise of the internet. Nothing has been deployed.",
                  svc, n.base("external_api_call_duration_seconds"), n.base("http_500_errors")),
      fmt::format("Then the gateway goes quiet. Calls no longer fail fast: they hang for the full "
                  "{0}. Threads pile up waiting, our own requests fail behind them, and HTTP 500s "
                  "climb to {1}. The circuit breaker opens, but only after the damage has spread.",
                  n.value("external_api_call_duration_seconds"), n.value("http_500_errors")),
      fmt::format("Our code did not change and our traffic did not change; what changed is how "
                  "long someone else takes to answer. The analysis reads the external call time "
                  "({0}σ), the errors that follow it and the open breaker, finds no recent "
                  "deployment, and names the dependency.",
                  n.sigma("external_api_call_duration_seconds")),
      "Keep the circuit breaker open so that callers fail in milliseconds instead of waiting for "
      "the timeout, and serve a fallback (queue the payments, offer another provider) until the "
      "gateway recovers. Then shorten the timeout: no customer waits 30 seconds.",
      "You cannot fix someone else's outage, but you choose how long it hurts you.",
  };
}

// Any scenario, from its own fields.
IncidentStory generic(const IncidentScenario& sc) {
  std::string baselines, bends;
  for (const auto& m : sc.metrics) {
    baselines +=
        fmt::format("{}{} at {}", baselines.empty() ? "" : ", ", m.name, say(m.baseline, m.unit));
    bends += fmt::format(
        "{}{} goes to {} ({:.1f}σ, {})", bends.empty() ? "" : "; ", m.name, say(m.value, m.unit),
        incidents::deviation_sigma(m.value, m.baseline, m.sigma), incidents::to_string(m.pattern));
  }
  std::string context = "Nothing has been deployed recently.";
  if (!sc.context.recent_deployments.empty()) {
    const auto& d = sc.context.recent_deployments.front();
    context = fmt::format("{:g} minutes ago {} {} went out: \"{}\".", d.minutes_ago, d.service,
                          d.version, d.change);
  }
  return {
      sc.name,
      fmt::format("{} is running normally: {}. {}", sc.service, baselines, context),
      fmt::format("{} The metrics bend: {}.", sc.description, bends),
      "The analysis reads how far each metric moved from its baseline, in σ of its noise, the "
      "shape of the change, and the context (deployments, dependencies), then ranks the causes "
      "that explain what it saw.",
      "Each action comes with its risk and blast radius: start with the safest one that still "
      "addresses the cause.",
      "Every incident is a story; the metrics are how it is told.",
  };
}

// Words wrapped at `width` columns, indented.
void paragraph(const std::string& text, size_t width = 92, size_t indent = 2) {
  std::istringstream words(text);
  std::string word, line;
  const std::string pad(indent, ' ');
  auto columns = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  while (words >> word) {
    if (!line.empty() && columns(line) + 1 + columns(word) > width - indent) {
      fmt::print("{}{}\n", pad, line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) fmt::print("{}{}\n", pad, line);
}

void act(int number, const char* title, const Style& st) {
  fmt::print("\n{}\n\n", st.bold(st.cyan(fmt::format("Act {} · {}", number, title))));
}

void pause_here(bool pause, const Style& st) {
  if (!pause) return;
  fmt::print("\n{}", st.dim("Press Enter to continue…"));
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);
}

}  // namespace

IncidentStory incident_story(const IncidentScenario& sc) {
  struct Known {
    std::string_view id;
    std::vector<std::string_view> quotes;  // the metrics its words need
    IncidentStory (*tell)(Numbers);
  };
  static const Known kKnown[] = {
      {"memory_leak_gradual",
       {"memory_usage_bytes", "heap_allocations", "gc_collections_total"},
       memory_leak},
      {"cpu_spike_traffic_surge",
       {"cpu_usage_percent", "http_requests_per_second", "http_request_duration_p95_seconds"},
       cpu_spike},
      {"latency_spike_database",
       {"http_request_duration_p95_seconds", "db_query_duration_seconds", "db_connections_active"},
       latency_spike},
      {"pod_crash_loop",
       {"kube_pod_container_restarts_total", "kube_pod_ready_count", "http_requests_per_second"},
       crash_loop},
      {"dependency_failure_timeout",
       {"external_api_call_duration_seconds", "http_500_errors"},
       dependency},
  };
  for (const auto& k : kKnown) {
    if (k.id != sc.id) continue;
    bool complete = true;
    for (auto name : k.quotes) complete &= find_metric(sc, name) != nullptr;
    if (complete) return k.tell(Numbers{sc});
  }
  return generic(sc);
}

int tell_incident_story(const IncidentScenario& sc, const IncidentRunOptions& options,
                        const Style& st, bool pause) {
  const IncidentStory story = incident_story(sc);
  fmt::print("{}\n", st.bold(fmt::format("{} — {}", sc.name, story.title)));
  fmt::print("{}\n", st.dim(fmt::format("{} · {} · severity {} · {}", sc.id, sc.service,
                                        incidents::to_string(sc.severity),
                                        incidents::to_string(sc.difficulty))));

  act(1, "The calm", st);
  paragraph(story.calm);
  fmt::print("\n");
  for (const auto& m : sc.metrics)
    fmt::print("    {:<36} {}\n", m.name, st.green(say(m.baseline, m.unit)));
  pause_here(pause, st);

  act(2, "Something is wrong", st);
  paragraph(story.wrong);
  fmt::print("\n");
  for (const auto& m : sc.metrics)
    fmt::print(
        "    {:<36} {} → {}  {}\n", m.name, say(m.baseline, m.unit),
        st.red(st.bold(say(m.value, m.unit))),
        st.dim(fmt::format("{:.1f}σ, {}", incidents::deviation_sigma(m.value, m.baseline, m.sigma),
                           incidents::to_string(m.pattern))));
  fmt::print("\n");
  IncidentRunResult r;
  try {
    r = run_incident_scenario(sc, options, st);
  } catch (const IncidentRunError& e) {
    fmt::print(stderr, "trafficsim incident: {}\n", e.what());
    return e.exit_code;
  }
  fmt::print("\n  Incident {} is open: {}, severity {}.\n", st.bold(r.incident.id),
             r.incident.title, r.incident.severity);
  pause_here(pause, st);

  act(3, "The diagnosis", st);
  paragraph(story.diagnosis);
  fmt::print("\n");
  print_hypotheses(r.incident.hypotheses, st, /*with_evidence=*/false);
  if (!r.incident.hypotheses.empty()) {
    const auto& top = r.incident.hypotheses.front();
    fmt::print("\n  {} {} leads with {:.0f} % confidence because:\n", st.bold("Why:"),
               st.cyan(top.category), top.confidence * 100);
    for (const auto& e : top.evidence) fmt::print("    · {}\n", e);
    if (!sc.expected_root_cause.empty())
      fmt::print(
          "  {}\n",
          top.category == sc.expected_root_cause
              ? st.green("✓ the cause the scenario was built around: " + sc.expected_root_cause)
              : st.yellow("✗ the scenario was built around " + sc.expected_root_cause +
                          "; the analysis saw otherwise"));
  }
  pause_here(pause, st);

  act(4, "The fix", st);
  paragraph(story.fix);
  fmt::print("\n");
  print_actions(r.incident.actions, st);
  fmt::print("\n");
  paragraph(st.dim(story.moral));
  fmt::print("\n  {} {}\n", st.bold("See it on the dashboard:"), st.cyan(r.incident_url));
  if (!r.metrics_injected)
    fmt::print("  {}\n", st.dim("(metrics simulated for the analysis; nothing was published on a "
                                "/metrics — use --server with `trafficsim demo` to inject them)"));
  return r.status == "failed" ? kExitRunFailed : kExitOk;
}

}  // namespace trafficsim::cli
