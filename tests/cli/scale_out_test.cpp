// Scale-out on one machine (issue 14): n network namespaces as n hosts, each running one segment
// of the same `trafficsim run` command line against the demo target in a namespace of its own,
// all started on one --start-at. Traffic flows only between the namespaces this test makes (veth
// pairs to the target's namespace; the target's address lives there). Where namespaces cannot be
// made (no root, no `ip`), the test says so and runs the same check with n processes on
// loopback. The namespaces are removed whatever happens (RAII, also on a failed assertion).
//
// The merged report must hold exactly the plan's arrivals, its latency summary must be the exact
// union of the segments' (counts and sums add up, min and max are the segments' extremes), its
// percentiles
// must match a single-process run of the same plan (the target delays every request by a fixed
// 30 ms: two runs differ only by scheduling jitter, bounded here at 3 ms), and thresholds judged
// on the merge must match the single run's verdict (each segment alone would fail one of them).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/process.hpp"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using trafficsim::testing::BackgroundProcess;
using trafficsim::testing::ProcessResult;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;
constexpr int kHosts = 3;
constexpr int kPort = 18080;  // inside the target's own namespace: nothing else listens there

ProcessResult run(std::vector<std::string> argv, std::chrono::milliseconds deadline = 30s) {
  return trafficsim::testing::run_process(std::move(argv), deadline);
}

bool sh_ok(const std::vector<std::string>& argv) {
  ProcessResult r = run(argv, 10s);
  return r.exit_code == 0;
}

// n host namespaces and one target namespace, each host joined to the target by a veth pair;
// the target's service address 10.213.255.1 sits on its loopback and every host routes to it.
class Hosts {
 public:
  explicit Hosts(int n) : prefix_(fmt::format("tsmh{}", ::getpid() % 100000)) {
    if (std::getenv("TRAFFICSIM_TEST_NO_NETNS") != nullptr) {
      why_ = "TRAFFICSIM_TEST_NO_NETNS is set";
      return;
    }
    if (::geteuid() != 0) {
      why_ = "not root: network namespaces need CAP_SYS_ADMIN";
      return;
    }
    if (!sh_ok({"ip", "netns", "add", target()})) {
      why_ = "`ip netns add` failed (no ip, or namespaces not allowed here)";
      return;
    }
    made_.push_back(target());
    bool ok = sh_ok(exec_in(target(), {"ip", "link", "set", "lo", "up"})) &&
              sh_ok(exec_in(target(), {"ip", "addr", "add", "10.213.255.1/32", "dev", "lo"}));
    for (int i = 0; ok && i < n; ++i) {
      const std::string h = host(i);
      const std::string a = fmt::format("{}a{}", prefix_, i), b = fmt::format("{}b{}", prefix_, i);
      ok = sh_ok({"ip", "netns", "add", h});
      if (!ok) break;
      made_.push_back(h);
      ok = sh_ok({"ip", "link", "add", a, "netns", h, "type", "veth", "peer", "name", b, "netns",
                  target()}) &&
           sh_ok(exec_in(h, {"ip", "link", "set", "lo", "up"})) &&
           sh_ok(exec_in(h, {"ip", "addr", "add", fmt::format("10.213.{}.2/30", i), "dev", a})) &&
           sh_ok(exec_in(h, {"ip", "link", "set", a, "up"})) &&
           sh_ok(exec_in(target(),
                         {"ip", "addr", "add", fmt::format("10.213.{}.1/30", i), "dev", b})) &&
           sh_ok(exec_in(target(), {"ip", "link", "set", b, "up"})) &&
           sh_ok(exec_in(h, {"ip", "route", "add", "10.213.255.1/32", "via",
                             fmt::format("10.213.{}.1", i)}));
    }
    if (!ok) {
      why_ = "setting up the veth pairs failed";
      cleanup();
      return;
    }
    enabled_ = true;
  }
  ~Hosts() { cleanup(); }
  Hosts(const Hosts&) = delete;
  Hosts& operator=(const Hosts&) = delete;

