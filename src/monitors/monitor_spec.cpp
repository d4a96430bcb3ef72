#include "monitors/monitor_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "scenarios/scenario.hpp"
#include "scenarios/yaml_reader.hpp"

namespace trafficsim::monitors {

// The embedded monitors/*.yaml (src/CMakeLists.txt, cmake/embed_files.cmake).
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_monitor_files();

namespace {

using scenarios::YamlReader;

// '*' matches any run of characters; everything else itself.
bool glob(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] != '*' && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool valid_metric_name(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  });
}

std::string metric_name(YamlReader& r, const YAML::Node& node, const std::string& field) {
  std::string name = r.str(node, field);
  if (!valid_metric_name(name))
    r.fail(node, field, fmt::format("'{}' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", name));
  return name;
}

std::vector<LabelMatcher> matchers(YamlReader& r, const YAML::Node& node, const std::string& field) {
  std::vector<LabelMatcher> out;
  if (!node) return out;
  if (!node.IsMap()) r.fail(node, field, "expected a mapping of label: pattern");
  for (const auto& kv : node) {
    std::string label = kv.first.as<std::string>();
    if (!valid_metric_name(label) || label.find(':') != std::string::npos)
      r.fail(kv.first, field, fmt::format("'{}' is not a label name", label));
    LabelMatcher m;
    m.label = label;
    m.pattern = r.str(kv.second, field + "." + label);
    if (m.pattern.starts_with('!')) {
      m.negate = true;
      m.pattern.erase(0, 1);
    }
    out.push_back(std::move(m));
  }
  return out;
}

Signal parse_signal(YamlReader& r, const YAML::Node& node, const std::string& field) {
  if (!node || !node.IsMap()) r.fail(node, field, "expected a mapping (quantile, ratio, mean or gauge)");
  r.check_keys(node, field,
               {"quantile", "metric", "match", "ratio", "of", "of_match", "mean", "gauge", "scale",
                "unit"});
  Signal s;
  int kinds = 0;
  if (node["quantile"]) {
    ++kinds;
    s.kind = SignalKind::quantile;
    s.q = r.number(node["quantile"], field + ".quantile", 0, 1);
    if (!node["metric"]) r.fail(node, field + ".metric", "a quantile needs the histogram's metric");
    s.metric.metric = metric_name(r, node["metric"], field + ".metric");
  }
  if (node["ratio"]) {
    ++kinds;
    s.kind = SignalKind::ratio;
    s.numerator.metric = metric_name(r, node["ratio"], field + ".ratio");
    if (!node["of"]) r.fail(node, field + ".of", "a ratio needs its denominator (of: METRIC)");
    s.denominator.metric = metric_name(r, node["of"], field + ".of");
    s.numerator.match = matchers(r, node["match"], field + ".match");
    s.denominator.match = matchers(r, node["of_match"], field + ".of_match");
  }
  if (node["mean"]) {
    ++kinds;
    s.kind = SignalKind::mean;
    s.metric.metric = metric_name(r, node["mean"], field + ".mean");
  }
  if (node["gauge"]) {
    ++kinds;
    s.kind = SignalKind::gauge;
    s.metric.metric = metric_name(r, node["gauge"], field + ".gauge");
  }
  if (kinds != 1) r.fail(node, field, "give exactly one of quantile, ratio, mean, gauge");
  if (s.kind != SignalKind::ratio) s.metric.match = matchers(r, node["match"], field + ".match");
  if (s.kind == SignalKind::ratio && node["metric"])
    r.fail(node["metric"], field + ".metric", "a ratio names its counters with ratio: and of:");
  if (s.kind != SignalKind::ratio && (node["of"] || node["of_match"]))
    r.fail(node, field + ".of", "only a ratio has a denominator");
  if (node["scale"]) s.scale = r.number(node["scale"], field + ".scale", 1e-12, 1e12);
  if (node["unit"]) s.unit = r.str(node["unit"], field + ".unit");
  return s;
}

