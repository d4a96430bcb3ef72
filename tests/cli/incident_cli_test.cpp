// `trafficsim incident`: the catalogue as a table and as JSON, one scenario's details, a custom
// file checked (its fault named FILE:LINE: FIELD), usage errors exit 2.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/process.hpp"

namespace {

namespace json = boost::json;
using trafficsim::testing::run_process;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;

TEST(IncidentCli, ListsShowsAndChecksScenarios) {
  auto list = run_process({kBinary, "incident", "--list", "--no-color"}, 10s);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const char* id : {"memory_leak_gradual", "cpu_spike_traffic_surge", "latency_spike_database",
                         "pod_crash_loop", "dependency_failure_timeout"})
    EXPECT_NE(list.out.find(id), std::string::npos) << id << "\n" << list.out;
  auto as_json = run_process({kBinary, "incident", "--list", "--json"}, 10s);
  ASSERT_EQ(as_json.exit_code, 0);
  EXPECT_EQ(json::parse(as_json.out).as_array().size(), 5u);
  auto one = run_process({kBinary, "incident", "memory_leak_gradual", "--no-color"}, 10s);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("expected root cause memory_leak"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("5.2σ"), std::string::npos) << one.out;  // 8 GB vs 2 GB at 5.2σ
  auto details = run_process({kBinary, "incident", "pod_crash_loop", "--json"}, 10s);
  EXPECT_EQ(json::parse(details.out).at("id").as_string(), "pod_crash_loop");

  trafficsim::testing::TempDir dir;
  std::string bad = (dir.path() / "bad.yaml").string();
  trafficsim::testing::write_file(bad, "id: x\nname: X\ncolour: red\n");
  auto refused = run_process({kBinary, "incident", "--file", bad}, 10s);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(bad + ":3"), std::string::npos) << refused.err;
  EXPECT_EQ(run_process({kBinary, "incident", "nope"}, 10s).exit_code, 2);
  EXPECT_EQ(run_process({kBinary, "incident"}, 10s).exit_code, 2);
}

}  // namespace
