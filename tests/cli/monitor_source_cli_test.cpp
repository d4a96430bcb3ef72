// The client-side monitor source as a user meets it: `play` against a real target that answers
// 400 to half the classify requests (error_injection's malformed half) with --monitor-source
// client raises "LLM error burst" and exits 3 under --fail-on-alert; against an external --url
// the client source is the default, so monitors work on a target without a /metrics.
// Compressed time (--time-scale 6): a 36 s phase lasts 6 s, the monitor's 1 min window 10 s.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using trafficsim::testing::BackgroundProcess;
using trafficsim::testing::run_process;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

const char* kScript = R"(name: error-burst
phases:
  - title: "Malformed requests"
    mode: error_injection
    rate: 30
    duration: 36s
)";

const json::object& monitor(const json::object& monitors, const std::string& id) {
  for (const auto& m : monitors.at("monitors").as_array())
    if (m.as_object().at("id").as_string() == id) return m.as_object();
  throw std::runtime_error("no monitor " + id);
}

class MonitorSourceCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = trafficsim::testing::temp_dir();
    script_ = dir_ + "/burst.yaml";
    trafficsim::testing::write_file(script_, kScript);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> play_argv(const std::string& url, std::vector<std::string> extra) {
    std::vector<std::string> argv = {kBinary, "play", script_,        "-q", "--seed", "7",
                                     "--url", url,    "--time-scale", "6",  "--json", report()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::string report() const { return dir_ + "/r.json"; }
  json::object monitors_of_report() const {
    return json::parse(trafficsim::testing::read_file(report())).at("monitors").as_object();
  }

  std::string dir_, script_;
};

TEST_F(MonitorSourceCliTest, ClientSourceCountsTheExpectedFourHundredsAndTheErrorBurstAlerts) {
  BackgroundProcess target({kBinary, "target", "--listen", "127.0.0.1:0", "--data-dir", dir_,
                            "--catalog-rows", "20000"});
  ASSERT_TRUE(target.wait_for_stdout("\n", 30s)) << target.current_stderr();
  std::smatch m;
  std::string first = target.current_stdout();
  ASSERT_TRUE(std::regex_search(first, m, std::regex(R"((http://127\.0\.0\.1:\d+))"))) << first;
  const std::string url = m[1];

  auto r = run_process(play_argv(url, {"--monitor-source", "client", "--fail-on-alert"}), 60s);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("ALERT   LLM error burst"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("a monitor alerted (--fail-on-alert)"), std::string::npos) << r.err;
  auto mons = monitors_of_report();
  EXPECT_EQ(mons.at("source").as_string(), "client");
  EXPECT_EQ(mons.at("scrapeErrors").to_number<int64_t>(), 0);
  const auto& burst = monitor(mons, "llm_error_burst");
  EXPECT_TRUE(burst.at("everAlerted").as_bool());
  // Half the requests are malformed on purpose: the client counts their 400s as LLM errors.
  EXPECT_NEAR(burst.at("value").to_number<double>(), 0.5, 0.15);
  // The latency monitor has data too (the classify answers' service latency), and stays OK.
  const auto& latency = monitor(mons, "llm_latency_spike");
  EXPECT_TRUE(latency.at("hasData").as_bool());
  EXPECT_FALSE(latency.at("everAlerted").as_bool());
}

TEST_F(MonitorSourceCliTest, AnExternalTargetWithoutMetricsIsJudgedByTheClientByDefault) {
  // No /metrics here (every other path answers 200 "hello"): only the client's statistics can
  // show that every classify request fails.
  trafficsim::testing::TestServerOptions so;
  so.routes["/hackathon/classify"] = {400, R"({"error":"invalid_request"})"};
  trafficsim::testing::TestServer server(so);
  auto r = run_process(play_argv(server.url(""), {"--fail-on-alert"}), 60s);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("ALERT   LLM error burst"), std::string::npos) << r.out;
  auto mons = monitors_of_report();
  EXPECT_EQ(mons.at("source").as_string(), "client");
  EXPECT_TRUE(monitor(mons, "llm_error_burst").at("everAlerted").as_bool());
}

}  // namespace