MonitorSpec parse_monitor(YamlReader& r, const YAML::Node& node, const std::string& field) {
  if (!node.IsMap()) r.fail(node, field, "expected a mapping (name, signal, above|below, ...)");
  r.check_keys(node, field,
               {"name", "id", "description", "service", "severity", "signal", "above", "below",
                "recover", "window", "for", "above_baseline", "recover_baseline", "baseline",
                "min_baseline", "objective", "burn", "no_data", "runbook"});
  MonitorSpec m;
  if (!node["name"]) r.fail(node, field + ".name", "a monitor needs a name");
  m.name = r.str(node["name"], field + ".name");
  if (m.name.empty()) r.fail(node["name"], field + ".name", "must not be empty");
  m.id = node["id"] ? r.str(node["id"], field + ".id") : monitor_id(m.name);
  if (m.id.empty() || !std::all_of(m.id.begin(), m.id.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
      }))
    r.fail(node["id"] ? node["id"] : node["name"], field + ".id", "must be [a-z0-9_]+");
  if (node["description"]) m.description = r.str(node["description"], field + ".description");
  if (node["service"]) m.service = r.str(node["service"], field + ".service");
  if (node["runbook"]) m.runbook = r.str(node["runbook"], field + ".runbook");
  if (node["severity"]) {
    m.severity = r.str(node["severity"], field + ".severity");
    if (m.severity != "page" && m.severity != "ticket" && m.severity != "warning" && m.severity != "info")
      r.fail(node["severity"], field + ".severity", "expected page, ticket, warning or info");
  }
  m.signal = parse_signal(r, node["signal"], field + ".signal");
  if (node["window"]) m.window = r.duration(node["window"], field + ".window");
  if (node["for"]) m.for_duration = r.duration_or_zero(node["for"], field + ".for");
  if (node["no_data"]) {
    std::string nd = r.str(node["no_data"], field + ".no_data");
    if (nd == "keep") m.no_data = NoData::keep;
    else if (nd == "ok") m.no_data = NoData::ok;
    else if (nd == "alert") m.no_data = NoData::alert;
    else r.fail(node["no_data"], field + ".no_data", "expected keep, ok or alert");
  }

  bool burn = node["objective"] || node["burn"];
  bool baseline = node["above_baseline"] || node["baseline"];
  int thresholds = (node["above"] ? 1 : 0) + (node["below"] ? 1 : 0);
  if (burn) {
    if (!node["objective"] || !node["burn"])
      r.fail(node, field + (node["objective"] ? ".burn" : ".objective"),
             "a burn-rate monitor needs objective and burn");
    if (thresholds || baseline)
      r.fail(node, field, "a burn-rate monitor has no above/below or baseline threshold");
    if (m.signal.kind != SignalKind::ratio)
      r.fail(node["signal"], field + ".signal", "a burn-rate monitor's signal is an error ratio");
    m.objective = r.number(node["objective"], field + ".objective", 0.5, 0.999999);
    if (!node["burn"].IsSequence() || node["burn"].size() == 0)
      r.fail(node["burn"], field + ".burn", "expected a list of {long, short, factor}");
    for (size_t i = 0; i < node["burn"].size(); ++i) {
      const YAML::Node& b = node["burn"][i];
      std::string bf = fmt::format("{}.burn[{}]", field, i);
      if (!b.IsMap()) r.fail(b, bf, "expected {long, short, factor}");
      r.check_keys(b, bf, {"long", "short", "factor"});
      for (const char* k : {"long", "short", "factor"})
        if (!b[k]) r.fail(b, bf + "." + k, "missing");
      BurnWindow w{r.duration(b["long"], bf + ".long"), r.duration(b["short"], bf + ".short"),
                   r.number(b["factor"], bf + ".factor", 1e-6, 1e6)};
      if (w.short_window >= w.long_window)
        r.fail(b["short"], bf + ".short", "must be shorter than long");
      m.burn.push_back(w);
    }
    m.comparison = Comparison::above;
    return m;
  }
  if (baseline) {
    if (!node["above_baseline"] || !node["baseline"])
      r.fail(node, field + (node["baseline"] ? ".above_baseline" : ".baseline"),
             "an anomaly monitor needs above_baseline (a factor) and baseline (a duration)");
    if (thresholds) r.fail(node, field, "give above_baseline or above/below, not both");
    m.baseline_factor = r.number(node["above_baseline"], field + ".above_baseline", 1e-6, 1e6);
    m.baseline = r.duration(node["baseline"], field + ".baseline");
    if (node["min_baseline"]) m.min_baseline = r.duration(node["min_baseline"], field + ".min_baseline");
    double recover = node["recover_baseline"]
                         ? r.number(node["recover_baseline"], field + ".recover_baseline", 1e-6, 1e6)
                         : *m.baseline_factor;
    if (recover > *m.baseline_factor)
      r.fail(node["recover_baseline"], field + ".recover_baseline", "must not be above above_baseline");
    m.recover = recover;  // a factor of the baseline, like the threshold
    m.threshold = *m.baseline_factor;
    return m;
  }
  if (thresholds != 1) r.fail(node, field, "give one threshold: above or below");
  if (node["recover_baseline"] || node["min_baseline"])
    r.fail(node, field, "recover_baseline and min_baseline belong to anomaly monitors");
  m.comparison = node["above"] ? Comparison::above : Comparison::below;
  const char* key = node["above"] ? "above" : "below";
  m.threshold = r.number(node[key], field + "." + key, -1e15, 1e15);
  if (node["recover"]) {
    m.recover = r.number(node["recover"], field + ".recover", -1e15, 1e15);
    bool wrong = m.comparison == Comparison::above ? *m.recover > m.threshold : *m.recover < m.threshold;
    if (wrong)
      r.fail(node["recover"], field + ".recover",
             m.comparison == Comparison::above ? "must not be above the threshold"
                                               : "must not be below the threshold");
  }
  return m;
}

}  // namespace

