// The whole alert path with the real tools: `trafficsim demo` (built-in monitors off) under the
// latency_injection load, Debian's Prometheus scraping its /metrics and judging one rule (the LLM
// latency spike at a compressed window), Debian's Alertmanager posting to the demo's
// POST /api/v1/alerts/webhook with the key as a Bearer token. The alert opens exactly one
// incident, Alertmanager's repeats do not open another, and the resolved notification that
// follows the end of the load resolves it.
//
// The configs are the test's own (written to a temp dir), not deploy/'s: deploy/'s windows are
// minutes long, these are seconds. Release build only (tests/CMakeLists.txt), like the browser
// tests: three servers and real load on 2 cores. Skips, saying why, only when `prometheus` or
// `prometheus-alertmanager` is not installed (scripts/setup.sh installs both).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace trafficsim {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::BackgroundProcess;
using testing::free_port;
using testing::http_call;
using testing::TempDir;

const std::string kBinary = TRAFFICSIM_BINARY;
const std::string kKey = "alert-pipeline-test-key";

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

// Polls `condition` every `every` until it holds or `deadline` passes; true if it held. The
// interval only spares the servers a busy loop: the wait is the condition, never a fixed sleep.
template <class Condition>
bool poll_until(Condition condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds every = 100ms) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

