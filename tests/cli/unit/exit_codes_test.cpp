// The one ladder from exceptions to exit codes shared by run and play.
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "cli/arguments.hpp"
#include "cli/traffic_flags.hpp"
#include "load/engine.hpp"
#include "scenarios/scenario.hpp"

namespace trafficsim::cli {
namespace {

template <class E>
int code_of(E e) {
  return exit_code_for("test", std::make_exception_ptr(e));
}

TEST(ExitCodeTest, BadInputIsTwoAndCouldNotRunIsOne) {
  EXPECT_EQ(code_of(UsageError("x")), kExitUsage);
  EXPECT_EQ(code_of(scenarios::ScenarioError("f.yaml:1: x")), kExitUsage);
  EXPECT_EQ(code_of(jobs::ClockConfigError("DEMO_TIME_SCALE")), kExitUsage);
  EXPECT_EQ(code_of(std::invalid_argument("mix")), kExitUsage);
  EXPECT_EQ(code_of(load::StartError("host")), kExitRunFailed);
  EXPECT_EQ(code_of(jobs::TargetStartError("port")), kExitRunFailed);
  EXPECT_EQ(code_of(std::bad_alloc()), kExitRunFailed);
  EXPECT_EQ(code_of(std::runtime_error("report")), kExitRunFailed);
  EXPECT_EQ(code_of(42), kExitRunFailed);
}

TEST(ExitCodeTest, GuardedLetsNothingEscape) {
  EXPECT_EQ(guarded("test", [] { return 0; }), 0);
  EXPECT_EQ(guarded("test", []() -> int { throw std::bad_alloc(); }), kExitRunFailed);
  EXPECT_EQ(guarded("test", []() -> int { throw UsageError("bad"); }), kExitUsage);
}

}  // namespace
}  // namespace trafficsim::cli