bool LabelMatcher::matches(const std::string* value) const {
  bool hit = value != nullptr && glob(pattern, *value);
  return negate ? !hit : hit;
}

Duration MonitorSpec::history() const {
  Duration h = window + (baseline_factor ? baseline : Duration{});
  for (const auto& b : burn) h = std::max(h, b.long_window);
  return h;
}

MonitorSpec MonitorSpec::scaled(double s) const {
  MonitorSpec m = *this;
  auto div = [s](Duration d) { return Duration(static_cast<int64_t>(static_cast<double>(d.count()) / s)); };
  m.window = div(window);
  m.for_duration = div(for_duration);
  m.baseline = div(baseline);
  m.min_baseline = div(min_baseline);
  for (auto& b : m.burn) {
    b.long_window = div(b.long_window);
    b.short_window = div(b.short_window);
  }
  return m;
}

std::string monitor_id(const std::string& name) {
  std::string id;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!id.empty() && id.back() != '_') {
      id += '_';
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  return id;
}

std::vector<MonitorSpec> load_monitors(const std::string& text, const std::string& file_name) {
  scenarios::Source source{file_name, text, false};
  try {
    YAML::Node root = scenarios::parse_yaml(source);
    YamlReader r(source);
    if (!root.IsMap()) r.fail(root, "", "expected a mapping with monitors: [...]");
    r.check_keys(root, "", {"monitors"});
    const YAML::Node& list = root["monitors"];
    if (!list || !list.IsSequence() || list.size() == 0)
      r.fail(list ? list : root, "monitors", "expected a non-empty list of monitors");
    std::vector<MonitorSpec> out;
    for (size_t i = 0; i < list.size(); ++i) {
      MonitorSpec m = parse_monitor(r, list[i], fmt::format("monitors[{}]", i));
      for (const auto& other : out)
        if (other.id == m.id)
          r.fail(list[i], fmt::format("monitors[{}].name", i),
                 fmt::format("a second monitor with id '{}'", m.id));
      out.push_back(std::move(m));
    }
    return out;
  } catch (const scenarios::ScenarioError& e) {
    throw MonitorFileError(e.what());
  }
}

std::vector<MonitorSpec> load_monitors_file(const std::string& path) {
  std::string text;
  if (std::string why = scenarios::read_text(path, &text); !why.empty())
    throw MonitorFileError(fmt::format("{}: {}", path, why));
  return load_monitors(text, path);
}

std::string_view builtin_monitors_text() {
  for (const auto& [name, text] : embedded_monitor_files())
    if (name == "default.yaml") return text;
  return {};
}

const std::vector<MonitorSpec>& builtin_monitors() {
  static const std::vector<MonitorSpec> monitors =
      load_monitors(std::string(builtin_monitors_text()), "monitors/default.yaml");
  return monitors;
}

}  // namespace trafficsim::monitors
