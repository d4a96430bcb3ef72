// Loading an incident file. The YAML side is scenarios/yaml_reader (the one reader of this
// project's files: bounded expansion, "FILE:LINE: FIELD: what" errors, unknown keys refused);
// this file says which keys an incident has and which values they may take.
#include "incidents/incident_scenario.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "scenarios/scenario.hpp"
#include "scenarios/yaml_reader.hpp"

namespace trafficsim::incidents {

namespace {

using scenarios::YamlReader;

// Far beyond any metric (8 GiB is 8.6e9) yet far from where doubles lose whole units.
constexpr double kMaxMagnitude = 1e15;
constexpr double kMaxDeviationSigma = 1000;
constexpr double kMaxMinutesAgo = 60.0 * 24 * 365;

bool is_id(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The Prometheus metric-name rule.
bool is_metric_name(std::string_view s) {
  auto first = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  auto rest = [&](char c) { return first(c) || (c >= '0' && c <= '9'); };
  return !s.empty() && first(s[0]) && std::all_of(s.begin() + 1, s.end(), rest);
}

// Reads one file's fields; every failure goes through reader_.fail (a ScenarioError, which
// load_incident_scenario says as an IncidentError).
class IncidentReader {
 public:
  explicit IncidentReader(const scenarios::Source& source) : reader_(source) {}

  IncidentScenario read(const YAML::Node& root) {
    reader_.check_keys(
        root, "",
        {"id", "name", "description", "service", "severity", "difficulty", "tags",
         "duration_seconds", "metrics", "context", "expected_root_cause", "expected_action_types"});
    IncidentScenario s;
    s.id = token(required(root, "", "id"), "id");
    s.name = text(required(root, "", "name"), "name");
    s.description = text(required(root, "", "description"), "description");
    s.service = text(required(root, "", "service"), "service");

    const YAML::Node severity = required(root, "", "severity");
    auto sev = parse_severity(reader_.str(severity, "severity"));
    if (!sev) reader_.fail(severity, "severity", "expected one of: critical, high, medium, low");
    s.severity = *sev;

    const YAML::Node difficulty = required(root, "", "difficulty");
    auto diff = parse_difficulty(reader_.str(difficulty, "difficulty"));
    if (!diff)
      reader_.fail(difficulty, "difficulty", "expected one of: beginner, intermediate, advanced");
    s.difficulty = *diff;

    if (root["tags"]) s.tags = tokens(root["tags"], "tags", false);
    s.duration_seconds = reader_.number(required(root, "", "duration_seconds"), "duration_seconds",
                                        kMinDurationSeconds, kMaxDurationSeconds);

    const YAML::Node metrics = required(root, "", "metrics");
    if (!metrics.IsSequence() || metrics.size() == 0)
      reader_.fail(metrics, "metrics", "expected a list of at least one metric");
    std::set<std::string> names;
    for (size_t i = 0; i < metrics.size(); ++i) {
      std::string field = fmt::format("metrics[{}]", i);
      MetricSpec m = metric(metrics[i], field);
      // The name keys the metric's noise (metric_pattern.hpp): two alike would draw alike.
      if (!names.insert(m.name).second)
        reader_.fail(metrics[i]["name"], field + ".name",
                     fmt::format("'{}' is already the name of an earlier metric", m.name));
      s.metrics.push_back(std::move(m));
    }

    if (root["context"]) s.context = context(root["context"]);
    s.expected_root_cause = token(required(root, "", "expected_root_cause"), "expected_root_cause");
    s.expected_action_types =
        tokens(required(root, "", "expected_action_types"), "expected_action_types", true);
    return s;
  }

 private:
  YAML::Node required(const YAML::Node& map, const std::string& parent, const char* key) {
    std::string field = parent.empty() ? key : parent + "." + key;
    YAML::Node n = map[key];
    if (!n || n.IsNull()) reader_.fail(map, field, "required");
    return n;
  }

  std::string text(const YAML::Node& node, const std::string& field) {
    std::string s = reader_.str(node, field);
    if (s.empty()) reader_.fail(node, field, "must not be empty");
    return s;
  }

  // An identifier: ids, tags, root causes and action types are compared, not read.
  std::string token(const YAML::Node& node, const std::string& field) {
    std::string s = reader_.str(node, field);
    if (!is_id(s))
      reader_.fail(node, field, fmt::format("'{}' must be lower-case letters, digits and '_'", s));
    return s;
  }

  std::vector<std::string> tokens(const YAML::Node& node, const std::string& field,
                                  bool non_empty) {
    if (!node.IsSequence()) reader_.fail(node, field, "expected a list");
    if (non_empty && node.size() == 0) reader_.fail(node, field, "expected at least one");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i)
      out.push_back(token(node[i], fmt::format("{}[{}]", field, i)));
    return out;
  }

  std::vector<std::string> texts(const YAML::Node& node, const std::string& field) {
    if (!node.IsSequence()) reader_.fail(node, field, "expected a list");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i)
      out.push_back(text(node[i], fmt::format("{}[{}]", field, i)));
    return out;
  }

