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
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/histogram.hpp"
#include "support/http_client.hpp"
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

// The container args of a rendered Job (`args: [...]`, JSON string syntax), or empty.
std::vector<std::string> pod_args(const fs::path& manifest) {
  std::ifstream in(manifest);
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find("args: [");
    if (at == std::string::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line.substr(at + 6), ec);
    if (ec || !v.is_array()) return {};
    std::vector<std::string> out;
    for (const auto& a : v.as_array()) out.emplace_back(a.as_string());
    return out;
  }
  return {};
}

// The segments' corrected-latency histograms decoded and added.
std::optional<trafficsim::core::LatencyHistogram> union_histogram(const fs::path& reports, int n) {
  std::optional<trafficsim::core::LatencyHistogram> whole;
  for (int i = 0; i < n; ++i) {
    json::object r = read_json(reports / fmt::format("segment-{}.json", i));
    auto h = trafficsim::core::LatencyHistogram::decode_compressed_base64(
        r.at("latency").at("corrected").at("histogram").as_string());
    if (!h) return std::nullopt;
    if (!whole) whole = std::move(*h);
    else whole->merge(*h);
  }
  return whole;
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
  // The command lines are the Kubernetes Job's own: rendered by `deploy k8s` for this plan and
  // start, with the pod's paths mapped to the test's (the ConfigMap's /plan, the claim's
  // /reports) and the index filled in as Kubernetes would; /metrics on a free loopback port,
  // no linger, one thread.
  const fs::path k8s = dir.path / "k8s";
  ProcessResult rendered =
      run({kBinary, "deploy", "k8s", "--segments", std::to_string(kHosts), "-f", plan.string(),
           "--start-at", start_at, "--target-url", url, "-o", k8s.string()});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.out << rendered.err;
  const std::vector<std::string> job_args = pod_args(k8s / "job.yaml");
  const std::vector<std::string> merge_args = pod_args(k8s / "merge-job.yaml");
  ASSERT_FALSE(job_args.empty());
  ASSERT_FALSE(merge_args.empty());
  auto as_here = [&](const std::vector<std::string>& args, int index) {
    std::vector<std::string> argv{kBinary};
    for (size_t k = 0; k < args.size(); ++k) {
      std::string a = args[k];
      if (a == "--metrics-linger") {  // the pod's 30 s for Prometheus's last scrape: none here
        ++k;
        continue;
      }
      if (k > 0 && args[k - 1] == "--metrics-listen") a = "127.0.0.1:0";
      for (auto [from, to] : {std::pair<std::string, std::string>{"/plan/scenario.yaml", plan.string()},
                              {"/reports", (dir.path / "reports").string()},
                              {"$(JOB_COMPLETION_INDEX)", std::to_string(index)}})
        for (size_t at = a.find(from); at != std::string::npos; at = a.find(from, at + to.size()))
          a.replace(at, from.size(), to);
      argv.push_back(a);
    }
    return argv;
  };
  std::vector<std::unique_ptr<BackgroundProcess>> segments;
  fs::create_directories(dir.path / "reports");
  for (int i = 0; i < kHosts; ++i) {
    std::vector<std::string> argv = as_here(job_args, i);
    argv.insert(argv.end(), {"-t", "1", "-q"});
    segments.push_back(std::make_unique<BackgroundProcess>(hosts.exec_in(hosts.host(i), argv)));
  }
  for (int i = 0; i < kHosts; ++i) {
    ProcessResult r = segments[i]->wait(30s);
    ASSERT_EQ(r.exit_code, 0) << "segment " << i << " judges nothing alone\n" << r.out << r.err;
  }

  // The merge: the merge Job's command line (a dry run of that step on these reports), exactly
  // the plan, judged on the whole.
  const fs::path merged_path = dir.path / "reports" / "merged.json";
  ProcessResult m = run(as_here(merge_args, 0));
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  ASSERT_TRUE(fs::exists(merged_path)) << m.out;
  // merged.json now sits beside the segments, as on the claim: the merge Job run again skips
  // its own output and writes the same figures.
  const std::string first_merge = json::serialize(read_json(merged_path).at("latency"));
  ProcessResult again = run(as_here(merge_args, 0));
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(json::serialize(read_json(merged_path).at("latency")), first_merge);
  fs::rename(merged_path, dir.path / "merged.json");
  json::object merged = read_json(dir.path / "merged.json");
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
    // Percentiles of the merge are exactly those of the segments' histograms added together.
    const auto whole = union_histogram(dir.path / "reports", kHosts);
    ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(static_cast<uint64_t>(whole->count()), count);
    for (auto [q, p] : {std::pair{"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}})
      EXPECT_EQ(pct(merged, q), static_cast<double>(whole->percentile(p))) << q;
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
  // The body of the distribution is the fixed 30 ms delay on both sides: p50 and p90 agree to
  // within 3 ms. p99 of 300 requests is the third-slowest one, which measures how the shared
  // 2-core machine scheduled the target at that moment (CI measured 35.9 ms single, 41.5 ms
  // merged, with three client processes beside the target): a looser bound there. That the
  // merge itself is exact is checked above against the union of the segments' histograms.
  for (const char* q : {"p50", "p90", "p99"}) {
    const double within = std::string_view(q) == "p99" ? 15'000.0 : 3'000.0;
    EXPECT_NEAR(pct(merged, q), pct(one, q), within) << q << " (µs)";
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

// --metrics-listen: while a segment runs, its /metrics carries the run's own families with
// segment="i" and segments="n" on every sample, which promtool accepts as an exposition.
TEST(ScaleOut, EachSegmentServesItsLiveMetricsWithASegmentLabel) {
  TempDir dir;
  BackgroundProcess target({kBinary, "target", "--listen", "127.0.0.1:0", "--catalog-rows", "1000",
                            "--data-dir", (dir.path / "data").string(), "--access-log", "off",
                            "--threads", "1"});
  ASSERT_TRUE(target.wait_for_stdout("listening on http://127.0.0.1:", 60s));
  const std::string tout = target.current_stdout();
  const std::string url =
      tout.substr(tout.find("http://127.0.0.1:"), tout.find('\n') - tout.find("http://127.0.0.1:"));
  BackgroundProcess seg({kBinary, "run", "--mode", "normal_traffic", "--rate", "40", "--duration",
                         "6s", "--url", url, "--segment", "1/2", "--metrics-listen",
                         "127.0.0.1:0", "-q"});
  ASSERT_TRUE(seg.wait_for_stdout("metrics on http://127.0.0.1:", 20s)) << seg.current_stderr();
  const std::string out = seg.current_stdout();
  const auto at = out.find("metrics on http://127.0.0.1:") + std::string("metrics on http://127.0.0.1:").size();
  const auto port = static_cast<uint16_t>(std::atoi(out.c_str() + at));
  ASSERT_GT(port, 0) << out;
  // The first drain (500 ms) brings the first counts: poll until they are there.
  std::string page;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = trafficsim::testing::http_call(port, "GET", "/metrics");
    if (r.status == 200) page = r.body;
    if (page.find("http_requests_total{") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);  // polling a condition with a deadline
  }
  EXPECT_NE(page.find("trafficsim_segment_info{segment=\"1\",segments=\"2\"} 1"), std::string::npos)
      << page;
  EXPECT_NE(page.find("http_requests_total{segment=\"1\",segments=\"2\","), std::string::npos)
      << page;
  EXPECT_NE(page.find("http_request_duration_seconds_bucket{segment=\"1\",segments=\"2\","),
            std::string::npos);
  const fs::path file = dir.path / "metrics.txt";
  std::ofstream(file) << page;
  // promtool reads the exposition on stdin.
  ProcessResult promtool = run({"sh", "-c", "promtool check metrics < " + file.string()}, 10s);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;
  EXPECT_EQ(trafficsim::testing::http_call(port, "GET", "/other").status, 404);
  ProcessResult done = seg.wait(20s);
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
  // Bad addresses are refused naming the flag.
  ProcessResult bad = run({kBinary, "run", "--mode", "normal_traffic", "--url", url,
                           "--metrics-listen", "127.0.0.1:99999"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--metrics-listen"), std::string::npos) << bad.err;
  target.send_signal(SIGTERM);
  target.wait(10s);
}


// The demo target on a free loopback port; returns its URL.
std::string start_target(BackgroundProcess& target) {
  if (!target.wait_for_stdout("listening on http://127.0.0.1:", 60s)) return {};
  const std::string out = target.current_stdout();
  const auto at = out.find("http://127.0.0.1:");
  return out.substr(at, out.find_first_of(" \n", at) - at);
}

uint16_t port_after(const std::string& out, const std::string& marker) {
  const auto at = out.find(marker);
  if (at == std::string::npos) return 0;
  return static_cast<uint16_t>(std::atoi(out.c_str() + at + marker.size()));
}

json::object get_json(uint16_t port, const std::string& path) {
  auto r = trafficsim::testing::http_call(port, "GET", path);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

uint64_t total_requests(const json::object& segments) {
  const auto* r = segments.if_contains("requests");
  return r ? r->to_number<uint64_t>() : 0;
}

int64_t up_count(const json::object& segments) {
  const auto* r = segments.if_contains("up");
  return r ? r->as_int64() : -1;
}

// Two segments of one plan, each with --metrics-listen, started on one --start-at: the segments'
// commands, their /metrics ports.
struct LiveSegments {
  std::vector<std::unique_ptr<BackgroundProcess>> procs;
  std::vector<uint16_t> ports;
};

LiveSegments start_segments(const fs::path& plan, const std::string& url, int n,
                            const std::string& linger) {
  LiveSegments live;
  const std::string start_at = fmt::format(
      "{:.3f}", std::chrono::duration<double>(
                    (std::chrono::system_clock::now() + 2s).time_since_epoch())
                    .count());
  for (int i = 0; i < n; ++i)
    live.procs.push_back(std::make_unique<BackgroundProcess>(std::vector<std::string>{
        kBinary, "run", "-f", plan.string(), "--url", url, "--segment", fmt::format("{}/{}", i, n),
        "--start-at", start_at, "--metrics-listen", "127.0.0.1:0", "--metrics-linger", linger,
        "-t", "1", "-q"}));
  for (auto& p : live.procs) {
    if (!p->wait_for_stdout("metrics on http://127.0.0.1:", 20s)) return live;
    live.ports.push_back(port_after(p->current_stdout(), "metrics on http://127.0.0.1:"));
  }
  return live;
}

// serve --segments: the dashboard's view of a distributed run, from the segments' own /metrics.
// While it runs the segments are up and counting; at the end the sum is exactly the plan, and
// it stays so once the segments are gone. The Metrics page charts the sum as one source.
TEST(ScaleOut, ServeWatchesADistributedRunAndCountsExactlyThePlan) {
  TempDir dir;
  BackgroundProcess target({kBinary, "target", "--listen", "127.0.0.1:0", "--catalog-rows", "500",
                            "--data-dir", (dir.path / "data").string(), "--access-log", "off",
                            "--threads", "1"});
  const std::string url = start_target(target);
  ASSERT_FALSE(url.empty()) << target.current_stdout() << target.current_stderr();
  const fs::path plan = dir.path / "plan.yaml";
  std::ofstream(plan) << "name: watched\nduration: 3s\nstreams:\n  - name: api\n    rate: 100\n"
                         "    requests:\n      - path: /health\n";
  LiveSegments live = start_segments(plan, url, 2, "4s");
  ASSERT_EQ(live.ports.size(), 2u);

  BackgroundProcess serve({kBinary, "serve", "--target", url, "--listen", "127.0.0.1:0",
                           "--no-monitors", "--segments",
                           fmt::format("127.0.0.1:{}", live.ports[0]),
                           fmt::format("http://127.0.0.1:{}/metrics", live.ports[1])});
  ASSERT_TRUE(serve.wait_for_stdout("watching a distributed run", 20s))
      << serve.current_stdout() << serve.current_stderr();
  const uint16_t port = port_after(serve.current_stdout(), "http://127.0.0.1:");
  ASSERT_GT(port, 0);

  // Exactly the plan once both segments drained their last interval (their /metrics linger).
  json::object seen;
  bool both_up = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = get_json(port, "/api/v1/telemetry/segments");
    if (up_count(seen) == 2 && total_requests(seen) > 0) both_up = true;
    if (total_requests(seen) == 300) break;
    std::this_thread::sleep_for(100ms);  // polling a condition with a deadline
  }
  EXPECT_TRUE(both_up) << json::serialize(seen);
  EXPECT_EQ(total_requests(seen), 300u) << json::serialize(seen);
  EXPECT_EQ(seen.at("known").as_int64(), 2);
  for (const auto& s : seen.at("segments").as_array())
    EXPECT_EQ(s.at("requests").to_number<uint64_t>(), 150u) << json::serialize(s);
  EXPECT_EQ(seen.at("segments").as_array().at(1).at("segment").as_string(), "1");

  // The Metrics page: a request-rate series of the source "segments".
  json::object metrics = get_json(port, "/api/v1/telemetry/metrics");
  bool charted = false;
  for (const auto& chart : metrics.at("charts").as_array()) {
    if (chart.at("id").as_string() != "request_rate") continue;
    for (const auto& series : chart.at("series").as_array())
      if (series.at("source").as_string() == "segments") charted = true;
  }
  EXPECT_TRUE(charted) << json::serialize(metrics);

  for (auto& p : live.procs) EXPECT_EQ(p->wait(20s).exit_code, 0);
  // The segments are gone: down, and their counts stay in the sum.
  const auto gone = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < gone) {
    seen = get_json(port, "/api/v1/telemetry/segments");
    if (up_count(seen) == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(up_count(seen), 0) << json::serialize(seen);
  EXPECT_EQ(total_requests(seen), 300u);
  serve.send_signal(SIGINT);
  EXPECT_EQ(serve.wait(10s).exit_code, 0);

  // Bad flags: named, exit 2.
  ProcessResult bad = run({kBinary, "serve", "--target", url, "--listen", "127.0.0.1:0",
                           "--segments", "ftp://x/"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--segments"), std::string::npos) << bad.err;
  bad = run({kBinary, "serve", "--target", url, "--listen", "127.0.0.1:0", "--monitor-source",
             "segments"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--monitor-source segments"), std::string::npos) << bad.err;
  bad = run({kBinary, "run", "--mode", "normal_traffic", "--url", url, "--metrics-linger", "5s"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--metrics-linger"), std::string::npos) << bad.err;
  target.send_signal(SIGTERM);
  target.wait(10s);
}

// The same through a real Prometheus that scrapes the segments (as it would in Kubernetes):
// serve --segments-prometheus reads its /federate, and the sum of the segment-labelled series is
// the plan. Skips, saying so, without a prometheus binary (scripts/setup.sh installs it).
TEST(ScaleOut, ServeReadsADistributedRunThroughPrometheus) {
  std::string prometheus;
  for (const char* p : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"})
    if (fs::exists(p)) prometheus = p;
  if (prometheus.empty()) GTEST_SKIP() << "prometheus not installed (Debian package prometheus)";
  TempDir dir;
  BackgroundProcess target({kBinary, "target", "--listen", "127.0.0.1:0", "--catalog-rows", "500",
                            "--data-dir", (dir.path / "data").string(), "--access-log", "off",
                            "--threads", "1"});
  const std::string url = start_target(target);
  ASSERT_FALSE(url.empty()) << target.current_stdout() << target.current_stderr();
  const fs::path plan = dir.path / "plan.yaml";
  std::ofstream(plan) << "name: federated\nduration: 3s\nstreams:\n  - name: api\n    rate: 100\n"
                         "    requests:\n      - path: /health\n";
  // Prometheus first (it takes a while to be ready), scraping two ports the segments will take.
  const int p0 = trafficsim::testing::free_port(), p1 = trafficsim::testing::free_port();
  const int prom_port = trafficsim::testing::free_port();
  const fs::path config = dir.path / "prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\nscrape_configs:\n"
                           "  - job_name: trafficsim-segments\n    static_configs:\n"
                           "      - targets: [\"127.0.0.1:" << p0 << "\", \"127.0.0.1:" << p1
                        << "\"]\n";
  BackgroundProcess prom({prometheus, "--config.file=" + config.string(),
                          "--storage.tsdb.path=" + (dir.path / "tsdb").string(),
                          "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)});
  const auto ready_by = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < ready_by && prom.running() &&
         trafficsim::testing::http_call(static_cast<uint16_t>(prom_port), "GET", "/-/ready", {},
                                        {}, 1s)
                 .status != 200)
    std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(prom.running()) << prom.current_stderr();

  const std::string start_at = fmt::format(
      "{:.3f}", std::chrono::duration<double>(
                    (std::chrono::system_clock::now() + 2s).time_since_epoch())
                    .count());
  std::vector<std::unique_ptr<BackgroundProcess>> segs;
  for (int i = 0; i < 2; ++i)
    segs.push_back(std::make_unique<BackgroundProcess>(std::vector<std::string>{
        kBinary, "run", "-f", plan.string(), "--url", url, "--segment", fmt::format("{}/2", i),
        "--start-at", start_at, "--metrics-listen", fmt::format("127.0.0.1:{}", i == 0 ? p0 : p1),
        "--metrics-linger", "4s", "-t", "1", "-q"}));
  BackgroundProcess serve({kBinary, "serve", "--target", url, "--listen", "127.0.0.1:0",
                           "--no-monitors", "--segments-prometheus",
                           fmt::format("http://127.0.0.1:{}", prom_port)});
  ASSERT_TRUE(serve.wait_for_stdout("watching a distributed run", 20s))
      << serve.current_stdout() << serve.current_stderr();
  const uint16_t port = port_after(serve.current_stdout(), "http://127.0.0.1:");
  json::object seen;
  const auto deadline = std::chrono::steady_clock::now() + 25s;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = get_json(port, "/api/v1/telemetry/segments");
    if (total_requests(seen) == 300) break;
    std::this_thread::sleep_for(200ms);  // polling a condition with a deadline
  }
  EXPECT_EQ(seen.at("mode").as_string(), "prometheus");
  EXPECT_EQ(total_requests(seen), 300u) << json::serialize(seen);
  EXPECT_EQ(seen.at("known").as_int64(), 2) << json::serialize(seen);
  for (auto& p : segs) EXPECT_EQ(p->wait(20s).exit_code, 0) << p->current_stderr();
  serve.send_signal(SIGINT);
  EXPECT_EQ(serve.wait(10s).exit_code, 0);
  prom.send_signal(SIGTERM);
  prom.wait(10s);
  target.send_signal(SIGTERM);
  target.wait(10s);
}

}  // namespace
