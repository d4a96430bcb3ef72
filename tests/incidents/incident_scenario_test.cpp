// Custom incident files: a valid file loads with the documented defaults, and every mistake is
// refused with a message that names the file, the line and the field ("FILE:LINE: FIELD: what"),
// as every file this project reads does.
#include "incidents/incident_scenario.hpp"

#include <gtest/gtest.h>

#include <string>

#include "incidents/metric_pattern.hpp"

namespace trafficsim::incidents {
namespace {

// Line numbers matter: the tests below name them.
const std::string kValid =
    "id: checkout_errors\n"                        // 1
    "name: Checkout errors\n"                      // 2
    "description: The checkout starts failing.\n"  // 3
    "service: checkout-service\n"                  // 4
    "severity: high\n"                             // 5
    "difficulty: intermediate\n"                   // 6
    "tags: [errors]\n"                             // 7
    "duration_seconds: 120\n"                      // 8
    "metrics:\n"                                   // 9
    "  - name: http_error_ratio\n"                 // 10
    "    unit: ratio\n"                            // 11
    "    baseline: 0.01\n"                         // 12
    "    value: 0.15\n"                            // 13
    "    deviation_sigma: 5\n"                     // 14
    "    pattern: spike\n"                         // 15
    "expected_root_cause: bad_deployment\n"        // 16
    "expected_action_types: [rollback]\n";         // 17

// kValid with the text `from` replaced by `to` (which must occur).
std::string with(const std::string& from, const std::string& to, std::string text = kValid) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The IncidentError's message, or "" when the text loads.
std::string error_of(const std::string& text) {
  try {
    load_incident_scenario(text, "custom.yaml");
  } catch (const IncidentError& e) {
    return e.what();
  }
  return "";
}

// The message starts "custom.yaml:LINE: FIELD: " and goes on to say `what`.
void expect_error(const std::string& text, int line, const std::string& field,
                  const std::string& what) {
  std::string message = error_of(text);
  std::string prefix = "custom.yaml:" + std::to_string(line) + ": " + field + ": ";
  EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

TEST(IncidentScenarioTest, ValidCustomFileLoadsWithDefaults) {
  IncidentScenario s = load_incident_scenario(kValid, "custom.yaml");
  EXPECT_EQ(s.id, "checkout_errors");
  EXPECT_EQ(s.service, "checkout-service");
  EXPECT_EQ(s.severity, Severity::high);
  EXPECT_EQ(s.difficulty, Difficulty::intermediate);
  EXPECT_EQ(s.duration_seconds, 120);
  ASSERT_EQ(s.metrics.size(), 1u);
  const MetricSpec& m = s.metrics[0];
  EXPECT_EQ(m.pattern, MetricPattern::spike);
  EXPECT_EQ(m.onset, kDefaultOnset);
  EXPECT_NEAR(m.sigma, (0.15 - 0.01) / 5, 1e-12) << "sigma follows from deviation_sigma";
  EXPECT_EQ(m.min, 0) << "a non-negative metric is floored at 0";
  EXPECT_TRUE(s.context.recent_deployments.empty());
  EXPECT_EQ(s.expected_action_types, (std::vector<std::string>{"rollback"}));
}

TEST(IncidentScenarioTest, SigmaMayBeGivenDirectlyAndContextIsRead) {
  std::string text = with("    deviation_sigma: 5\n", "    sigma: 0.02\n    onset: 0.5\n") +
                     "context:\n"
                     "  recent_deployments:\n"
                     "    - service: checkout-service\n"
                     "      version: v9\n"
                     "      minutes_ago: 12\n"
                     "      change: New tax rules\n"
                     "  dependencies: [tax-service]\n"
                     "  notes: [Friday evening]\n";
  IncidentScenario s = load_incident_scenario(text, "custom.yaml");
  EXPECT_EQ(s.metrics[0].sigma, 0.02);
  EXPECT_EQ(s.metrics[0].onset, 0.5);
  ASSERT_EQ(s.context.recent_deployments.size(), 1u);
  EXPECT_EQ(s.context.recent_deployments[0].version, "v9");
  EXPECT_EQ(s.context.recent_deployments[0].minutes_ago, 12);
  EXPECT_EQ(s.context.dependencies, (std::vector<std::string>{"tax-service"}));
  EXPECT_EQ(s.context.notes, (std::vector<std::string>{"Friday evening"}));
}

TEST(IncidentScenarioTest, UnknownKeysAreRefusedWhereTheyStand) {
  expect_error(with("tags: [errors]\n", "tags: [errors]\ncolour: red\n"), 8, "colour",
               "unknown key (expected one of: id, name");
  expect_error(with("    unit: ratio\n", "    unit: ratio\n    shape: spike\n"), 12,
               "metrics[0].shape", "unknown key");
  expect_error(kValid + "context:\n  deployments: []\n", 19, "context.deployments",
               "unknown key (expected one of: recent_deployments, dependencies, notes)");
}

TEST(IncidentScenarioTest, SigmaMustBePositive) {
  expect_error(with("    deviation_sigma: 5\n", "    sigma: 0\n"), 14, "metrics[0].sigma",
               "must be greater than 0");
  expect_error(with("    deviation_sigma: 5\n", "    sigma: -1\n"), 14, "metrics[0].sigma",
               "out of range");
  expect_error(with("    deviation_sigma: 5\n", "    deviation_sigma: 0\n"), 14,
               "metrics[0].deviation_sigma", "must be greater than 0");
  expect_error(with("    deviation_sigma: 5\n", ""), 10, "metrics[0].sigma", "required");
  expect_error(with("    deviation_sigma: 5\n", "    deviation_sigma: 5\n    sigma: 1\n"), 14,
               "metrics[0].deviation_sigma", "not both");
}

TEST(IncidentScenarioTest, OnsetIsAFractionBelowOne) {
  expect_error(with("    pattern: spike\n", "    pattern: spike\n    onset: 1\n"), 16,
               "metrics[0].onset", "must be below 1");
  expect_error(with("    pattern: spike\n", "    pattern: spike\n    onset: -0.1\n"), 16,
               "metrics[0].onset", "out of range");
}

TEST(IncidentScenarioTest, DurationIsOneSecondToOneDay) {
  expect_error(with("duration_seconds: 120", "duration_seconds: 0.5"), 8, "duration_seconds",
               "out of range [1, 86400]");
  expect_error(with("duration_seconds: 120", "duration_seconds: 86401"), 8, "duration_seconds",
               "out of range");
  expect_error(with("duration_seconds: 120", "duration_seconds: five"), 8, "duration_seconds",
               "expected a number, got 'five'");
  EXPECT_EQ(error_of(with("duration_seconds: 120", "duration_seconds: 86400")), "");
}

TEST(IncidentScenarioTest, PatternMustBeKnown) {
  expect_error(with("pattern: spike", "pattern: wobble"), 15, "metrics[0].pattern",
               "expected one of: spike, gradual, step, drop, flapping, baseline");
}

TEST(IncidentScenarioTest, DropMustFallBelowTheBaseline) {
  expect_error(with("pattern: spike", "pattern: drop"), 13, "metrics[0].value",
               "a drop falls below the baseline");
}

TEST(IncidentScenarioTest, AtLeastOneMetricWithUniqueNames) {
  std::string no_metrics = kValid.substr(0, kValid.find("metrics:")) + "metrics: []\n" +
                           kValid.substr(kValid.find("expected_root_cause"));
  expect_error(no_metrics, 9, "metrics", "at least one metric");
  std::string twice = with("    pattern: spike\n",
                           "    pattern: spike\n"
                           "  - name: http_error_ratio\n"
                           "    baseline: 1\n"
                           "    sigma: 1\n"
                           "    pattern: baseline\n");
  expect_error(twice, 16, "metrics[1].name", "already the name of an earlier metric");
  expect_error(with("name: http_error_ratio", "name: http-error-ratio"), 10, "metrics[0].name",
               "not a Prometheus metric name");
}

TEST(IncidentScenarioTest, IdIsLowerCaseLettersDigitsAndUnderscores) {
  expect_error(with("id: checkout_errors", "id: Checkout-Errors"), 1, "id",
               "must be lower-case letters, digits and '_'");
}

TEST(IncidentScenarioTest, SeverityAndDifficultyAreFromTheirLists) {
  expect_error(with("severity: high", "severity: urgent"), 5, "severity",
               "expected one of: critical, high, medium, low");
  expect_error(with("difficulty: intermediate", "difficulty: expert"), 6, "difficulty",
               "expected one of: beginner, intermediate, advanced");
}

TEST(IncidentScenarioTest, MissingRequiredFieldsAreNamed) {
  expect_error(with("service: checkout-service\n", ""), 1, "service", "required");
  expect_error(with("expected_action_types: [rollback]", "expected_action_types: []"), 17,
               "expected_action_types", "at least one");
  expect_error(kValid + "context:\n  recent_deployments:\n    - service: a\n      minutes_ago: 3\n",
               20, "context.recent_deployments[0].version", "required");
}

TEST(IncidentScenarioTest, NumbersAreNumbersWithinTheirBounds) {
  expect_error(with("baseline: 0.01", "baseline: low"), 12, "metrics[0].baseline",
               "expected a number, got 'low'");
  expect_error(with("    pattern: spike\n", "    pattern: spike\n    max: 0.1\n"), 16,
               "metrics[0].max", "value 0.15 lies outside [min, max]");
}

TEST(IncidentScenarioTest, YamlSyntaxErrorsNameTheLine) {
  std::string message = error_of(with("tags: [errors]", "tags: [errors"));
  EXPECT_EQ(message.rfind("custom.yaml:", 0), 0u) << message;
  EXPECT_NE(message.find("unbalanced brackets"), std::string::npos) << message;
}

TEST(IncidentScenarioTest, AFileThatIsNotAMappingSaysSo) {
  std::string message = error_of("- just\n- a list\n");
  EXPECT_EQ(message.rfind("custom.yaml: expected a mapping", 0), 0u) << message;
}

TEST(IncidentScenarioTest, AnUnreadableFileNamesItsPath) {
  try {
    load_incident_scenario_file("/nonexistent/incident.yaml");
    FAIL() << "loaded a file that does not exist";
  } catch (const IncidentError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/incident.yaml: ", 0), 0u) << e.what();
  }
}

TEST(IncidentScenarioTest, NamesOfEnumsRoundTrip) {
  for (auto p : {MetricPattern::spike, MetricPattern::gradual, MetricPattern::step,
                 MetricPattern::drop, MetricPattern::flapping, MetricPattern::baseline})
    EXPECT_EQ(parse_pattern(to_string(p)), p);
  EXPECT_EQ(parse_severity("critical"), Severity::critical);
  EXPECT_EQ(parse_difficulty("advanced"), Difficulty::advanced);
  EXPECT_FALSE(parse_pattern("SPIKE").has_value()) << "names are lower case, as written";
}

}  // namespace
}  // namespace trafficsim::incidents
