#include "scenarios/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

#include "http/url.hpp"
#include "scenarios/body_counters.hpp"
#include "scenarios/rate_spec.hpp"
#include "scenarios/request_spec.hpp"
#include "scenarios/samples.hpp"
#include "scenarios/variables.hpp"
#include "scenarios/yaml_reader.hpp"

namespace trafficsim::scenarios {

namespace fs = std::filesystem;

Source read_source(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw ScenarioError(fmt::format("{}: is a directory", path));
  Source src{path, "", false};
  if (auto why = read_text(path, &src.text); !why.empty())
    throw ScenarioError(fmt::format("{}: cannot read the file ({})", path, why));
  return src;
}

namespace {

// Reading one scenario file: its reader (with the file's variables) and what was read so far.
class ScenarioReader {
 public:
  ScenarioReader(const Source& source, const LoadOptions& options, Scenario& out)
      : options_(options), out_(out), variables_(options, out.used_params),
        r_(source, &variables_) {}

  void scenario(const YAML::Node& root) {
    if (!root.IsMap()) r_.fail(root, "", "expected a scenario: a mapping with 'streams'");
    if (root["phases"])
      r_.fail(root["phases"], "phases", "this is a demo script: play it with 'trafficsim play'");
    r_.check_keys(root, "",
                  {"name", "description", "demo_clock", "duration", "samples", "streams",
                   "thresholds"});
    out_.name = root["name"] ? r_.str(root["name"], "name")
                             : fs::path(r_.source().path).stem().string();
    if (root["description"]) out_.description = r_.str(root["description"], "description");
    out_.demo_clock = root["demo_clock"] ? r_.boolean(root["demo_clock"], "demo_clock") : false;
    if (root["duration"]) out_.duration = r_.duration(root["duration"], "duration");
    bool override_used = false;
    sets_ = read_samples(r_, root["samples"], options_.samples_override, &override_used);
    if (!options_.samples_override.empty() && !override_used)
      throw ScenarioError(fmt::format(
          "--samples: scenario '{}' has no sample set named 'emails' to replace", out_.name));
    const auto& streams = root["streams"];
    if (!streams || !streams.IsSequence() || streams.size() == 0)
      r_.fail(root, "streams", "needs 'streams': a non-empty list");
    std::set<std::string> names;
    for (size_t i = 0; i < streams.size(); ++i) {
      auto s = stream(streams[i], fmt::format("streams[{}]", i));
      if (!s) continue;
      if (!names.insert(s->name).second)
        r_.fail(streams[i], fmt::format("streams[{}]", i),
                fmt::format("duplicate stream name '{}'", s->name));
      out_.streams.push_back(std::move(*s));
    }
    if (out_.streams.empty()) r_.fail(streams, "streams", "every stream is disabled");
    thresholds(root["thresholds"], "thresholds", out_.thresholds);
    out_.samples_digest = samples_digest(sets_);
  }

 private:
  void thresholds(const YAML::Node& node, const std::string& field, std::vector<Threshold>& out) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsSequence())
      r_.fail(node, field, "expected a list of conditions such as 'p95 < 500ms'");
    for (size_t i = 0; i < node.size(); ++i) {
      std::string f = fmt::format("{}[{}]", field, i);
      try {
        out.push_back(parse_threshold(r_.str(node[i], f)));
      } catch (const std::invalid_argument& e) {
        r_.fail(node[i], f, e.what());
      }
    }
  }

