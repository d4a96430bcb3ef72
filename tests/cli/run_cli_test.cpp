// `trafficsim run`, `play` and `scenarios` as a user runs them: every seed mode checked on the
// server side (the demo target's access log, or a recording test server), the hard cap, the peak
// shape, dual-mode Black Friday under a compressed clock, thresholds and their exit code, every
// shipped file, and the messages for bad flags and files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using trafficsim::testing::BackgroundProcess;
using trafficsim::testing::ProcessResult;
using trafficsim::testing::run_process;
using trafficsim::testing::TestServer;
using trafficsim::testing::TestServerOptions;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;
const std::string kSource = TRAFFICSIM_SOURCE_DIR;

double num(const json::value& v) {
  return v.is_double() ? v.as_double() : v.is_int64() ? static_cast<double>(v.as_int64())
                                                      : static_cast<double>(v.as_uint64());
}

json::object read_json(const std::string& path) {
  return json::parse(trafficsim::testing::read_file(path)).as_object();
}

const json::object& stream_of(const json::object& report, const std::string& name) {
  for (const auto& s : report.at("streams").as_array())
    if (s.as_object().at("name").as_string() == name) return s.as_object();
  throw std::runtime_error("no stream " + name);
}

class RunCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { catalog_dir_ = new std::string(trafficsim::testing::temp_dir()); }
  static void TearDownTestSuite() {
    fs::remove_all(*catalog_dir_);
    delete catalog_dir_;
  }
  void SetUp() override { dir_ = trafficsim::testing::temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }

  // trafficsim run ... with the built-in target's small catalog, quiet, seeded.
  std::vector<std::string> run_argv(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {kBinary, "run", "-q", "--seed", "7", "--data-dir",
                                     *catalog_dir_, "--catalog-rows", "20000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Starts `trafficsim target` with an access log; returns its URL ("" on failure).
  std::string start_target(BackgroundProcess*& p, const std::string& log,
                           std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {"env"};
    argv.insert(argv.end(), env.begin(), env.end());
    std::vector<std::string> rest = {kBinary,          "target",      "--listen",
                                     "127.0.0.1:0",    "--data-dir",  *catalog_dir_,
                                     "--catalog-rows", "20000",       "--access-log",
                                     log};
    argv.insert(argv.end(), rest.begin(), rest.end());
    p = new BackgroundProcess(argv);
    if (!p->wait_for_stdout("\n", 30s)) return "";
    std::smatch m;
    std::string out = p->current_stdout();
    std::string first = out.substr(0, out.find('\n'));
    if (!std::regex_search(first, m, std::regex(R"((http://127\.0\.0\.1:\d+))"))) return "";
    return m[1];
  }

  // The access log's lines (JSON objects), after the target flushed it on SIGINT.
  static std::vector<json::object> stop_and_read_log(BackgroundProcess* p, const std::string& log) {
    p->send_signal(SIGINT);
    p->wait(20s);
    delete p;
    std::vector<json::object> lines;
    std::istringstream in(trafficsim::testing::read_file(log));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) lines.push_back(json::parse(line).as_object());
    return lines;
  }

  std::string write(const std::string& name, const std::string& text) const {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static std::string* catalog_dir_;
  std::string dir_;
};

std::string* RunCliTest::catalog_dir_ = nullptr;

// ---- seed 000 modes, checked where the traffic lands ----------------------------------------

TEST_F(RunCliTest, ErrorInjectionDrawsFourHundredsOnHalfTheRequestsAtTheTarget) {
  std::string log = dir_ + "/access.log";
  BackgroundProcess* target = nullptr;
  std::string url = start_target(target, log);
  ASSERT_FALSE(url.empty());
  std::string report = dir_ + "/r.json";
  auto r = run_process(run_argv({"--mode", "error_injection", "--rate", "250", "--duration", "4s",
                                 "--url", url, "--json", report}),
                       30s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto lines = stop_and_read_log(target, log);
  size_t total = 0, bad = 0;
  for (const auto& l : lines) {
    if (l.at("endpoint").as_string() != "/hackathon/classify") continue;
    EXPECT_EQ(l.at("traffic_type").as_string(), "HACKATHON_TRAFFIC_ERROR_INJECTION");
    ++total;
    if (num(l.at("status")) == 400) ++bad;
  }
  ASSERT_EQ(total, 1000u);
  double ratio = static_cast<double>(bad) / static_cast<double>(total);
  EXPECT_NEAR(ratio, 0.5, 0.05);
  // The injected 400s are expected failures, apart from unexpected ones.
  auto rep = read_json(report);
  EXPECT_EQ(num(rep.at("expected_failures")), static_cast<double>(bad));
  EXPECT_EQ(num(rep.at("unexpected_failures")), 0);
  EXPECT_NE(r.out.find("expected failures"), std::string::npos);
}

TEST_F(RunCliTest, LatencyInjectionDelaysAboutThirtyPercentByTwoToFiveSeconds) {
  std::string log = dir_ + "/access.log";
  BackgroundProcess* target = nullptr;
  std::string url = start_target(target, log);
  ASSERT_FALSE(url.empty());
  auto r = run_process(run_argv({"--mode", "latency_injection", "--rate", "200", "--duration",
                                 "3s", "--url", url}),
                       30s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto lines = stop_and_read_log(target, log);
  size_t total = 0, delayed = 0;
  for (const auto& l : lines) {
    if (l.at("endpoint").as_string() != "/hackathon/classify") continue;
    EXPECT_EQ(l.at("traffic_type").as_string(), "HACKATHON_TRAFFIC_LATENCY_INJECTION");
    EXPECT_EQ(num(l.at("status")), 200);
    ++total;
    double ms = num(l.at("latency_ms"));
    if (ms >= 2000) {
      ++delayed;
      // At most the 5 s delay plus the model latency, with generous slack for a busy machine:
      // this separates "2-5 s" from a doubled or unbounded delay, not fast from slow.
      EXPECT_LT(ms, 5000 + 500 + 4000);
    }
  }
  ASSERT_EQ(total, 600u);
  EXPECT_NEAR(static_cast<double>(delayed) / static_cast<double>(total), 0.3, 0.05);
}

TEST_F(RunCliTest, TokenBloatAndNormalBodiesHaveTheSeedsSizesAndTheTrafficHeader) {
  TestServerOptions so;
  so.body = R"({"category":"other","tokens":{"input":5100,"output":20}})";
  so.keep_heads = 40;
  TestServer server(so);
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  std::string report = dir_ + "/r.json";
  auto r = run_process(run_argv({"--mode", "token_bloat", "--rate", "40", "--duration", "1s",
                                 "--url", url, "--json", report}),
                       20s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto heads = server.request_heads();
  auto bodies = server.request_bodies();
  ASSERT_EQ(bodies.size(), 40u);
  for (size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_NE(heads[i].find("X-Traffic-Type: HACKATHON_TRAFFIC_TOKEN_BLOAT\r\n"), std::string::npos);
    auto b = json::parse(bodies[i]).as_object();
    size_t chars = b.at("body").as_string().size();
    EXPECT_GE(chars, 20000u);
    EXPECT_GE((chars + 3) / 4, 5000u);  // the seed's 5 000+ tokens per request
  }
  // Token totals are read from the response bodies.
  auto rep = read_json(report);
  const auto& counters = rep.at("streams").as_array()[0].as_object().at("counters").as_object();
  EXPECT_EQ(num(counters.at("input_tokens")), 40 * 5100);
  EXPECT_EQ(num(counters.at("output_tokens")), 40 * 20);

  TestServerOptions so2;
  so2.keep_heads = 200;
  TestServer normal(so2);
  url = "http://127.0.0.1:" + std::to_string(normal.port());
  r = run_process(run_argv({"--mode", "normal_traffic", "--rate", "200", "--duration", "1s",
                            "--url", url}),
                  20s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::set<std::string> subjects;
  for (const auto& body : normal.request_bodies()) {
    auto b = json::parse(body).as_object();
    std::string text = std::string(b.at("subject").as_string()) +
                       std::string(b.at("body").as_string()) +
                       std::string(b.at("sender").as_string());
    size_t tokens = (text.size() + 3) / 4;
    EXPECT_GE(tokens, 100u);
    EXPECT_LE(tokens, 200u);
    subjects.insert(std::string(b.at("subject").as_string()));
  }
  EXPECT_GE(subjects.size(), 25u);  // drawn at random from the 36 shipped emails
  for (const auto& h : normal.request_heads())
    EXPECT_NE(h.find("X-Traffic-Type: HACKATHON_TRAFFIC_NORMAL_TRAFFIC\r\n"), std::string::npos);
}

TEST_F(RunCliTest, SmokeTestAgainstTheBuiltInTargetSucceeds) {
  // The seed's smoke test (--mode normal_traffic --rate 5 --duration 30), at 4x the rate for a
  // quarter of the time: the same number of requests.
  std::string report = dir_ + "/r.json";
  auto r = run_process(run_argv({"--rate", "20", "--duration", "7.5s", "--json", report}), 30s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("(built-in target)"), std::string::npos);
  auto rep = read_json(report);
  double requests = num(rep.at("requests"));
  EXPECT_EQ(requests, 150);
  EXPECT_GT(1.0 - num(rep.at("unexpected_failures")) / requests, 0.9);
  EXPECT_EQ(rep.at("scenario").as_object().at("name").as_string(), "normal_traffic");
  EXPECT_NE(r.out.find("tokens"), std::string::npos);
  // Time series of the 500 ms snapshots, per stream.
  EXPECT_GE(rep.at("streams").as_array()[0].as_object().at("timeseries").as_array().size(), 10u);
}

// ---- seed 001 ------------------------------------------------------------------------------

TEST_F(RunCliTest, HardCapClampsMaxRpsAndSaysSo) {
  TestServerOptions so;
  so.keep_heads = 8;
  TestServer server(so);
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto r = run_process(run_argv({"--scenario", "stress", "--max-rps", "100", "--duration", "3s",
                                 "--url", url}),
                       20s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("clamped to the hard cap of 20 rps"), std::string::npos) << r.out;
  auto times = server.request_times();
  ASSERT_FALSE(times.empty());
  // Token bucket B = 20, R = 20/s: in any window of T seconds at most 20 + 20 T requests.
  for (size_t i = 0; i < times.size(); ++i) {
    size_t j = i;
    while (j < times.size() && times[j] - times[i] <= 1s) ++j;
    EXPECT_LE(j - i, 40u);
  }
  EXPECT_EQ(times.size(), 60u);  // 20/s for 3 s
  // The users API, rotating: each of the four requests a quarter of the time.
  std::map<std::string, int> lines;
  for (const auto& h : server.request_heads()) lines[h.substr(0, h.find(' '))]++;
  EXPECT_EQ(lines["GET"], 4);
  EXPECT_EQ(lines["POST"], 2);
  EXPECT_EQ(lines["PATCH"], 2);

  // --hard-cap moves the cap deliberately.
  TestServer server2;
  url = "http://127.0.0.1:" + std::to_string(server2.port());
  r = run_process(run_argv({"--scenario", "stress", "--max-rps", "50", "--hard-cap", "50",
                            "--duration", "2s", "--url", url}),
                  20s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("clamped"), std::string::npos);
  EXPECT_EQ(server2.request_times().size(), 100u);
}

TEST_F(RunCliTest, PeakRampsUpHoldsAndRampsDown) {
  TestServer server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto r = run_process(run_argv({"--scenario", "peak", "--max-rps", "20", "--duration", "8s",
                                 "--url", url}),
                       20s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto times = server.request_times();
  // 0 -> 20 over 2 s (20 requests), 20/s for 4 s (80), 20 -> 0 over 2 s (20).
  ASSERT_EQ(times.size(), 120u);
  auto t0 = times.front();
  int q[4] = {0, 0, 0, 0};
  for (auto t : times) {
    double s = std::chrono::duration<double>(t - t0).count();
    q[std::min(3, static_cast<int>(s / 2.0))]++;
  }
  EXPECT_NEAR(q[0], 20, 3);
  EXPECT_NEAR(q[1] + q[2], 80, 4);
  EXPECT_NEAR(q[3], 20, 3);
}

TEST_F(RunCliTest, LatencyScenarioAddsAPauseBetweenRequests) {
  TestServer server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto r = run_process(run_argv({"--scenario", "latency", "--duration", "6s", "--url", url}), 20s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto times = server.request_times();
  // Gaps of 50 ms + U(100, 500) ms: about 6 / 0.35 = 17 requests instead of 120.
  ASSERT_GE(times.size(), 12u);
  ASSERT_LE(times.size(), 25u);
  for (size_t i = 1; i < times.size(); ++i)
    EXPECT_GE(times[i] - times[i - 1], 140ms);
}

// ---- seed 002 ------------------------------------------------------------------------------

TEST_F(RunCliTest, BlackFridayTellsTheStoryOnACompressedClock) {
  // Start the clock 14 demo minutes ago at 60x: the run covers demo minutes 14 to 24.
  double now = std::chrono::duration<double>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  std::string report = dir_ + "/r.json";
  std::vector<std::string> argv = {"env", "DEMO_START_TIMESTAMP=" + std::to_string(now - 14.0)};
  auto rest = run_argv({"--scenario", "blackfriday", "--time-scale", "60", "--duration", "10s",
                        "--json", report});
  argv.insert(argv.end(), rest.begin(), rest.end());
  auto r = run_process(argv, 40s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto rep = read_json(report);
  const auto& baseline = stream_of(rep, "baseline");
  const auto& demo = stream_of(rep, "demo");
  // Both streams at their real-time rates: 100 rpm, and the demo table (interpolated 3 400 ->
  // 4 200 rpm from minute 14 to 15, then 4 200 rpm).
  EXPECT_NEAR(num(baseline.at("requests")), 100.0 / 60 * 10, 1.5);
  double demo_expected = (3400 + 0.8 * 800 + 4200) / 2 / 60.0 * 1 + 4200 / 60.0 * 9;
  EXPECT_NEAR(num(demo.at("requests")), demo_expected, demo_expected * 0.02);
  // The story: baseline under 2 % errors, demo errors past 50 % once the collapse (minute 20) runs.
  EXPECT_LT(num(baseline.at("error_ratio")), 0.02);
  double late_requests = 0, late_errors = 0;
  for (const auto& p : demo.at("timeseries").as_array()) {
    const auto& o = p.as_object();
    if (num(o.at("t_s")) < 7.0 || num(o.at("t_s")) > 10.5) continue;  // demo minutes 21-24.5
    late_requests += num(o.at("rps"));
    late_errors += num(o.at("rps")) * num(o.at("error_ratio"));
  }
  ASSERT_GT(late_requests, 0);
  EXPECT_GT(late_errors / late_requests, 0.5);
  // traffic_stats in the seed's shape.
  const auto& ts = rep.at("traffic_stats").as_object();
  const auto& b = ts.at("baseline").as_object();
  const auto& d = ts.at("demo").as_object();
  EXPECT_EQ(num(b.at("rpm")), 100);
  EXPECT_TRUE(b.at("error_rate").is_string());
  EXPECT_TRUE(std::regex_match(std::string(d.at("error_rate").as_string()),
                               std::regex(R"(\d+\.\d%)")));
  EXPECT_EQ(num(d.at("current_rpm")), 4200);
  // Minute 14 + 10 s at 60x, plus however long the process took to start its target.
  EXPECT_GE(num(d.at("demo_minute")), 23.9);
  EXPECT_LE(num(d.at("demo_minute")), 26.0);
  EXPECT_NEAR(num(d.at("error_ratio")), num(demo.at("error_ratio")), 1e-9);
  EXPECT_EQ(num(d.at("requests")), num(demo.at("requests")));
}

TEST_F(RunCliTest, BlackFridayAdoptsTheTargetsDemoClock) {
  std::string log = dir_ + "/access.log";
  BackgroundProcess* target = nullptr;
  long start = static_cast<long>(std::time(nullptr)) - 30;  // minute 5 at 10x
  std::string url = start_target(target, log,
                                 {"DEMO_MODE=blackfriday", "DEMO_TIME_SCALE=10",
                                  "DEMO_START_TIMESTAMP=" + std::to_string(start)});
  ASSERT_FALSE(url.empty());
  std::string report = dir_ + "/r.json";
  auto r = run_process(run_argv({"--scenario", "blackfriday", "--duration", "2s", "--url", url,
                                 "--json", report}),
                       30s);
  stop_and_read_log(target, log);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("adopted the target's demo clock"), std::string::npos) << r.out;
  auto rep = read_json(report);
  const auto& clock = rep.at("scenario").as_object().at("demo_clock").as_object();
  EXPECT_EQ(num(clock.at("time_scale")), 10);
  EXPECT_EQ(num(clock.at("start_timestamp")), static_cast<double>(start));
  // Minute 5 + 2 s x 10 / 60 = 5.33 at the end, plus the time the target and the run took to
  // start (and up to 1 s of the whole-second start timestamp): a few tenths at 10x.
  double minute =
      num(rep.at("traffic_stats").as_object().at("demo").as_object().at("demo_minute"));
  EXPECT_GE(minute, 5.2);
  EXPECT_LE(minute, 6.2);
}

// ---- scenario files and thresholds --------------------------------------------------------

TEST_F(RunCliTest, ThresholdsPassOrFailWithTheDocumentedExitCode) {
  TestServerOptions so;
  so.delay = 30ms;
  TestServer server(so);
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto file = [&](const std::string& cond) {
    return write("t.yaml", "name: gate\nduration: 1s\nstreams:\n  - name: api\n    rate: 50\n"
                           "    requests:\n      - path: /x?id={{seq}}\n    thresholds:\n"
                           "      - \"" + cond + "\"\n      - error_rate < 1%\n");
  };
  std::string report = dir_ + "/r.json";
  auto pass = run_process(run_argv({"-f", file("p95 < 5s"), "--url", url, "--json", report}), 20s);
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  EXPECT_NE(pass.out.find("PASS api: p95 < 5s"), std::string::npos) << pass.out;
  EXPECT_TRUE(read_json(report).at("thresholds").as_object().at("passed").as_bool());

  auto fail = run_process(run_argv({"-f", file("p95 < 10ms"), "--url", url, "--json", report}),
                          20s);
  EXPECT_EQ(fail.exit_code, 3) << fail.out << fail.err;
  EXPECT_NE(fail.out.find("FAIL api: p95 < 10ms"), std::string::npos) << fail.out;
  EXPECT_NE(fail.err.find("thresholds failed"), std::string::npos);
  auto rep = read_json(report);
  EXPECT_FALSE(rep.at("thresholds").as_object().at("passed").as_bool());
  EXPECT_EQ(num(rep.at("requests")), 50);  // the report of a failing run is still complete
}

TEST_F(RunCliTest, VerboseLogsEveryRequest) {
  TestServer server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto r = run_process(run_argv({"--scenario", "normal", "--duration", "1s", "--url", url,
                                 "--verbose"}),
                       20s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::regex line(R"(\[ *\d+\.\d{3}s\] normal #\d+ (GET|POST|PATCH) /api/v1/users\S* HTTP/1\.1 -> 200 \S+ ok)");
  size_t n = 0;
  std::istringstream in(r.err);
  for (std::string l; std::getline(in, l);) n += std::regex_match(l, line);
  EXPECT_EQ(n, 20u) << r.err;
}

TEST_F(RunCliTest, EveryShippedModeAndScenarioRunsBriefly) {
  TestServer server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  for (std::string m : {"normal_traffic", "latency_injection", "error_injection", "token_bloat"}) {
    auto r = run_process(run_argv({"--mode", m, "--rate", "20", "--duration", "0.5s", "--url",
                                   url}),
                         20s);
    EXPECT_EQ(r.exit_code, 0) << m << r.out << r.err;
  }
  for (std::string s : {"normal", "peak", "error", "latency", "stress"}) {
    auto r = run_process(run_argv({"--scenario", s, "--duration", "0.5s", "--url", url}), 20s);
    EXPECT_EQ(r.exit_code, 0) << s << r.out << r.err;
  }
  // Every file under scenarios/ also runs from disk with -f (as a user's copy would).
  for (const auto& e : fs::directory_iterator(kSource + "/scenarios")) {
    if (e.path().extension() != ".yaml" || e.path().stem() == "demo-video") continue;
    auto r = run_process(run_argv({"-f", e.path().string(), "--duration", "0.5s", "--url", url,
                                   "--set", "checkout=true"}),
                         20s);
    bool uses_checkout = e.path().stem() == "blackfriday";
    if (uses_checkout) {
      EXPECT_EQ(r.exit_code, 0) << e.path() << r.out << r.err;
    } else {
      EXPECT_EQ(r.exit_code, 2) << e.path() << r.out << r.err;  // --set checkout: no effect
    }
  }
  auto list = run_process({kBinary, "scenarios", "--json"}, 10s);
  ASSERT_EQ(list.exit_code, 0);
  auto arr = json::parse(list.out).as_array();
  EXPECT_EQ(arr.size(), 11u);
  for (const auto& b : arr) EXPECT_FALSE(b.as_object().at("description").as_string().empty());
  auto show = run_process({kBinary, "scenarios", "--show", "peak"}, 10s);
  EXPECT_EQ(show.out, trafficsim::testing::read_file(kSource + "/scenarios/peak.yaml"));
}

TEST_F(RunCliTest, PlaysTheDemoVideoScriptWithNarrationAndAPhaseTable) {
  std::string report = dir_ + "/play.json";
  auto r = run_process({kBinary, "play", "demo-video", "--time-scale", "60", "-q", "--seed", "3",
                        "--data-dir", *catalog_dir_, "--catalog-rows", "20000", "--json", report},
                       30s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* s : {"[1/5]", "[5/5]", "Step 1: Show healthy baseline",
                        "Latency injection: 30 %", "Token bloat", "Back to healthy traffic",
                        "tokens/req"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  // Narration comes before its phase's stream line.
  EXPECT_LT(r.out.find("Token bloat"), r.out.find("HACKATHON_TRAFFIC_TOKEN_BLOAT"));
  // The final table wraps long titles at words: every title's words are there, none cut ("~").
  std::string table = r.out.substr(r.out.find("— phases"));
  EXPECT_EQ(table.find('~'), std::string::npos) << table;
  for (const char* word : {"Step 2: Trigger the latency monitor", "(0:30-1:30)"})
    EXPECT_NE(table.find(word), std::string::npos) << word << "\n" << table;
  auto rep = read_json(report);
  const auto& phases = rep.at("phases").as_array();
  ASSERT_EQ(phases.size(), 5u);
  // 30 s at 10/s compressed 60x: 0.5 s -> 5 requests; 60 s at 20/s -> 1 s -> 20 requests.
  EXPECT_EQ(num(phases[0].as_object().at("requests")), 5);
  EXPECT_EQ(num(phases[1].as_object().at("requests")), 20);
  EXPECT_EQ(phases[3].as_object().at("scenario").as_object().at("name").as_string(),
            "token_bloat");
}

// ---- bad input ------------------------------------------------------------------------------

TEST_F(RunCliTest, BadFlagsAndFilesGetClearMessagesAndExitTwo) {
  auto expect_usage = [&](std::vector<std::string> args, const std::string& needle) {
    auto r = run_process(run_argv(args), 20s);
    EXPECT_EQ(r.exit_code, 2) << needle << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << needle << "\n" << r.err;
  };
  expect_usage({"--mode", "normal_traffic", "--scenario", "peak"}, "mutually exclusive");
  expect_usage({"--mode", "fast_traffic"}, "invalid --mode 'fast_traffic'");
  expect_usage({"--scenario", "blackfridya"}, "invalid --scenario 'blackfridya'");
  expect_usage({"--rate", "ten"}, "--rate");
  expect_usage({"--duration", "5 minutes"}, "--duration");
  expect_usage({"--scenario", "peak", "--rate", "5"}, "--rate has no effect on scenario 'peak'");
  expect_usage({"--mode", "token_bloat", "--time-scale", "60"}, "--time-scale has no effect");
  expect_usage({"--samples", dir_ + "/missing.yaml"}, "cannot read samples file");
  expect_usage({"-f", dir_ + "/missing.yaml"}, "missing.yaml");
  std::string typo = write("typo.yaml",
                           "name: t\nduration: 1s\nstreams:\n  - name: s\n    rat: 10\n"
                           "    requests: [{path: /}]\n");
  expect_usage({"-f", typo}, "typo.yaml:5: streams[0].rat: unknown key");
  std::string bad_rate = write("rate.yaml",
                               "duration: 1s\nstreams:\n  - name: s\n    rate: fast\n"
                               "    requests: [{path: /}]\n");
  expect_usage({"-f", bad_rate}, "rate.yaml:4: streams[0](s).rate: expected a rate");
  std::string bad_tpl = write("tpl.yaml",
                              "duration: 1s\nstreams:\n  - name: s\n    rate: 1\n    requests:\n"
                              "      - path: /u/{{uuidd}}\n");
  expect_usage({"-f", bad_tpl}, "tpl.yaml:6: streams[0](s).requests[0].path: unknown function");
  std::string bad_threshold = write("th.yaml",
                                    "duration: 1s\nstreams:\n  - name: s\n    rate: 1\n"
                                    "    requests: [{path: /}]\n    thresholds: [\"p97 < 1s\"]\n");
  expect_usage({"-f", bad_threshold}, "th.yaml:6");
  std::string unset = write("var.yaml",
                            "duration: 1s\nstreams:\n  - name: s\n    rate: ${my_rate}\n"
                            "    requests: [{path: /}]\n");
  expect_usage({"-f", unset}, "variable 'my_rate' is not set");
  expect_usage({"-f", kSource + "/scenarios/demo-video.yaml"}, "is a demo script");
  // A bad DEMO_* variable names itself.
  auto r = run_process({"env", "DEMO_TIME_SCALE=fast", kBinary, "run", "--scenario",
                        "blackfriday", "--duration", "1s"},
                       20s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("DEMO_TIME_SCALE"), std::string::npos) << r.err;
  // play: a typo in the last phase is found before the first phase starts.
  std::string script = write("s.yaml",
                             "phases:\n  - mode: normal_traffic\n    duration: 30s\n"
                             "  - mode: token_blot\n    duration: 30s\n");
  auto p = run_process({kBinary, "play", script}, 20s);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("s.yaml:4: phases[1].mode: unknown mode 'token_blot'"), std::string::npos)
      << p.err;
  EXPECT_EQ(p.out.find("[1/2]"), std::string::npos);
  for (const char* cmd : {"run", "play", "scenarios"}) {
    auto h = run_process({kBinary, cmd, "--help"}, 10s);
    EXPECT_EQ(h.exit_code, 0) << cmd;
    EXPECT_NE(h.out.find("--"), std::string::npos);
  }
}

TEST_F(RunCliTest, CtrlCPrintsTheSummaryOfWhatWasDone) {
  TestServer server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  std::string report = dir_ + "/r.json";
  BackgroundProcess p(run_argv({"--scenario", "normal", "--duration", "60s", "--url", url,
                                "--json", report}));
  ASSERT_TRUE(server.wait_for_requests(20, 20s));
  p.send_signal(SIGINT);
  auto r = p.wait(20s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Stopped early"), std::string::npos) << r.out;
  auto rep = read_json(report);
  EXPECT_TRUE(rep.at("meta").as_object().at("stopped_early").as_bool());
  EXPECT_EQ(num(rep.at("requests")), static_cast<double>(server.requests()));
}

TEST_F(RunCliTest, TwoRunsSideBySideEachWithItsOwnBuiltInTarget) {
  BackgroundProcess a(run_argv({"--rate", "20", "--duration", "2s", "--json", dir_ + "/a.json"}));
  BackgroundProcess b(run_argv({"--mode", "error_injection", "--rate", "20", "--duration", "2s",
                                "--json", dir_ + "/b.json"}));
  auto ra = a.wait(30s), rb = b.wait(30s);
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(num(read_json(dir_ + "/a.json").at("requests")), 40);
  EXPECT_EQ(num(read_json(dir_ + "/b.json").at("requests")), 40);
}

}  // namespace

// A flag is validated as a flag: its error names the flag and the one documented maximum, never
// the built-in file the flag's value would have been substituted into.
TEST_F(RunCliTest, AFlagsErrorNamesTheFlagNotABuiltInFile) {
  auto r = run_process(run_argv({"--mode", "normal_traffic", "--rate", "20000k"}), 20s);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("invalid rate for --rate: '20000k' must be at most 10M req/s"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find(".yaml"), std::string::npos) << r.err;
  auto d = run_process(run_argv({"--mode", "normal_traffic", "--duration", "876000h"}), 20s);
  EXPECT_EQ(d.exit_code, 2) << d.out << d.err;
  EXPECT_NE(d.err.find("--duration: '876000h' must be at most 720h"), std::string::npos) << d.err;
  // The scenario reader accepts the same range and names the same maximum.
  std::string file = write("big.yaml",
                           "duration: 1s\nstreams:\n  - name: s\n    rate: 20000k\n"
                           "    requests: [{path: /}]\n");
  auto f = run_process(run_argv({"-f", file}), 20s);
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_NE(f.err.find("big.yaml:4: streams[0](s).rate: '20000k' must be at most 10M req/s"),
            std::string::npos)
      << f.err;
}

namespace {

// Monitors on a run (opt-in): --monitors FILE on the built-in target's /metrics, --fail-on-alert
// exits 3 and the report carries the transitions; a bad file is refused before anything runs.
TEST_F(RunCliTest, FailOnAlertTurnsAMonitorAlertIntoExitThree) {
  std::string mons = dir_ + "/mons.yaml";
  trafficsim::testing::write_file(mons, R"(monitors:
  - name: Slow classify
    signal: {quantile: 0.95, metric: llm_request_duration_seconds, scale: 1000, unit: ms}
    above: 1500
    window: 2s
)");
  std::string report = dir_ + "/r.json";
  auto r = run_process(run_argv({"--mode", "latency_injection", "--rate", "20", "--duration", "4s",
                                 "--monitors", mons, "--fail-on-alert", "--json", report}),
                       30s);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("ALERT   Slow classify"), std::string::npos) << r.out;
  auto j = json::parse(trafficsim::testing::read_file(report));
  const auto& m = j.at("monitors").as_object();
  EXPECT_EQ(m.at("source").as_string(), "the target's /metrics");  // the built-in's, by default
  EXPECT_TRUE(m.at("monitors").at(0).at("everAlerted").as_bool());
  EXPECT_FALSE(m.at("events").as_array().empty());

  std::string bad = dir_ + "/bad.yaml";
  trafficsim::testing::write_file(bad, "monitors:\n  - name: x\n    signal: {gauge: g}\n");
  auto refused = run_process(run_argv({"--mode", "normal_traffic", "--duration", "1s", "--monitors", bad}), 20s);
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find(bad + ":2: monitors[0]: give one threshold"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out.find("Running"), std::string::npos) << refused.out;
}

}  // namespace
