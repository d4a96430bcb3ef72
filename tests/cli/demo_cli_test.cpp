// `trafficsim demo` and `serve` as a user runs them: the safety refusals, the main job
// (`demo --script demo-video --exit`) end to end, Ctrl+C mid-script, serve aimed at one target.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <regex>

#include <boost/json.hpp>

#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace {

namespace json = boost::json;
using trafficsim::testing::BackgroundProcess;
using trafficsim::testing::eventually;
using trafficsim::testing::free_port;
using trafficsim::testing::http_call;
using trafficsim::testing::run_process;
using trafficsim::testing::TempDir;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

uint16_t port_of(const std::string& out) {
  std::smatch m;
  std::regex re("^http://127\\.0\\.0\\.1:(\\d+)/");
  if (!std::regex_search(out, m, re)) return 0;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

TEST(DemoCli, ANonLoopbackListenWithoutAKeyIsRefused) {
  auto r = run_process({kBinary, "demo", "--listen", "0.0.0.0:0"}, 10s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--api-key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--no-auth"), std::string::npos) << r.err;
  auto s = run_process({kBinary, "serve", "--target", "http://127.0.0.1:9", "--listen",
                        "0.0.0.0:0"}, 10s);
  EXPECT_EQ(s.exit_code, 2) << s.err;
  EXPECT_NE(s.err.find("--api-key"), std::string::npos) << s.err;
}

TEST(DemoCli, AnEmptyKeyIsRefused) {
  auto r = run_process({kBinary, "demo", "--api-key", ""}, 10s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--api-key"), std::string::npos) << r.err;
}

TEST(DemoCli, BadFlagsExit2BeforeAnythingStarts) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--script", "no-such-script"},
        std::vector<std::string>{"--scenario", "nope"},
        std::vector<std::string>{"--scenario", "normal", "--time-scale", "60"},
        std::vector<std::string>{"--max-jobs", "0"},
        std::vector<std::string>{"--job-retention", "soon"},
        std::vector<std::string>{"--exit"}}) {
    std::vector<std::string> argv = {kBinary, "demo", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, 10s);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args[0] << ": " << r.out;  // no URL: nothing served
  }
}

TEST(DemoCli, TheMainJobPlaysEveryPhaseServesThePageAndExits) {
  TempDir dir;
  BackgroundProcess p({kBinary, "demo", "--script", "demo-video", "--time-scale", "12", "--exit",
                       "--listen", "127.0.0.1:0", "--data-dir", dir.path().string(),
                       "--catalog-rows", "500", "--no-color", "-q", "--json",
                       (dir.path() / "demo.json").string()});
  ASSERT_TRUE(p.wait_for_stdout("\n", 30s)) << p.current_stderr();
  uint16_t port = port_of(p.current_stdout());
  ASSERT_NE(port, 0) << p.current_stdout();
  auto page = http_call(port, "GET", "/");
  EXPECT_EQ(page.status, 200);
  auto jobs = http_call(port, "GET", "/traffic/jobs");
  ASSERT_EQ(jobs.status, 200);
  auto list = json::parse(jobs.body).at("jobs").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("kind").as_string(), "script");
  // The monitors run with the demo, on the time-scaled windows (1 min / 12 = 5 s).
  auto mon = http_call(port, "GET", "/api/v1/monitors");
  ASSERT_EQ(mon.status, 200) << mon.body;
  auto mj = json::parse(mon.body).as_object();
  EXPECT_DOUBLE_EQ(mj.at("timeScale").to_number<double>(), 12);
  EXPECT_EQ(mj.at("monitors").as_array().size(), 6u);
  EXPECT_DOUBLE_EQ(mj.at("monitors").at(0).at("windowSeconds").to_number<double>(), 5);
  auto r = p.wait(60s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* phase : {"[1/5]", "[5/5]"}) EXPECT_NE(r.out.find(phase), std::string::npos);
  // What the narration promises: the latency monitor fires in step 2, the cost one in step 4.
  size_t step2 = r.out.find("[2/5]"), step4 = r.out.find("[4/5]");
  size_t latency = r.out.find("ALERT   LLM latency spike"), cost = r.out.find("ALERT   Cost anomaly");
  ASSERT_NE(latency, std::string::npos) << r.out;
  ASSERT_NE(cost, std::string::npos) << r.out;
  EXPECT_GT(latency, step2);
  EXPECT_GT(cost, step4);
  // Each alert opened an incident; the latency one was resolved when its monitor recovered.
  EXPECT_NE(r.out.find("open — LLM latency spike"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("open — Cost anomaly"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "incidents.sqlite"));
  auto report = json::parse(trafficsim::testing::read_file((dir.path() / "demo.json").string()));
  EXPECT_EQ(report.at("phases").as_array().size(), 5u);
}

