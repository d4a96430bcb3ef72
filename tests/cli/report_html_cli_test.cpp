// `trafficsim report html` as a user runs it: a real bench report (and its merge) to one HTML
// file, stdout with `-o -`, the default name beside the report, and the exit codes for a missing
// or foreign input (2) and an unwritable output (1).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

namespace fs = std::filesystem;
using trafficsim::testing::ProcessResult;
using trafficsim::testing::read_file;
using trafficsim::testing::run_process;
using trafficsim::testing::TempDir;
using trafficsim::testing::TestServer;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

ProcessResult trafficsim(std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  return run_process(std::move(args), 60s);
}

std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

class ReportHtmlCliTest : public ::testing::Test {
 protected:
  // A short bench run (segment i/n) against the test server, as a JSON report in the temp dir.
  std::string bench_report(const std::string& name, const std::string& segment = "0/1") {
    std::string path = (dir_.path() / name).string();
    ProcessResult r = trafficsim({"bench", server_.url("/products"), "-R", "40", "-d", "1s", "-q",
                                  "--segment", segment, "--json", path});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return path;
  }

  TestServer server_;
  TempDir dir_;
};

TEST_F(ReportHtmlCliTest, WritesOneSelfContainedFileFromABenchReport) {
  std::string json = bench_report("run.json");
  std::string html_path = (dir_.path() / "out.html").string();
  ProcessResult r = trafficsim({"report", "html", json, "-o", html_path});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("Wrote " + html_path), std::string::npos) << r.out;
  std::string html = read_file(html_path);
  EXPECT_TRUE(html.starts_with("<!doctype html>"));
  EXPECT_NE(html.find("trafficsim bench"), std::string::npos);
  EXPECT_NE(html.find("GET /products"), std::string::npos);
  EXPECT_NE(html.find("Corrected (from the intended send time)"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos) << "the test server's URL is in the report";
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST_F(ReportHtmlCliTest, DefaultsToTheReportsNameWithHtmlAndDashIsStdout) {
  std::string json = bench_report("run.json");
  ProcessResult r = trafficsim({"report", "html", json});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  std::string beside = (dir_.path() / "run.html").string();
  ASSERT_TRUE(fs::exists(beside)) << describe(r);

  ProcessResult out = trafficsim({"report", "html", json, "-o", "-"});
  ASSERT_EQ(out.exit_code, 0) << describe(out);
  EXPECT_TRUE(out.out.starts_with("<!doctype html>"));
  EXPECT_EQ(out.out, read_file(beside)) << "stdout holds the same document";
}

TEST_F(ReportHtmlCliTest, RendersAMergedSegmentReport) {
  std::string s0 = bench_report("s0.json", "0/2");
  std::string s1 = bench_report("s1.json", "1/2");
  std::string merged = (dir_.path() / "merged.json").string();
  ProcessResult m = trafficsim({"report", "merge", s0, s1, "--json", merged});
  ASSERT_EQ(m.exit_code, 0) << describe(m);
  ProcessResult r = trafficsim({"report", "html", merged, "-o", "-"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("trafficsim report merge of 2 segments"), std::string::npos);
  EXPECT_NE(r.out.find("2 merged"), std::string::npos);
}

TEST_F(ReportHtmlCliTest, AMissingOrForeignInputExitsTwoNamingTheFile) {
  std::string missing = (dir_.path() / "missing.json").string();
  ProcessResult r = trafficsim({"report", "html", missing});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("cannot read '" + missing + "'"), std::string::npos) << r.err;

  std::string not_json = dir_.write("notes.json", "not json {").string();
  r = trafficsim({"report", "html", not_json});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("'" + not_json + "' is not valid JSON"), std::string::npos) << r.err;

  std::string foreign = dir_.write("other.json", R"({"name": "package.json, not a report"})").string();
  r = trafficsim({"report", "html", foreign});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find(foreign + ": not a trafficsim report: no 'meta' object"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "other.html"));
}

TEST_F(ReportHtmlCliTest, TheInputIsNeverOverwritten) {
  std::string json = bench_report("run.json");
  std::string before = read_file(json);
  ProcessResult r = trafficsim({"report", "html", json, "-o", json});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("is the input report"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(json), before);
}

TEST_F(ReportHtmlCliTest, AnUnwritableOutputExitsOne) {
  std::string json = bench_report("run.json");
  std::string out = (dir_.path() / "no-such-dir" / "report.html").string();
  ProcessResult r = trafficsim({"report", "html", json, "-o", out});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("cannot write report '" + out + "'"), std::string::npos) << r.err;
}

TEST_F(ReportHtmlCliTest, HelpDescribesTheCommand) {
  ProcessResult r = trafficsim({"report", "html", "--help"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("opens offline"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-o,--output"), std::string::npos) << r.out;
}

}  // namespace