  double magnitude(const YAML::Node& node, const std::string& field) {
    return reader_.number(node, field, -kMaxMagnitude, kMaxMagnitude);
  }

  MetricSpec metric(const YAML::Node& node, const std::string& field) {
    reader_.check_keys(node, field,
                       {"name", "description", "unit", "baseline", "value", "sigma",
                        "deviation_sigma", "pattern", "onset", "min", "max"});
    MetricSpec m;
    const YAML::Node name = required(node, field, "name");
    m.name = reader_.str(name, field + ".name");
    if (!is_metric_name(m.name))
      reader_.fail(
          name, field + ".name",
          fmt::format("'{}' is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", m.name));
    if (node["description"])
      m.description = reader_.str(node["description"], field + ".description");
    if (node["unit"]) m.unit = reader_.str(node["unit"], field + ".unit");

    const YAML::Node pattern = required(node, field, "pattern");
    auto p = parse_pattern(reader_.str(pattern, field + ".pattern"));
    if (!p)
      reader_.fail(pattern, field + ".pattern",
                   "expected one of: spike, gradual, step, drop, flapping, baseline");
    m.pattern = *p;

    m.baseline = magnitude(required(node, field, "baseline"), field + ".baseline");
    // A control metric has no anomalous value of its own.
    if (m.pattern == MetricPattern::baseline && !node["value"]) {
      m.value = m.baseline;
    } else {
      m.value = magnitude(required(node, field, "value"), field + ".value");
    }
    if (m.pattern == MetricPattern::drop && !(m.value < m.baseline))
      reader_.fail(node["value"], field + ".value",
                   fmt::format("a drop falls below the baseline: {:g} is not below {:g}", m.value,
                               m.baseline));

    // The noise: either σ itself, or (as the seed states it) how many σ the value lies from the
    // baseline, from which σ follows.
    const YAML::Node sigma = node["sigma"];
    const YAML::Node deviation = node["deviation_sigma"];
    if (sigma && deviation)
      reader_.fail(deviation, field + ".deviation_sigma",
                   "give either sigma or deviation_sigma, not both");
    if (sigma) {
      m.sigma = reader_.number(sigma, field + ".sigma", 0, kMaxMagnitude);
      if (!(m.sigma > 0)) reader_.fail(sigma, field + ".sigma", "must be greater than 0");
    } else if (deviation) {
      double n = reader_.number(deviation, field + ".deviation_sigma", 0, kMaxDeviationSigma);
      if (!(n > 0)) reader_.fail(deviation, field + ".deviation_sigma", "must be greater than 0");
      if (m.value == m.baseline)
        reader_.fail(deviation, field + ".deviation_sigma",
                     "value equals baseline, so no sigma follows from it: give sigma");
      m.sigma = std::abs(m.value - m.baseline) / n;
    } else {
      reader_.fail(node, field + ".sigma", "required (or deviation_sigma)");
    }

    if (node["onset"]) {
      m.onset = reader_.number(node["onset"], field + ".onset", 0, 1);
      if (m.onset >= 1)
        reader_.fail(node["onset"], field + ".onset",
                     "must be below 1 (a fraction of the duration, in [0, 1))");
    }

    if (m.baseline >= 0 && m.value >= 0) m.min = 0;
    if (node["min"]) m.min = magnitude(node["min"], field + ".min");
    if (node["max"]) m.max = magnitude(node["max"], field + ".max");
    for (auto [what, v] : {std::pair{"baseline", m.baseline}, std::pair{"value", m.value}}) {
      if (v < m.min || v > m.max) {
        const char* key = v < m.min ? "min" : "max";
        YAML::Node at = node[key] ? node[key] : node[what];
        reader_.fail(
            at, field + "." + key,
            fmt::format("{} {:g} lies outside [min, max] = [{:g}, {:g}]", what, v, m.min, m.max));
      }
    }
    return m;
  }