TEST(DemoCli, CtrlCMidScriptStopsCleanlyWithTheReportComplete) {
  TempDir dir;
  BackgroundProcess p({kBinary, "demo", "--script", "demo-video", "--time-scale", "3",
                       "--listen", "127.0.0.1:0", "--data-dir", dir.path().string(),
                       "--catalog-rows", "500", "--no-color", "-q", "--json",
                       (dir.path() / "demo.json").string()});
  ASSERT_TRUE(p.wait_for_stdout("[1/5]", 30s)) << p.current_stderr();
  uint16_t port = port_of(p.current_stdout());
  ASSERT_NE(port, 0);
  // Wait until the first phase has measured something, then Ctrl+C.
  ASSERT_TRUE(p.wait_for_stdout("Playing", 10s));
  ASSERT_TRUE(eventually([&] {
    auto s = http_call(port, "GET", "/traffic/jobs");
    auto l = json::parse(s.body).at("jobs").as_array();
    return !l.empty() && l[0].at("stats").at("totalRequests").to_number<double>() > 5;
  }, 20s));
  p.send_signal(SIGINT);
  auto r = p.wait(20s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stopped early"), std::string::npos) << r.out;
  auto report = json::parse(trafficsim::testing::read_file((dir.path() / "demo.json").string()));
  auto phases = report.at("phases").as_array();
  ASSERT_EQ(phases.size(), 1u);
  EXPECT_GT(phases[0].at("requests").to_number<double>(), 5);
}

TEST(ServeCli, JobsAimAtTheTargetItWasStartedWith) {
  TempDir dir;
  uint16_t tport = static_cast<uint16_t>(free_port());
  BackgroundProcess target({kBinary, "target", "--listen", "127.0.0.1:" + std::to_string(tport),
                            "--data-dir", dir.path().string(), "--catalog-rows", "500",
                            "--access-log", "off"});
  ASSERT_TRUE(target.wait_for_stdout("listening", 30s)) << target.current_stderr();
  BackgroundProcess serve({kBinary, "serve", "--target",
                           "http://127.0.0.1:" + std::to_string(tport), "--listen",
                           "127.0.0.1:0"});
  ASSERT_TRUE(serve.wait_for_stdout("\n", 10s));
  uint16_t port = port_of(serve.current_stdout());
  ASSERT_NE(port, 0) << serve.current_stdout();
  EXPECT_EQ(http_call(port, "GET", "/").status, 200);
  EXPECT_EQ(http_call(port, "GET", "/api/v1/users").status, 404);  // no demo target here
  auto start = http_call(port, "POST", "/traffic/start",
                         R"({"scenario":"normal","maxRps":20,"duration":"2s"})");
  ASSERT_EQ(start.status, 202) << start.body;
  std::string id(json::parse(start.body).at("jobId").as_string());
  json::object st;
  eventually([&] {
    st = json::parse(http_call(port, "GET", "/traffic/status/" + id).body).as_object();
    return st.at("status") == "completed";
  }, 15s);
  ASSERT_EQ(st.at("status").as_string(), "completed") << json::serialize(st);
  EXPECT_GE(st.at("stats").at("successfulRequests").to_number<double>(), 30);
  auto metrics = http_call(tport, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("/api/v1/users"), std::string::npos);  // the traffic reached it
  serve.send_signal(SIGINT);
  EXPECT_EQ(serve.wait(10s).exit_code, 0);
  target.send_signal(SIGINT);
  target.wait(10s);
}

// A Black Friday started through serve starts a trafficsim target's story (POST /admin/demo
// with the target's key), so the target degrades on the job's clock.
TEST(ServeCli, ABlackFridayJobStartsTheTargetsDemoClock) {
  TempDir dir;
  uint16_t tport = static_cast<uint16_t>(free_port());
  BackgroundProcess target({kBinary, "target", "--listen", "127.0.0.1:" + std::to_string(tport),
                            "--data-dir", dir.path().string(), "--catalog-rows", "500",
                            "--access-log", "off", "--api-key", "tkey"});
  ASSERT_TRUE(target.wait_for_stdout("listening", 30s)) << target.current_stderr();
  BackgroundProcess serve({kBinary, "serve", "--target",
                           "http://127.0.0.1:" + std::to_string(tport), "--listen",
                           "127.0.0.1:0", "--target-api-key", "tkey"});
  ASSERT_TRUE(serve.wait_for_stdout("\n", 10s));
  uint16_t port = port_of(serve.current_stdout());
  ASSERT_NE(port, 0) << serve.current_stdout();
  auto health = [&] { return json::parse(http_call(tport, "GET", "/health").body).at("demo"); };
  EXPECT_FALSE(health().at("enabled").as_bool());
  auto start = http_call(port, "POST", "/traffic/start",
                         R"({"scenario":"blackfriday","timeScale":120,"duration":"2s"})");
  ASSERT_EQ(start.status, 202) << start.body;
  auto demo = health();
  EXPECT_TRUE(demo.at("enabled").as_bool()) << json::serialize(demo);
  EXPECT_DOUBLE_EQ(demo.at("time_scale").to_number<double>(), 120);
  serve.send_signal(SIGINT);
  EXPECT_EQ(serve.wait(15s).exit_code, 0);
  target.send_signal(SIGINT);
  target.wait(10s);
}

// validate dual-mode against a keyed `trafficsim demo --scenario blackfriday`: the traffic stats
// need the key, which --api-key sends.
TEST(DemoCli, ValidateDualModeSendsTheApiKey) {
  TempDir dir;
  BackgroundProcess p({kBinary, "demo", "--scenario", "blackfriday", "--time-scale", "60",
                       "--listen", "127.0.0.1:0", "--data-dir", dir.path().string(),
                       "--catalog-rows", "500", "--no-color", "-q", "--api-key", "k3y"});
  ASSERT_TRUE(p.wait_for_stdout("\n", 30s)) << p.current_stderr();
  uint16_t port = port_of(p.current_stdout());
  ASSERT_NE(port, 0) << p.current_stdout();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(eventually([&] {
    return http_call(port, "GET", "/admin/traffic-stats", {}, {{"X-API-Key", "k3y"}}).status == 200;
  }, 10s));
  auto stats_row = [](const std::string& out) {
    json::value doc = json::parse(out);
    for (const auto& c : doc.at("checks").as_array())
      if (c.at("name") == "traffic stats") return c.as_object();
    return json::object{};
  };
  auto without = run_process({kBinary, "validate", "dual-mode", "--url", url, "--json"}, 20s);
  auto row = stats_row(without.out);
  EXPECT_EQ(row["status"], "fail") << without.out;
  EXPECT_NE(json::serialize(row).find("--api-key"), std::string::npos) << without.out;
  auto with = run_process({kBinary, "validate", "dual-mode", "--url", url, "--json", "--api-key",
                           "k3y"}, 20s);
  EXPECT_EQ(stats_row(with.out)["status"], "pass") << with.out;
  p.send_signal(SIGINT);
  EXPECT_EQ(p.wait(20s).exit_code, 0);
}

// --monitors FILE replaces the built-ins and --fail-on-alert turns an alert into exit 3; a bad
// monitors file is refused before anything starts, naming file:line: field.
TEST(DemoCli, FailOnAlertExitsThreeAndABadMonitorsFileExitsTwo) {
  TempDir dir;
  std::string script = (dir.path() / "short.yaml").string();
  std::string mons = (dir.path() / "mons.yaml").string();
  std::string bad = (dir.path() / "bad.yaml").string();
  trafficsim::testing::write_file(script, R"(name: short
phases:
  - title: one
    mode: normal_traffic
    rate: 5
    duration: 2s
)");
  // Fires on the first evaluation with traffic: the classify error ratio is below 1.
  trafficsim::testing::write_file(mons, R"(monitors:
  - name: Always
    signal: {ratio: llm_errors_total, of: llm_requests_total}
    below: 1
)");
  trafficsim::testing::write_file(bad, "monitors:\n  - name: x\n    signal: {ratio: a_total, of: b_total}\n    above: 1\n    windw: 5s\n");
  auto base = std::vector<std::string>{kBinary, "demo", "--script", script, "--exit", "--listen",
                                       "127.0.0.1:0", "--data-dir", dir.path().string(),
                                       "--catalog-rows", "500", "--no-color", "-q"};
  auto with = [&](std::vector<std::string> extra) {
    auto argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, 40s);
  };
  auto alerted = with({"--monitors", mons, "--fail-on-alert"});
  EXPECT_EQ(alerted.exit_code, 3) << alerted.out << alerted.err;
  EXPECT_NE(alerted.out.find("ALERT   Always"), std::string::npos) << alerted.out;
  EXPECT_NE(alerted.err.find("a monitor alerted (--fail-on-alert)"), std::string::npos) << alerted.err;
  auto without = with({"--monitors", mons});
  EXPECT_EQ(without.exit_code, 0) << without.out << without.err;
  auto refused = with({"--monitors", bad});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find(bad + ":5: monitors[0].windw"), std::string::npos) << refused.err;
  EXPECT_TRUE(refused.out.empty()) << refused.out;
  auto off = with({"--no-monitors", "--fail-on-alert"});
  EXPECT_EQ(off.exit_code, 2) << off.err;
}

}  // namespace
