// Tests of the child-process helpers (tests/support/process.hpp) the CLI tests rely on.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace ts = trafficsim::testing;

TEST(ProcessHelperTest, CapturesStdoutStderrAndExitCode) {
  ts::ProcessResult r = ts::run_process({"sh", "-c", "echo out; echo err >&2; exit 3"}, 5s);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(ProcessHelperTest, CapturesLargeOutputOnBothPipes) {
  // More than a pipe buffer on each stream, interleaved: needs poll, not sequential reads.
  ts::ProcessResult r = ts::run_process(
      {"sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2; head -c 5 /dev/zero"},
      10s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 300005u);
  EXPECT_EQ(r.err.size(), 200000u);
}

TEST(ProcessHelperTest, KillsAChildThatOutlivesTheDeadline) {
  auto start = Clock::now();
  ts::ProcessResult r = ts::run_process({"sh", "-c", "echo started; exec sleep 60"}, 300ms);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_LT(Clock::now() - start, 30s);  // killed, not waited for
}

TEST(ProcessHelperTest, AGrandchildHoldingThePipeDoesNotHoldUpTheResult) {
  auto start = Clock::now();
  ts::ProcessResult r = ts::run_process({"sh", "-c", "sleep 60 & echo done"}, 120s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "done\n");
  // Far below the grandchild's 60 s: the result did not wait for it (no tight timing).
  EXPECT_LT(Clock::now() - start, 30s);
}

TEST(ProcessHelperTest, ReportsSignalsAndExecFailures) {
  EXPECT_EQ(ts::run_process({"sh", "-c", "kill -TERM $$"}, 5s).exit_code, 128 + SIGTERM);
  ts::ProcessResult r = ts::run_process({"/nonexistent/program"}, 5s);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("/nonexistent/program"), std::string::npos) << r.err;
}

TEST(ProcessHelperTest, BackgroundProcessSignalsAndWaits) {
  ts::BackgroundProcess p({"sh", "-c", "trap 'echo got-int; exit 7' INT; echo ready; "
                                       "while :; do sleep 0.05; done"});
  ASSERT_TRUE(p.wait_for_stdout("ready", 5s)) << p.current_stdout() << p.current_stderr();
  EXPECT_TRUE(p.running());
  EXPECT_FALSE(p.wait_for_stdout("never printed", 50ms));
  ASSERT_TRUE(p.send_signal(SIGINT));
  ts::ProcessResult r = p.wait(5s);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.out, "ready\ngot-int\n");
  EXPECT_FALSE(p.running());
  EXPECT_FALSE(p.send_signal(SIGINT));  // reaped: never signals a reused pid
  EXPECT_EQ(p.wait(1s).exit_code, 7);
}

TEST(ProcessHelperTest, BackgroundProcessWaitKillsAtTheDeadline) {
  ts::BackgroundProcess p({"sleep", "60"});
  auto start = Clock::now();
  EXPECT_EQ(p.wait(200ms).exit_code, -1);
  EXPECT_LT(Clock::now() - start, 30s);  // killed, not waited for
}

TEST(ProcessHelperTest, BackgroundProcessDestructorKillsAndRemovesFiles) {
  std::string out, err;
  {
    ts::BackgroundProcess p({"sleep", "30"});
    out = p.stdout_path();
    err = p.stderr_path();
    EXPECT_TRUE(std::filesystem::exists(out));
    EXPECT_TRUE(p.running());
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(err));
}

TEST(ProcessHelperTest, WaitForOutputGivesUpWhenTheChildExits) {
  ts::BackgroundProcess p({"sh", "-c", "echo bye"});
  auto start = Clock::now();
  EXPECT_FALSE(p.wait_for_stdout("never", 60s));
  EXPECT_LT(Clock::now() - start, 30s);  // gave up when the child exited, not at the deadline
  EXPECT_EQ(p.wait(5s).exit_code, 0);
}

TEST(ProcessHelperTest, TempDirFreePortAndReadFile) {
  std::string a = ts::temp_dir(), b = ts::temp_dir();
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::filesystem::is_directory(a));
  EXPECT_TRUE(std::filesystem::is_empty(a));
  std::ofstream(a + "/f") << "abc\n";
  EXPECT_EQ(ts::read_file(a + "/f"), "abc\n");
  EXPECT_THROW(ts::read_file(a + "/missing"), std::runtime_error);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
  int port = ts::free_port();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
}

}  // namespace