  IncidentContext context(const YAML::Node& node) {
    reader_.check_keys(node, "context", {"recent_deployments", "dependencies", "notes"});
    IncidentContext c;
    if (const YAML::Node list = node["recent_deployments"]) {
      if (!list.IsSequence()) reader_.fail(list, "context.recent_deployments", "expected a list");
      for (size_t i = 0; i < list.size(); ++i) {
        std::string field = fmt::format("context.recent_deployments[{}]", i);
        const YAML::Node d = list[i];
        reader_.check_keys(d, field, {"service", "version", "minutes_ago", "change"});
        Deployment dep;
        dep.service = text(required(d, field, "service"), field + ".service");
        dep.version = text(required(d, field, "version"), field + ".version");
        dep.minutes_ago = reader_.number(required(d, field, "minutes_ago"), field + ".minutes_ago",
                                         0, kMaxMinutesAgo);
        if (d["change"]) dep.change = reader_.str(d["change"], field + ".change");
        c.recent_deployments.push_back(std::move(dep));
      }
    }
    if (node["dependencies"]) c.dependencies = texts(node["dependencies"], "context.dependencies");
    if (node["notes"]) c.notes = texts(node["notes"], "context.notes");
    return c;
  }

  YamlReader reader_;
};

}  // namespace

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::critical:
      return "critical";
    case Severity::high:
      return "high";
    case Severity::medium:
      return "medium";
    case Severity::low:
      return "low";
  }
  return "";
}

std::string_view to_string(Difficulty d) {
  switch (d) {
    case Difficulty::beginner:
      return "beginner";
    case Difficulty::intermediate:
      return "intermediate";
    case Difficulty::advanced:
      return "advanced";
  }
  return "";
}

std::string_view to_string(MetricPattern p) {
  switch (p) {
    case MetricPattern::spike:
      return "spike";
    case MetricPattern::gradual:
      return "gradual";
    case MetricPattern::step:
      return "step";
    case MetricPattern::drop:
      return "drop";
    case MetricPattern::flapping:
      return "flapping";
    case MetricPattern::baseline:
      return "baseline";
  }
  return "";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (Severity s : {Severity::critical, Severity::high, Severity::medium, Severity::low})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

std::optional<Difficulty> parse_difficulty(std::string_view text) {
  for (Difficulty d : {Difficulty::beginner, Difficulty::intermediate, Difficulty::advanced})
    if (text == to_string(d)) return d;
  return std::nullopt;
}

std::optional<MetricPattern> parse_pattern(std::string_view text) {
  for (MetricPattern p : {MetricPattern::spike, MetricPattern::gradual, MetricPattern::step,
                          MetricPattern::drop, MetricPattern::flapping, MetricPattern::baseline})
    if (text == to_string(p)) return p;
  return std::nullopt;
}

IncidentScenario load_incident_scenario(std::string_view text, const std::string& file_name) {
  scenarios::Source source{file_name, std::string(text), false};
  try {
    YAML::Node root = scenarios::parse_yaml(source);
    if (!root.IsMap())
      throw scenarios::ScenarioError(fmt::format(
          "{}: expected a mapping of the incident's fields (id: ..., metrics: ...)", file_name));
    return IncidentReader(source).read(root);
  } catch (const scenarios::ScenarioError& e) {
    throw IncidentError(e.what());
  }
}

IncidentScenario load_incident_scenario_file(const std::filesystem::path& path) {
  std::string text;
  if (std::string why = scenarios::read_text(path, &text); !why.empty())
    throw IncidentError(fmt::format("{}: {}", path.string(), why));
  return load_incident_scenario(text, path.string());
}

}  // namespace trafficsim::incidents
