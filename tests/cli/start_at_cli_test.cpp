// `--start-at` end to end: segments of one plan launched as separate processes start on one
// instant, a late start keeps the schedule (missed arrivals sent at once, counted late), and bad
// or far-past instants exit 2. Processes are waited for with deadlines, never a fixed sleep.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using trafficsim::testing::BackgroundProcess;
using trafficsim::testing::ProcessResult;
using namespace std::chrono_literals;
using SysClock = std::chrono::system_clock;

const std::string kBinary = TRAFFICSIM_BINARY;

ProcessResult trafficsim(std::vector<std::string> args, std::chrono::milliseconds deadline = 15s) {
  args.insert(args.begin(), kBinary);
  return trafficsim::testing::run_process(std::move(args), deadline);
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           fmt::format("trafficsim-startat-{}-{}", ::getpid(),
                       SysClock::now().time_since_epoch().count());
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

std::string unix_text(SysClock::time_point t) {
  return fmt::format("{:.6f}", std::chrono::duration<double>(t.time_since_epoch()).count());
}

int64_t unix_us(const json::value& rfc3339) {
  auto t = trafficsim::core::parse_rfc3339(rfc3339.as_string());
  EXPECT_TRUE(t) << rfc3339;
  return t ? std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count()
           : 0;
}

TEST(StartAtCli, FourSegmentsOfOnePlanStartWithin50MsOfEachOther) {
  trafficsim::testing::TestServer server;
  TempDir dir;
  const auto start_at = SysClock::now() + 2s;
  const std::string at = unix_text(start_at);
  std::vector<std::unique_ptr<BackgroundProcess>> procs;
  for (int i = 0; i < 4; ++i)
    procs.push_back(std::make_unique<BackgroundProcess>(std::vector<std::string>{
        kBinary, "bench", server.url("/"), "-R", "400", "-d", "1s", "-t", "1", "-c", "16",
        "--segment", fmt::format("{}/4", i), "--start-at", at, "-q", "--json",
        (dir.path / fmt::format("s{}.json", i)).string()}));
  for (auto& p : procs) {
    ProcessResult r = p->wait(20s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  const int64_t start_us =
      std::chrono::duration_cast<std::chrono::microseconds>(start_at.time_since_epoch()).count();
  std::vector<int64_t> started;
  for (int i = 0; i < 4; ++i) {
    json::object r = read_json(dir.path / fmt::format("s{}.json", i));
    const auto& meta = r.at("meta").as_object();
    // The requested instant, as given (to the microsecond), and the first actual send.
    EXPECT_LE(std::abs(unix_us(meta.at("start_at")) - start_us), 1) << meta.at("start_at");
    started.push_back(unix_us(meta.at("started_at")));
    EXPECT_GE(started.back(), start_us - 1000) << "segment " << i << " started early";
    EXPECT_EQ(r.at("requests").to_number<uint64_t>() + r.at("dropped").to_number<uint64_t>(), 100u);
  }
  auto [lo, hi] = std::minmax_element(started.begin(), started.end());
  EXPECT_LT(*hi - *lo, 50'000) << "start skew " << (*hi - *lo) << " us";

  // The merge reports the same skew, from the segments' started_at.
  ProcessResult m = trafficsim({"report", "merge", dir.path.string(), "--json",
                                (dir.path / "merged.out").string()});
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  json::object merged = read_json(dir.path / "merged.out");
  const auto& mm = merged.at("meta").as_object();
  EXPECT_EQ(mm.at("start_at"), read_json(dir.path / "s0.json").at("meta").at("start_at"));
  EXPECT_NEAR(mm.at("start_skew_ms").to_number<double>(),
              static_cast<double>(*hi - *lo) / 1000.0, 0.0011);
  EXPECT_EQ(unix_us(mm.at("started_at")), *lo);
  EXPECT_EQ(merged.at("requests").to_number<uint64_t>() + merged.at("dropped").to_number<uint64_t>(), 400u);
}

TEST(StartAtCli, LateStartSendsEveryPlannedArrivalAndCountsTheMissedOnesLate) {
  trafficsim::testing::TestServer server;
  TempDir dir;
  const auto start_at = SysClock::now() - 1s;
  ProcessResult r = trafficsim({"bench", server.url("/"), "-R", "200", "-d", "3s", "-t", "1",
                                "--start-at", trafficsim::core::format_rfc3339(start_at, 6), "-q",
                                "--json", (dir.path / "late.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("late"), std::string::npos) << r.out;
  json::object rep = read_json(dir.path / "late.json");
  // Not rescheduled: the plan's 600 arrivals, every one sent, none dropped.
  EXPECT_EQ(rep.at("requests").to_number<uint64_t>(), 600u);
  EXPECT_EQ(rep.at("dropped").to_number<uint64_t>(), 0u);
  EXPECT_EQ(rep.at("streams").at(0).at("planned_requests").to_number<uint64_t>(), 600u);
  // Arrival 0 was due at start_at, a second before the process could send it.
  const auto& lat = rep.at("latency").as_object();
  EXPECT_GE(lat.at("corrected").at("max_us").to_number<int64_t>(), 1'000'000);
  EXPECT_GE(lat.at("send_lateness").at("max_us").to_number<int64_t>(), 1'000'000);
  EXPECT_LT(lat.at("service").at("max_us").to_number<int64_t>(), 1'000'000);
  // started_at is the first send, after start_at.
  const auto& meta = rep.at("meta").as_object();
  EXPECT_GE(unix_us(meta.at("started_at")) - unix_us(meta.at("start_at")), 1'000'000);
}

TEST(StartAtCli, AStartFurtherInThePastThanThePlanExits2NamingTheInstant) {
  const auto start_at = SysClock::now() - 10s;
  const std::string text = trafficsim::core::format_rfc3339(start_at, 6);
  ProcessResult r =
      trafficsim({"bench", "http://127.0.0.1:1/", "-R", "10", "-d", "2s", "--start-at", text});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--start-at"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("s in the past"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("Running"), std::string::npos) << "nothing may start: " << r.out;
}

TEST(StartAtCli, BadTextExits2ShowingBothAcceptedForms) {
  for (const char* bad : {"tomorrow", "2026-12-02 21:00", "-5", "2026-02-30T00:00:00Z"}) {
    ProcessResult r = trafficsim({"bench", "http://127.0.0.1:1/", "--start-at", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--start-at"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2026-12-02T21:00:00Z"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("1796000000"), std::string::npos) << r.err;
  }
  for (const char* cmd : {"run", "play"}) {
    std::vector<std::string> args{cmd};
    if (std::string(cmd) == "play") args.push_back("demo-video");
    args.insert(args.end(), {"--url", "http://127.0.0.1:1", "--start-at", "noon"});
    ProcessResult r = trafficsim(args);
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("--start-at"), std::string::npos) << r.err;
  }
}

}  // namespace
