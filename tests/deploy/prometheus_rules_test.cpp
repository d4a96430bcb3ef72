// deploy/: the Prometheus and Alertmanager files, checked by the tools that will load them
// (Debian's promtool and amtool), and the rules' unit tests (deploy/prometheus/rules_test.yml)
// run by `promtool test rules`. A test skips, saying why, only when its tool is not installed
// (scripts/setup.sh installs both: packages prometheus and prometheus-alertmanager).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "monitors/monitor_spec.hpp"
#include "support/process.hpp"

namespace trafficsim {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::read_file;
using testing::run_process;

const fs::path kDeploy = fs::path(TRAFFICSIM_SOURCE_DIR) / "deploy";
constexpr auto kToolDeadline = 60s;

// The tool's path when an executable of that name is on PATH, else empty.
std::string find_tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) &&
        (fs::status(candidate, ec).permissions() & fs::perms::owner_exec) != fs::perms::none) {
      return candidate.string();
    }
  }
  return {};
}

#define REQUIRE_TOOL(var, name, package)                           \
  const std::string var = find_tool(name);                         \
  if (var.empty()) {                                               \
    GTEST_SKIP() << name " not installed (Debian package " package \
                         ", scripts/setup.sh installs it)";        \
  }

TEST(PrometheusRules, PromtoolAcceptsTheRules) {
  REQUIRE_TOOL(promtool, "promtool", "prometheus");
  const auto r = run_process(
      {promtool, "check", "rules", (kDeploy / "prometheus/rules.yml").string()}, kToolDeadline);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(PrometheusRules, PromtoolAcceptsTheConfigAndTheRuleFilesItNames) {
  REQUIRE_TOOL(promtool, "promtool", "prometheus");
  const auto r =
      run_process({promtool, "check", "config", (kDeploy / "prometheus/prometheus.yml").string()},
                  kToolDeadline);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("1 rule files found"), std::string::npos) << r.out << r.err;
}

// The check above means something: the same tool on a rule with a broken expression fails.
TEST(PrometheusRules, PromtoolRejectsARuleWithABrokenExpression) {
  REQUIRE_TOOL(promtool, "promtool", "prometheus");
  testing::TempDir dir;
  const auto file = dir.write("rules.yml",
                              "groups:\n  - name: g\n    rules:\n      - alert: Broken\n"
                              "        expr: sum(rate(http_requests_total[1m]) > \n");
  const auto r = run_process({promtool, "check", "rules", file.string()}, kToolDeadline);
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
}

TEST(PrometheusRules, RuleUnitTestsPass) {
  REQUIRE_TOOL(promtool, "promtool", "prometheus");
  const auto r = run_process(
      {promtool, "test", "rules", (kDeploy / "prometheus/rules_test.yml").string()}, kToolDeadline);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("SUCCESS"), std::string::npos) << r.out << r.err;
}

TEST(PrometheusRules, AmtoolAcceptsTheAlertmanagerConfig) {
  REQUIRE_TOOL(amtool, "amtool", "prometheus-alertmanager");
  const auto r =
      run_process({amtool, "check-config", (kDeploy / "alertmanager/alertmanager.yml").string()},
                  kToolDeadline);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// Every built-in monitor has an alert in rules.yml labelled with its id, and no alert names a
// monitor that is not built in: the two lists are kept in step by this test.
TEST(PrometheusRules, EveryBuiltInMonitorHasExactlyOneAlert) {
  const std::string rules = read_file((kDeploy / "prometheus/rules.yml").string());
  std::multiset<std::string> labelled;
  std::istringstream lines(rules);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("monitor: ");
    if (at == std::string::npos || line.find_first_not_of(' ') != at) continue;
    labelled.insert(line.substr(at + 9));
  }
  std::multiset<std::string> builtin;
  for (const auto& m : monitors::builtin_monitors()) builtin.insert(m.id);
  EXPECT_EQ(labelled, builtin);
}

TEST(PrometheusRules, AlertmanagerSendsResolvedAlertsToTheWebhookWithABearerToken) {
  const std::string config = read_file((kDeploy / "alertmanager/alertmanager.yml").string());
  EXPECT_NE(config.find("url: http://127.0.0.1:8000/api/v1/alerts/webhook"), std::string::npos);
  EXPECT_NE(config.find("send_resolved: true"), std::string::npos);
  EXPECT_NE(config.find("type: Bearer"), std::string::npos);
}

}  // namespace
}  // namespace trafficsim