  std::optional<StreamSpec> stream(const YAML::Node& node, const std::string& field) {
    r_.check_keys(node, field,
                  {"name", "enabled", "tag", "url", "rate", "arrivals", "gap_jitter", "timeout",
                   "connections", "hard_cap", "headers", "expect", "rotate", "endpoints",
                   "requests", "count", "thresholds"});
    if (node["enabled"] && !r_.boolean(node["enabled"], field + ".enabled")) return std::nullopt;
    StreamSpec s;
    if (!node["name"]) r_.fail(node, field, "needs a 'name' (it tags the traffic and the report)");
    s.name = r_.str(node["name"], field + ".name");
    if (s.name.empty()) r_.fail(node["name"], field + ".name", "must not be empty");
    std::string f = field + "(" + s.name + ")";
    if (node["url"]) s.url = r_.str(node["url"], f + ".url");
    if (!node["rate"]) r_.fail(node, f, "needs a 'rate' (e.g. 10, 600rpm, or {peak: 20})");
    s.rate = read_rate_spec(r_, node["rate"], f + ".rate", out_.demo_clock);
    if (node["arrivals"]) {
      std::string a = r_.str(node["arrivals"], f + ".arrivals");
      if (a == "poisson")
        s.poisson = true;
      else if (a != "uniform")
        r_.fail(node["arrivals"], f + ".arrivals",
                fmt::format("expected uniform or poisson, got '{}'", a));
    }
    if (node["gap_jitter"]) {
      const auto& g = node["gap_jitter"];
      if (!g.IsSequence() || g.size() != 2)
        r_.fail(g, f + ".gap_jitter", "expected [min, max], e.g. [100ms, 500ms]");
      double a = static_cast<double>(r_.duration_or_zero(g[0], f + ".gap_jitter").count()) / 1e9;
      double b = static_cast<double>(r_.duration_or_zero(g[1], f + ".gap_jitter").count()) / 1e9;
      if (a > b) r_.fail(g, f + ".gap_jitter", "min is above max");
      s.gap_jitter_s = std::make_pair(a, b);
    }
    if (node["timeout"]) s.timeout = r_.duration(node["timeout"], f + ".timeout");
    if (node["connections"])
      s.connections = static_cast<int>(
          r_.number(node["connections"], f + ".connections", 1, 100000));
    if (node["hard_cap"]) {
      const auto& h = node["hard_cap"];
      if (h.IsMap()) {
        r_.check_keys(h, f + ".hard_cap", {"capacity", "refill"});
        double refill = h["refill"] ? r_.rate(h["refill"], f + ".hard_cap.refill", false) : 0;
        if (!h["refill"]) r_.fail(h, f + ".hard_cap", "needs 'refill' (tokens per second)");
        double cap = h["capacity"] ? r_.number(h["capacity"], f + ".hard_cap.capacity", 1, 1e9)
                                   : refill;
        s.hard_cap = load::HardCap{cap, refill};
      } else {
        double r = r_.rate(h, f + ".hard_cap", false);
        s.hard_cap = load::HardCap{r, r};
      }
    }
    RequestDefaults d = read_request_defaults(r_, node, f, s.name);
    if (node["count"]) {
      const auto& c = node["count"];
      if (!c.IsMap())
        r_.fail(c, f + ".count",
                "expected a mapping of counter name: JSON path (e.g. tokens.input)");
      for (const auto& kv : c) {
        std::string name = kv.first.as<std::string>();
        std::string path = r_.str(kv.second, f + ".count." + name);
        if (path.empty() || path.front() == '.' || path.back() == '.')
          r_.fail(kv.second, f + ".count." + name, fmt::format("'{}' is not a dotted path", path));
        s.counters.emplace_back(name, path);
      }
    }
    read_requests(r_, sets_, node, f, d, s);
    thresholds(node["thresholds"], f + ".thresholds", s.thresholds);
    return s;
  }

  const LoadOptions& options_;
  Scenario& out_;
  Variables variables_;
  YamlReader r_;
  SampleSets sets_;
};

}  // namespace

Scenario load_scenario(const Source& source, const LoadOptions& options) {
  try {
    Scenario out;
    out.source = source;
    YAML::Node root = parse_yaml(source);
    ScenarioReader reader(out.source, options, out);
    try {
      reader.scenario(root);
    } catch (const YAML::Exception& e) {
      std::string where = e.mark.line >= 0 ? fmt::format(":{}", e.mark.line + 1) : "";
      throw ScenarioError(fmt::format("{}{}: {}", source.path, where, e.msg));
    }
    return out;
  } catch (const std::bad_alloc&) {
    throw ScenarioError(fmt::format("{}: out of memory while loading the scenario", source.path));
  } catch (const std::length_error&) {
    throw ScenarioError(fmt::format("{}: out of memory while loading the scenario", source.path));
  }
}