uint16_t port_of(const std::string& out) {
  std::smatch m;
  static const std::regex re("^http://127\\.0\\.0\\.1:(\\d+)/");
  if (!std::regex_search(out, m, re)) return 0;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Everything a failure message needs: what each process said so far.
std::string logs(const BackgroundProcess& demo, const BackgroundProcess* prom,
                 const BackgroundProcess* am) {
  std::string s = "\n--- demo stdout:\n" + demo.current_stdout() + "\n--- demo stderr:\n" +
                  demo.current_stderr();
  auto tail = [](std::string t) { return t.size() > 6000 ? t.substr(t.size() - 6000) : t; };
  if (prom) s += "\n--- prometheus stderr (tail):\n" + tail(prom->current_stderr());
  if (am) s += "\n--- alertmanager stderr (tail):\n" + tail(am->current_stderr());
  return s;
}

struct IncidentsSeen {
  int status = 0;
  size_t total = 0;           // incidents of any source
  size_t from_alertmanager = 0;  // source alertmanager, monitor llm_latency_spike
  std::optional<json::object> incident;  // the last such one
  std::string body;
};

IncidentsSeen incidents_of(uint16_t port) {
  IncidentsSeen seen;
  auto r = http_call(port, "GET", "/api/v1/incidents", {}, {{"X-API-Key", kKey}});
  seen.status = r.status;
  seen.body = r.body;
  if (r.status != 200) return seen;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_array()) return seen;
  seen.total = v.as_array().size();
  for (const auto& item : v.as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    const auto* source = o.if_contains("source");
    const auto* monitor = o.if_contains("monitor_id");
    if (source && source->is_string() && source->as_string() == "alertmanager" && monitor &&
        monitor->is_string() && monitor->as_string() == "llm_latency_spike") {
      ++seen.from_alertmanager;
      seen.incident = o;
    }
  }
  return seen;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

TEST(AlertPipeline, TheLatencyAlertThroughPrometheusAndAlertmanagerOpensOneIncident) {
  const std::string prometheus = find_tool("prometheus");
  const std::string alertmanager = find_tool("prometheus-alertmanager");
  if (prometheus.empty() || alertmanager.empty()) {
    GTEST_SKIP() << (prometheus.empty() ? "prometheus" : "prometheus-alertmanager")
                 << " not installed (Debian packages prometheus and prometheus-alertmanager; "
                    "scripts/setup.sh installs them)";
  }
  const auto t0 = std::chrono::steady_clock::now();
  TempDir dir;

  // 1. The demo, its own monitors off: every incident below comes from Alertmanager.
  BackgroundProcess demo({kBinary, "demo", "--listen", "127.0.0.1:0", "--data-dir",
                          (dir.path() / "data").string(), "--catalog-rows", "500", "--api-key",
                          kKey, "--no-monitors", "--no-color", "-q"});
  ASSERT_TRUE(demo.wait_for_stdout("\n", 30s)) << logs(demo, nullptr, nullptr);
  const uint16_t demo_port = port_of(demo.current_stdout());
  ASSERT_NE(demo_port, 0) << logs(demo, nullptr, nullptr);
  const std::string demo_addr = "127.0.0.1:" + std::to_string(demo_port);

  // 2. Configs with windows of seconds. The rule is deploy/'s LLMLatencySpike (without its
  // hysteresis clause) over 10 s instead of 1 min, `for` 2 s instead of 15 s.
  const int prom_port = free_port();
  const int am_port = free_port();
  ASSERT_NE(prom_port, am_port);
  dir.write("prometheus/rules.yml",
            "groups:\n"
            "  - name: alert-pipeline-test\n"
            "    rules:\n"
            "      - alert: LLMLatencySpike\n"
            "        expr: >-\n"
            "          histogram_quantile(0.95, sum by (le)\n"
            "          (rate(llm_request_duration_seconds_bucket[10s]))) * 1000 > 3000\n"
            "        for: 2s\n"
            "        labels:\n"
            "          severity: page\n"
            "          service: llm-classifier\n"
            "          monitor: llm_latency_spike\n"
            "        annotations:\n"
            "          summary: LLM latency spike\n");
  const auto prom_config = dir.write(
      "prometheus/prometheus.yml",
      "global:\n"
      "  scrape_interval: 1s\n"
      "  evaluation_interval: 1s\n"
      "rule_files:\n"
      "  - rules.yml\n"
      "alerting:\n"
      "  alertmanagers:\n"
      "    - static_configs:\n"
      "        - targets: [\"127.0.0.1:" + std::to_string(am_port) + "\"]\n"
      "scrape_configs:\n"
      "  - job_name: trafficsim-demo\n"
      "    metrics_path: /metrics\n"
      "    static_configs:\n"
      "      - targets: [\"" + demo_addr + "\"]\n");
  dir.write("alertmanager/trafficsim-api-key", kKey);
  const auto am_config = dir.write(
      "alertmanager/alertmanager.yml",
      "route:\n"
      "  receiver: trafficsim\n"
      "  group_by: [alertname, service]\n"
      "  group_wait: 1s\n"
      "  group_interval: 1s\n"
      "  repeat_interval: 1h\n"
      "receivers:\n"
      "  - name: trafficsim\n"
      "    webhook_configs:\n"
      "      - url: http://" + demo_addr + "/api/v1/alerts/webhook\n"
      "        send_resolved: true\n"
      "        http_config:\n"
      "          authorization:\n"
      "            type: Bearer\n"
      "            credentials_file: " + (dir.path() / "alertmanager/trafficsim-api-key").string() +
      "\n");

  // 3. Alertmanager and Prometheus on loopback, each until it answers /-/ready. An empty
  // --cluster.listen-address keeps Alertmanager off the network (no gossip port).
  BackgroundProcess am({alertmanager, "--config.file=" + am_config.string(),
                        "--storage.path=" + (dir.path() / "am").string(),
                        "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
                        "--cluster.listen-address="});
  BackgroundProcess prom({prometheus, "--config.file=" + prom_config.string(),
                          "--storage.tsdb.path=" + (dir.path() / "tsdb").string(),
                          "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)});
  auto ready = [](int port, const BackgroundProcess& p) {
    return [port, &p] {
      return !p.running() ||
             http_call(static_cast<uint16_t>(port), "GET", "/-/ready", {}, {}, 1s).status == 200;
    };
  };
  ASSERT_TRUE(poll_until(ready(am_port, am), 20s) && am.running())
      << "Alertmanager not ready" << logs(demo, &prom, &am);
  ASSERT_TRUE(poll_until(ready(prom_port, prom), 20s) && prom.running())
      << "Prometheus not ready" << logs(demo, &prom, &am);
  const double ready_s = seconds_since(t0);

  // 4. The load: 30 % of classify requests delayed 2-5 s, so the p95 climbs past 3 s.
  auto start = http_call(demo_port, "POST", "/traffic/start",
                         R"({"scenario":"latency_injection","maxRps":20,"duration":"40s"})",
                         {{"Content-Type", "application/json"}, {"X-API-Key", kKey}});
  ASSERT_EQ(start.status, 202) << start.body << logs(demo, &prom, &am);
  const std::string job_id = string_at(json::parse(start.body).as_object(), "jobId");
  ASSERT_FALSE(job_id.empty()) << start.body;
  const auto load_start = std::chrono::steady_clock::now();

  // 5. Exactly one incident, from Alertmanager, for the latency monitor.
  IncidentsSeen seen;
  ASSERT_TRUE(poll_until(
      [&] {
        seen = incidents_of(demo_port);
        return seen.from_alertmanager > 0;
      },
      25s, 200ms))
      << "no incident from Alertmanager; last answer " << seen.status << " " << seen.body
      << logs(demo, &prom, &am);
  const double opened_s = seconds_since(load_start);
  EXPECT_EQ(seen.total, 1u) << seen.body;
  EXPECT_EQ(seen.from_alertmanager, 1u) << seen.body;
  ASSERT_TRUE(seen.incident);
  const std::string id = string_at(*seen.incident, "id");
  EXPECT_EQ(string_at(*seen.incident, "status"), "open") << seen.body;
  EXPECT_EQ(string_at(*seen.incident, "service"), "llm-classifier") << seen.body;
  EXPECT_EQ(string_at(*seen.incident, "title"), "LLM latency spike") << seen.body;

  // The scraped counters as a dashboard would ask for them: requests by traffic type.
  {
    auto q = http_call(prom_port, "GET",
                       "/api/v1/query?query=sum%20by%20(traffic_type)%20(http_requests_total)");
    ASSERT_EQ(q.status, 200) << q.body;
    bool found = false;
    const json::value doc = json::parse(q.body);
    for (const auto& r : doc.at("data").at("result").as_array()) {
      const auto& metric = r.at("metric").as_object();
      const auto* type = metric.if_contains("traffic_type");
      if (type && type->as_string() == "HACKATHON_TRAFFIC_LATENCY_INJECTION" &&
          std::stod(std::string(r.at("value").as_array().at(1).as_string())) > 0)
        found = true;
    }
    EXPECT_TRUE(found) << "http_requests_total by traffic_type: " << q.body;
  }

  // Alertmanager keeps the alert firing (group_interval 1 s) and Prometheus keeps sending it:
  // a few more seconds of that are still one incident. poll_until returning true here means a
  // second incident appeared.
  EXPECT_FALSE(poll_until(
      [&] {
        seen = incidents_of(demo_port);
        return seen.status != 200 || seen.total != 1;
      },
      3s, 200ms))
      << "a second incident (or an error) while the alert kept firing: " << seen.status << " "
      << seen.body;

  // 6. Stop the load: the rate window drains, the rule stops matching, Prometheus sends the
  // alert resolved and Alertmanager's resolved notification resolves the same incident.
  auto stop = http_call(demo_port, "POST", "/traffic/stop/" + job_id, "{}",
                        {{"Content-Type", "application/json"}, {"X-API-Key", kKey}});
  EXPECT_EQ(stop.status, 200) << stop.body;
  const auto stopped = std::chrono::steady_clock::now();
  EXPECT_TRUE(poll_until(
      [&] {
        seen = incidents_of(demo_port);
        return seen.incident && string_at(*seen.incident, "status") == "resolved";
      },
      25s, 200ms))
      << "not resolved after the load stopped: " << seen.body << logs(demo, &prom, &am);
  EXPECT_EQ(seen.total, 1u) << seen.body;
  if (seen.incident) {
    EXPECT_EQ(string_at(*seen.incident, "id"), id) << seen.body;
  }

  std::cout << "[timing] tools ready " << ready_s << " s after the start; incident opened "
            << opened_s << " s after the load; resolved " << seconds_since(stopped)
            << " s after the stop; total " << seconds_since(t0) << " s\n";
  // The destructors kill the three processes (SIGKILL) and TempDir removes the configs,
  // Prometheus's TSDB and Alertmanager's storage.
}

}  // namespace
}  // namespace trafficsim
