// `trafficsim report merge` end to end: directory inputs, every problem named in one message,
// thresholds evaluated again on the merged figures (exit 0 / 3), the start skew of the segments.
// Segment reports are real `bench --segment` reports against an in-process test server, edited
// where a test needs known values.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using trafficsim::testing::ProcessResult;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

ProcessResult trafficsim(std::vector<std::string> args, std::chrono::milliseconds deadline = 15s) {
  args.insert(args.begin(), kBinary);
  return trafficsim::testing::run_process(std::move(args), deadline);
}

json::object read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_object();
}

void write_json(const fs::path& p, const json::object& o) {
  std::ofstream(p) << json::serialize(o);
}

class ReportMergeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("trafficsim-merge-{}-{}", ::getpid(),
                       std::chrono::steady_clock::now().time_since_epoch().count());
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Runs segment `segment` of a short open-model plan at `rate` into in/NAME.
  fs::path bench(const std::string& segment, const std::string& name,
                 const std::string& rate = "100") {
    fs::path out = dir_ / "in" / name;
    ProcessResult r = trafficsim({"bench", server_.url("/"), "-R", rate, "-d", "300ms", "-t", "1",
                                  "--segment", segment, "-q", "--json", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return out;
  }
  trafficsim::testing::TestServer server_;
  fs::path dir_;
};

TEST_F(ReportMergeCli, ADirectoryStandsForItsJsonFilesMixedWithFiles) {
  bench("0/3", "a.json");
  bench("1/3", "b.json");
  fs::path last = dir_ / "c.json";
  fs::rename(bench("2/3", "c.json"), last);
  std::ofstream(dir_ / "in" / "notes.txt") << "not a report";
  ProcessResult r = trafficsim({"report", "merge", (dir_ / "in").string(), last.string(),
                                "--json", (dir_ / "merged.out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json::object m = read_json(dir_ / "merged.out");
  EXPECT_EQ(m.at("meta").at("segment").at("count").to_number<uint64_t>(), 3u);
  EXPECT_EQ(m.at("requests").to_number<uint64_t>() + m.at("dropped").to_number<uint64_t>(), 30u);
  EXPECT_TRUE(m.at("meta").at("start_at").is_null());
}

TEST_F(ReportMergeCli, EveryProblemIsNamedInOneMessage) {
  fs::path s0 = bench("0/3", "s0.json");
  fs::copy_file(s0, dir_ / "in" / "s0-again.json");
  fs::path foreign = bench("1/3", "foreign.json", "50");  // another rate: another plan
  std::string foreign_hash(read_json(foreign).at("meta").at("plan_hash").as_string());
  std::string plan_hash(read_json(s0).at("meta").at("plan_hash").as_string());
  ProcessResult r = trafficsim({"report", "merge", (dir_ / "in").string(),
                                (dir_ / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string& e = r.err;
  EXPECT_NE(e.find("missing.json"), std::string::npos) << e;  // unreadable
  // (in name order: "s0-again.json" sorts before "s0.json")
  EXPECT_NE(e.find(fmt::format("segment 0/3 appears twice: {} and {}",
                               (dir_ / "in" / "s0-again.json").string(), s0.string())),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(fmt::format("{} is a report of another plan (plan_hash {}, not {})",
                               foreign.string(), foreign_hash, plan_hash)),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("segment 1/3 is missing"), std::string::npos) << e;
  EXPECT_NE(e.find("segment 2/3 is missing"), std::string::npos) << e;
  EXPECT_NE(e.find("5 problems"), std::string::npos) << e;
  EXPECT_EQ(r.out.find("Merged"), std::string::npos) << r.out;
}

// A run report's thresholds ride in "thresholds.results" (stream + condition): the merge
// evaluates each again on the merged stream block.
void add_threshold(const fs::path& p, const std::string& condition) {
  json::object r = read_json(p);
  r["thresholds"] = json::object{
      {"passed", true},
      {"results", json::array{json::object{{"stream", "bench"},
                                           {"condition", condition},
                                           {"actual", 0},
                                           {"actual_text", "-"},
                                           {"passed", true}}}}};
  write_json(p, r);
}

TEST_F(ReportMergeCli, ThresholdsAreEvaluatedOnTheMergedFigures) {
  fs::path a = bench("0/2", "a.json");
  fs::path b = bench("1/2", "b.json");
  // Each segment sent 15: only the merged figures have 30.
  for (const auto& p : {a, b}) add_threshold(p, "requests >= 30");
  ProcessResult pass = trafficsim({"report", "merge", a.string(), b.string(), "--json",
                                   (dir_ / "pass.out").string()});
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  json::object m = read_json(dir_ / "pass.out");
  const auto& th = m.at("thresholds").as_object();
  EXPECT_TRUE(th.at("passed").as_bool());
  EXPECT_EQ(th.at("results").at(0).at("actual").to_number<double>(), 30.0);
  EXPECT_NE(pass.out.find("PASS"), std::string::npos) << pass.out;

  for (const auto& p : {a, b}) add_threshold(p, "requests < 20");
  ProcessResult fail = trafficsim({"report", "merge", a.string(), b.string(), "--json",
                                   (dir_ / "fail.out").string()});
  EXPECT_EQ(fail.exit_code, 3) << fail.out << fail.err;
  EXPECT_NE(fail.out.find("FAIL"), std::string::npos) << fail.out;
  EXPECT_NE(fail.out.find("bench: requests < 20"), std::string::npos) << fail.out;
  EXPECT_NE(fail.err.find("thresholds failed"), std::string::npos) << fail.err;
  EXPECT_FALSE(read_json(dir_ / "fail.out").at("thresholds").at("passed").as_bool());
}

TEST_F(ReportMergeCli, StartSkewIsTheSpreadOfTheSegmentsFirstSends) {
  fs::path a = bench("0/2", "a.json");
  fs::path b = bench("1/2", "b.json");
  auto set = [](const fs::path& p, const char* started, const char* start_at) {
    json::object r = read_json(p);
    r["meta"].as_object()["started_at"] = started;
    r["meta"].as_object()["start_at"] = start_at;
    write_json(p, r);
  };
  set(a, "2026-12-02T21:00:00.012345Z", "2026-12-02T21:00:00.000000Z");
  set(b, "2026-12-02T21:00:00.000100Z", "2026-12-02T21:00:00.000000Z");
  ProcessResult r = trafficsim({"report", "merge", (dir_ / "in").string(), "--json",
                                (dir_ / "m.out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json::object merged = read_json(dir_ / "m.out");
  const auto& meta = merged.at("meta").as_object();
  EXPECT_DOUBLE_EQ(meta.at("start_skew_ms").as_double(), 12.245);
  EXPECT_EQ(meta.at("started_at").as_string(), "2026-12-02T21:00:00.000100Z");
  EXPECT_EQ(meta.at("start_at").as_string(), "2026-12-02T21:00:00.000000Z");

  // Segments that were given different instants are not one run.
  set(b, "2026-12-02T21:00:00.000100Z", "2026-12-02T21:00:01.000000Z");
  ProcessResult bad = trafficsim({"report", "merge", (dir_ / "in").string()});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("meta.start_at 2026-12-02T21:00:01.000000Z"), std::string::npos)
      << bad.err;
}

}  // namespace