  bool enabled() const { return enabled_; }
  const std::string& why_not() const { return why_; }
  std::string target() const { return prefix_ + "t"; }
  std::string host(int i) const { return fmt::format("{}h{}", prefix_, i); }
  // argv run inside namespace ns (or as it is on loopback when namespaces are off).
  std::vector<std::string> exec_in(const std::string& ns, std::vector<std::string> argv) const {
    if (!enabled_ && made_.empty()) return argv;
    argv.insert(argv.begin(), {"ip", "netns", "exec", ns});
    return argv;
  }

 private:
  void cleanup() {
    // Deleting a namespace deletes its veth ends (and their peers) with it.
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      run({"ip", "netns", "pids", *it}, 5s);  // (informational; processes are ours and gone)
      run({"ip", "netns", "del", *it}, 10s);
    }
    made_.clear();
    enabled_ = false;
  }
  std::string prefix_;
  std::vector<std::string> made_;
  bool enabled_ = false;
  std::string why_;
};

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / fmt::format("trafficsim-scaleout-{}", ::getpid());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

json::object read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_object();
}

uint64_t num(const json::value& v) { return v.to_number<uint64_t>(); }

double pct(const json::object& report, const char* q) {
  return report.at("latency").at("corrected").at(std::string(q) + "_us").to_number<double>();
}

