// `trafficsim target` as a user runs it: the URL on the first line, bad flags and environment,
// a corrupt or unwritable catalog, many idle connections, Ctrl+C.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
using trafficsim::testing::BackgroundProcess;
using trafficsim::testing::http_call;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

class TargetCliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = trafficsim::testing::temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> target_argv(std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {kBinary,          "target",         "--listen",
                                     "127.0.0.1:0",    "--data-dir",     dir_,
                                     "--catalog-rows", "20000",          "--access-log",
                                     "off"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Starts the target and returns its port (0 when it did not come up).
  uint16_t start(BackgroundProcess& p) const {
    if (!p.wait_for_stdout("\n", 30s)) return 0;
    std::smatch m;
    std::string out = p.current_stdout();
    std::string first = out.substr(0, out.find('\n'));
    if (!std::regex_search(first, m, std::regex(R"(http://127\.0\.0\.1:(\d+))"))) return 0;
    return static_cast<uint16_t>(std::stoi(m[1]));
  }

  std::string dir_;
};

TEST_F(TargetCliTest, PrintsTheUrlOnTheFirstLineServesAndStopsOnSigint) {
  BackgroundProcess p(target_argv());
  uint16_t port = start(p);
  ASSERT_NE(port, 0) << p.current_stdout() << p.current_stderr();
  EXPECT_EQ(http_call(port, "GET", "/health/live").status, 200);
  EXPECT_TRUE(fs::exists(dir_ + "/catalog.sqlite"));
  p.send_signal(SIGINT);
  auto r = p.wait(10s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(TargetCliTest, ReusesTheCatalogAndRebuildsACorruptOne) {
  {
    BackgroundProcess p(target_argv());
    ASSERT_NE(start(p), 0);
    EXPECT_TRUE(p.wait_for_stderr("generated", 5s)) << p.current_stderr();
  }
  {
    BackgroundProcess p(target_argv());
    ASSERT_NE(start(p), 0);
    EXPECT_TRUE(p.wait_for_stderr("reused", 5s)) << p.current_stderr();
  }
  {
    std::ofstream(dir_ + "/catalog.sqlite", std::ios::trunc) << std::string(5000, '\x7f');
  }
  BackgroundProcess p(target_argv());
  uint16_t port = start(p);
  ASSERT_NE(port, 0) << p.current_stderr();
  EXPECT_TRUE(p.wait_for_stderr("rebuilt", 5s)) << p.current_stderr();
  EXPECT_EQ(http_call(port, "GET", "/products?category=books").status, 200);
}

TEST_F(TargetCliTest, AFullDiskIsAClearErrorNotACrash) {
  // prlimit caps the file size the catalog may be written with (as a full disk would).
  std::vector<std::string> argv = {"prlimit", "--fsize=262144"};
  auto rest = target_argv();
  argv.insert(argv.end(), rest.begin(), rest.end());
  auto r = trafficsim::testing::run_process(argv, 30s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/catalog.sqlite"));
}

TEST_F(TargetCliTest, BadFlagsAndEnvironmentExitTwoNamingTheField) {
  struct Case {
    std::vector<std::string> argv;
    std::string needle;
  };
  std::vector<Case> cases = {
      {{kBinary, "target", "--listen", "127.0.0.1:99999"}, "--listen"},
      {{kBinary, "target", "--listen", "nonsense:port"}, "--listen"},
      {{kBinary, "target", "--catalog-rows", "0"}, "--catalog-rows"},
      {{kBinary, "target", "--idle-timeout", "soon"}, "--idle-timeout"},
      {{kBinary, "target", "--read-timeout", "0s"}, "--read-timeout"},
      {{kBinary, "target", "--max-connections", "0"}, "--max-connections"},
      {{"env", "DEMO_TIME_SCALE=fast", kBinary, "target"}, "DEMO_TIME_SCALE"},
      {{"env", "DEMO_MODE=cybermonday", kBinary, "target"}, "DEMO_MODE"},
      {{"env", "DEMO_START_TIMESTAMP=yesterday", kBinary, "target"}, "DEMO_START_TIMESTAMP"},
      // An empty key would turn authentication off without a word.
      {{kBinary, "target", "--api-key", ""}, "invalid --api-key '': an empty key would turn"},
      {{"env", "TRAFFICSIM_API_KEY=", kBinary, "target"}, "TRAFFICSIM_API_KEY"},
  };
  for (const auto& c : cases) {
    auto r = trafficsim::testing::run_process(c.argv, 10s);
    EXPECT_EQ(r.exit_code, 2) << c.argv.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
  }
  auto busy = BackgroundProcess(target_argv());
  uint16_t port = start(busy);
  ASSERT_NE(port, 0);
  auto r = trafficsim::testing::run_process(
      {kBinary, "target", "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", dir_,
       "--catalog-rows", "20000"},
      20s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::to_string(port)), std::string::npos) << r.err;
}

TEST_F(TargetCliTest, HelpListsTheOptions) {
  auto r = trafficsim::testing::run_process({kBinary, "target", "--help"}, 10s);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--listen", "--data-dir", "--catalog-rows", "--access-log", "DEMO_MODE"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST_F(TargetCliTest, TenThousandIdleConnectionsKeepMemoryBounded) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 10'300) GTEST_SKIP() << "ulimit -Hn too low";
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  BackgroundProcess p(target_argv({"--threads", "2"}));
  uint16_t port = start(p);
  ASSERT_NE(port, 0);
  ASSERT_EQ(http_call(port, "GET", "/health/live").status, 200);
  long before = rss_kib(p.pid());
  std::vector<int> fds;
  for (int i = 0; i < 10'000; ++i) {
    int fd = trafficsim::testing::connect_loopback(port);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  EXPECT_EQ(fds.size(), 10'000u);
  // Served while they idle: the newest connection is accepted and answered.
  auto r = http_call(port, "GET", "/health/live");
  EXPECT_EQ(r.status, 200);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string metrics;
  while (std::chrono::steady_clock::now() < deadline) {
    metrics = http_call(port, "GET", "/metrics").body;
    if (metrics.find("http_connections_open 1000") != std::string::npos) break;
  }
  long after = rss_kib(p.pid());
  for (int fd : fds) ::close(fd);
  ASSERT_GT(before, 0);
  // About 3 KiB per idle connection; 10 000 of them stay well under 64 MiB.
  EXPECT_LT(after - before, 64 * 1024) << "before " << before << " KiB, after " << after << " KiB";
  RecordProperty("rss_growth_kib", std::to_string(after - before));
}

}  // namespace