// ---- binding to a run ---------------------------------------------------------------------

load::Plan build_plan(const Scenario& sc, const BuildOptions& o) {
  load::Plan plan;
  plan.model = load::LoadModel::open;
  plan.seed = o.seed;
  plan.threads = std::max(1, o.threads);
  plan.content_digest = sc.samples_digest;
  if (sc.demo_clock && !o.clock)
    throw ScenarioError(fmt::format("{}: needs the demo clock", sc.source.path));
  std::chrono::nanoseconds duration{0};
  if (o.duration) {
    duration = *o.duration;
  } else if (sc.duration) {
    duration = *sc.duration;
  } else if (sc.demo_clock) {
    // What is left of the story at this clock (always at least a demo minute).
    double m0 = demo_minute(*o.clock, o.now_unix);
    double wait = std::max(0.0, o.clock->start_unix - o.now_unix);
    double left_min = std::max(1.0, o.clock->duration_minutes - m0);
    duration = std::chrono::nanoseconds(
        static_cast<int64_t>((wait + left_min * 60.0 / o.clock->time_scale) * 1e9));
  } else {
    throw ScenarioError(fmt::format(
        "{}: no duration: give 'duration:' in the file or --duration", sc.source.path));
  }
  plan.duration = duration;
  double duration_s = static_cast<double>(duration.count()) / 1e9;
  for (const auto& spec : sc.streams) {
    load::Stream s;
    s.name = spec.name;
    std::string url = spec.url.empty() ? o.url : spec.url;
    std::string error;
    auto parsed = http::parse_url(url, &error);
    if (!parsed)
      throw ScenarioError(fmt::format("stream '{}': invalid URL '{}': {}", spec.name, url, error));
    s.url = *parsed;
    s.profile = rate_profile(spec.rate, duration_s, o.clock ? &*o.clock : nullptr, o.now_unix);
    s.process = spec.poisson ? core::ArrivalProcess::poisson : core::ArrivalProcess::uniform;
    s.gap_jitter_s = spec.gap_jitter_s;
    s.timeout = spec.timeout;
    s.hard_cap = spec.hard_cap;
    if (o.hard_cap) s.hard_cap = load::HardCap{*o.hard_cap, *o.hard_cap};
    double peak = s.profile.peak_rate();
    if (s.hard_cap) peak = std::min(peak, s.hard_cap->refill_per_s);
    double timeout_s = static_cast<double>(spec.timeout.count()) / 1e9;
    // Enough connections for every request that can be in flight (rate x timeout), so the
    // generator never becomes the bottleneck of a slow target; at most kMaxSizedConnections,
    // so that what a stream costs does not grow with its rate (connections open on demand).
    s.connections = spec.connections > 0
                        ? spec.connections
                        : static_cast<int>(std::clamp(std::ceil(peak * timeout_s * 1.25) + 8,
                                                      16.0, double{kMaxSizedConnections}));
    // s.backlog keeps the engine's default (load::Stream), the bound bench uses: arrivals
    // waiting for a connection are bounded by it, not by rate x duration (each worker
    // preallocates its share).
    s.requests = spec.requests;
    s.groups = spec.groups;
    if (!spec.counters.empty()) {
      s.keep_bodies = true;
      std::vector<std::string> paths;
      for (const auto& [name, path] : spec.counters) {
        s.counter_names.push_back(name);
        paths.push_back(path);
      }
      s.extractor = make_field_counter(std::move(paths));
    }
    plan.streams.push_back(std::move(s));
  }
  plan.apply_hard_caps();
  double arrivals = 0;
  for (const auto& s : plan.streams) arrivals += s.profile.total_arrivals();
  if (arrivals <= 0)
    throw ScenarioError(fmt::format(
        "{}: nothing to send: every stream's rate is 0 for the whole run", sc.source.path));
  return plan;
}

}  // namespace trafficsim::scenarios