TEST(ScaleOut, SegmentsOnSeparateHostsMergeExactlyAndAreJudgedOnTheWhole) {
  Hosts hosts(kHosts);
  if (!hosts.enabled())
    std::fprintf(stderr, "[ note     ] no network namespaces (%s): n processes on loopback\n",
                 hosts.why_not().c_str());
  TempDir dir;
  const std::string addr = hosts.enabled() ? "10.213.255.1" : "127.0.0.1";
  const int port = hosts.enabled() ? kPort : 0;

  BackgroundProcess target(hosts.exec_in(
      hosts.target(), {kBinary, "target", "--listen", fmt::format("{}:{}", addr, port),
                       "--catalog-rows", "1000", "--data-dir", (dir.path / "data").string(),
                       "--access-log", "off", "--threads", "1"}));
  ASSERT_TRUE(target.wait_for_stdout("listening", 60s))
      << target.current_stdout() << target.current_stderr();
  std::string url = fmt::format("http://{}:{}", addr, port);
  if (port == 0) {
    // "port 0: a free port, printed first"
    const std::string out = target.current_stdout();
    const auto colon = out.find(addr + ":");
    ASSERT_NE(colon, std::string::npos) << out;
    url = fmt::format("http://{}:{}", addr, std::atoi(out.c_str() + colon + addr.size() + 1));
  }
  // Every GET /products waits a fixed 30 ms: latency dominated by a known delay.
  ProcessResult fault = run(hosts.exec_in(
      hosts.host(0),
      {kBinary, "bench", url + "/admin/faults", "-m", "POST", "-H", "Content-Type: application/json",
       "--body", R"({"name":"fixed","route":"/products","delay":{"mean_ms":30}})", "-R", "1",
       "-d", "1s", "-q", "--expect", "201"}));
  ASSERT_EQ(fault.exit_code, 0) << fault.out << fault.err;

  // The plan: 150 req/s for 2 s = 300 arrivals. Thresholds: "requests >= 300" fails on any one
  // segment alone (100 each) and passes on the whole; p95 < 2s passes everywhere.
  const fs::path plan = dir.path / "plan.yaml";
  std::ofstream(plan) << "name: scale-out\nduration: 2s\nstreams:\n  - name: api\n    rate: 150\n"
                         "    requests:\n      - path: /products?limit=5\n    thresholds:\n"
                         "      - \"requests >= 300\"\n      - \"p95 < 2s\"\n";
  const std::string start_at = fmt::format(
      "{:.3f}", std::chrono::duration<double>(
                    (std::chrono::system_clock::now() + 3s).time_since_epoch())
                    .count());
  std::vector<std::unique_ptr<BackgroundProcess>> segments;
  for (int i = 0; i < kHosts; ++i)
    segments.push_back(std::make_unique<BackgroundProcess>(hosts.exec_in(
        hosts.host(i),
        {kBinary, "run", "-f", plan.string(), "--url", url, "--segment",
         fmt::format("{}/{}", i, kHosts), "--start-at", start_at, "-t", "1", "-q", "--json",
         (dir.path / "reports" / fmt::format("segment-{}.json", i)).string()})));
  fs::create_directories(dir.path / "reports");
  for (int i = 0; i < kHosts; ++i) {
    ProcessResult r = segments[i]->wait(30s);
    ASSERT_EQ(r.exit_code, 0) << "segment " << i << " judges nothing alone\n" << r.out << r.err;
  }

  // The merge: exactly the plan, judged on the whole.
  const fs::path merged_path = dir.path / "merged.json";
  ProcessResult m = run({kBinary, "report", "merge", (dir.path / "reports").string(), "--json",
                         merged_path.string()});
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  json::object merged = read_json(merged_path);
  EXPECT_EQ(num(merged.at("requests")) + num(merged.at("dropped")), 300u);
  EXPECT_EQ(num(merged.at("dropped")), 0u);
  EXPECT_TRUE(merged.at("thresholds").at("passed").as_bool()) << json::serialize(merged.at("thresholds"));
  EXPECT_LT(merged.at("meta").at("start_skew_ms").to_number<double>(), 50.0);
  {
    uint64_t count = 0;
    double sum = 0, lo = 1e18, hi = 0;
    for (int i = 0; i < kHosts; ++i) {
      json::object r = read_json(dir.path / "reports" / fmt::format("segment-{}.json", i));
      EXPECT_EQ(num(r.at("requests")), 100u) << "segment " << i << ": arrivals k mod 3 = " << i;
      const auto& c = r.at("latency").at("corrected").as_object();
      count += num(c.at("count"));
      sum += c.at("sum_us").to_number<double>();
      lo = std::min(lo, c.at("min_us").to_number<double>());
      hi = std::max(hi, c.at("max_us").to_number<double>());
    }
    const auto& c = merged.at("latency").at("corrected").as_object();
    EXPECT_EQ(num(c.at("count")), count);
    EXPECT_NEAR(c.at("sum_us").to_number<double>(), sum, 1.0);
    EXPECT_EQ(c.at("min_us").to_number<double>(), lo);
    EXPECT_EQ(c.at("max_us").to_number<double>(), hi);
  }

  // The single-process run of the same plan from one host, started on its own.
  const fs::path single_path = dir.path / "single.json";
  ProcessResult single = run(hosts.exec_in(hosts.host(0), {kBinary, "run", "-f", plan.string(),
                                                           "--url", url, "-t", "1", "-q",
                                                           "--json", single_path.string()}));
  ASSERT_EQ(single.exit_code, 0) << single.out << single.err;
  json::object one = read_json(single_path);
  EXPECT_EQ(num(one.at("requests")), num(merged.at("requests")));
  EXPECT_EQ(one.at("thresholds").at("passed"), merged.at("thresholds").at("passed"));
  for (const char* q : {"p50", "p90", "p99"}) {
    EXPECT_NEAR(pct(merged, q), pct(one, q), 3000.0) << q << " (µs)";
    EXPECT_GE(pct(merged, q), 30'000.0) << q << ": the fixed delay";
  }

  // A threshold the whole run fails is failed by the merge too (exit 3), like the single run.
  std::ofstream(plan, std::ios::trunc)
      << "name: scale-out\nduration: 2s\nstreams:\n  - name: api\n    rate: 150\n"
         "    requests:\n      - path: /products?limit=5\n    thresholds:\n"
         "      - \"p50 < 10ms\"\n";
  // The reports carry their thresholds: rewrite them in the merged inputs by re-running is slow;
  // instead merge the same reports with the condition edited in, as the plan now says.
  for (int i = 0; i < kHosts; ++i) {
    const fs::path p = dir.path / "reports" / fmt::format("segment-{}.json", i);
    json::object r = read_json(p);
    auto& results = r.at("thresholds").as_object().at("results").as_array();
    for (auto& t : results) {
      t.as_object()["condition"] = "p50 < 10ms";
    }
    std::ofstream(p, std::ios::trunc) << json::serialize(r);
  }
  ProcessResult failing = run({kBinary, "report", "merge", (dir.path / "reports").string()});
  EXPECT_EQ(failing.exit_code, 3) << failing.out << failing.err;
  EXPECT_NE(failing.out.find("p50 < 10ms"), std::string::npos) << failing.out;

  target.send_signal(SIGTERM);
  target.wait(10s);
}

}  // namespace
