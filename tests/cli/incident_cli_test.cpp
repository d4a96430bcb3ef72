// `trafficsim incident`: the catalogue as a table and as JSON, one scenario's details (--show), a
// custom file checked (its fault named FILE:LINE: FIELD), usage errors exit 2; running a scenario
// in-process (JSON and tables), the interactive menu from piped stdin, the narrative in acts, and
// `incident validate`.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

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
  auto one = run_process({kBinary, "incident", "memory_leak_gradual", "--show", "--no-color"}, 10s);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("expected root cause memory_leak"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("5.2σ"), std::string::npos) << one.out;  // 8 GB vs 2 GB at 5.2σ
  auto details = run_process({kBinary, "incident", "pod_crash_loop", "--show", "--json"}, 10s);
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

TEST(IncidentCli, RunningAScenarioInProcessStoresTheIncidentWithTheExpectedTopHypothesis) {
  trafficsim::testing::TempDir dir;
  const std::string db = (dir.path() / "incidents.sqlite").string();
  auto run = run_process({kBinary, "incident", "memory_leak_gradual", "--no-pause", "--json",
                          "--seed", "7", "--incidents-db", db},
                         30s);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto answer = json::parse(run.out).as_object();
  const auto& sim = answer.at("simulation").as_object();
  EXPECT_EQ(sim.at("status").as_string(), "completed");
  EXPECT_EQ(sim.at("scenario_id").as_string(), "memory_leak_gradual");
  EXPECT_FALSE(sim.at("metrics_injected").as_bool());  // in-process: nothing scrapes it
  const auto& incident = answer.at("incident").as_object();
  EXPECT_EQ(incident.at("id").as_string(), sim.at("incident_id").as_string());
  EXPECT_EQ(incident.at("source").as_string(), "simulation");
  const auto& hypotheses = incident.at("hypotheses").as_array();
  ASSERT_FALSE(hypotheses.empty());
  EXPECT_EQ(hypotheses[0].at("category").as_string(), "memory_leak");  // expected_root_cause
  EXPECT_FALSE(incident.at("actions").as_array().empty());
  EXPECT_TRUE(std::filesystem::exists(db));
}

TEST(IncidentCli, ARunPrintsProgressHypothesesActionsAndTheIncidentLink) {
  trafficsim::testing::TempDir dir;
  const std::string db = (dir.path() / "incidents.sqlite").string();
  auto run = run_process({kBinary, "incident", "latency_spike_database", "--no-color", "--seed",
                          "3", "--incidents-db", db, "--dashboard", "http://dash.example:9000/"},
                         30s);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* text :
       {"expected root cause database", "opened", "analyzing", "completed", "Hypotheses",
        "database", "Actions", "create_index", "blast radius",
        "runbook:", "metrics_injected: false", "http://dash.example:9000/#incident=inc-"})
    EXPECT_NE(run.out.find(text), std::string::npos) << text << "\n" << run.out;
}

TEST(IncidentCli, InteractiveRunsTheScenarioChosenOnStdinAndReasksOnBadInput) {
  trafficsim::testing::TempDir dir;
  const std::string db = (dir.path() / "incidents.sqlite").string();
  auto run =
      run_process({"/bin/sh", "-c",
                   "printf 'seven\\n2\\n' | '" + kBinary +
                       "' incident --interactive --no-color --seed 5 --incidents-db '" + db + "'"},
                  30s);
  ASSERT_EQ(run.exit_code, 0) << run.err;  // end of input after the run: exit 0
  EXPECT_NE(run.out.find("1  memory_leak_gradual"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("'seven' is not a choice"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Running cpu_spike_traffic_surge"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("scale_out"), std::string::npos) << run.out;
  auto quit = run_process(
      {"/bin/sh", "-c",
       "printf 'q\\n' | '" + kBinary + "' incident --interactive --incidents-db '" + db + "'"},
      10s);
  EXPECT_EQ(quit.exit_code, 0) << quit.err;
  EXPECT_EQ(quit.out.find("Running"), std::string::npos) << quit.out;
}

TEST(IncidentCli, NarrativeTellsTheScenarioInActsWithItsOwnNumbers) {
  trafficsim::testing::TempDir dir;
  const std::string db = (dir.path() / "incidents.sqlite").string();
  auto run = run_process({kBinary, "incident", "memory_leak_gradual", "--narrative", "--no-pause",
                          "--no-color", "--seed", "2", "--incidents-db", db},
                         30s);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* text :
       {"Act 1 · The calm", "Act 2 · Something is wrong", "Act 3 · The diagnosis",
        "Act 4 · The fix", "2 GB", "8 GB", "v2.4.0", "memory_leak", "restart", "#incident=inc-"})
    EXPECT_NE(run.out.find(text), std::string::npos) << text << "\n" << run.out;
  EXPECT_EQ(run.out.find("Press Enter"), std::string::npos) << "paused with --no-pause";
}

TEST(IncidentCli, ValidateMeetsTheBarsAndPrintsTheTable) {
  auto table = run_process({kBinary, "incident", "validate", "--variants", "5", "--no-color"}, 30s);
  ASSERT_EQ(table.exit_code, 0) << table.out << table.err;
  for (const char* text : {"memory_leak_gradual", "cpu_spike_traffic_surge",
                           "latency_spike_database", "pod_crash_loop", "dependency_failure_timeout",
                           "top-1", "top-3", "controls", "totals:", "bars:", "PASSED"})
    EXPECT_NE(table.out.find(text), std::string::npos) << text << "\n" << table.out;
  auto as_json = run_process({kBinary, "incident", "validate", "--variants", "5", "--json"}, 30s);
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_TRUE(json::parse(as_json.out).at("passed").as_bool());
  EXPECT_EQ(run_process({kBinary, "incident", "validate", "--variants", "0"}, 10s).exit_code, 2);
}

TEST(IncidentCli, ThroughAServerTheRunInjectsMetricsAndReadsTheIncidentBack) {
  trafficsim::testing::TempDir dir;
  trafficsim::testing::BackgroundProcess demo({kBinary, "demo", "--listen", "127.0.0.1:0",
                                               "--data-dir", dir.path().string(), "--catalog-rows",
                                               "500", "--no-color", "-q"});
  ASSERT_TRUE(demo.wait_for_stdout("\n", 30s)) << demo.current_stderr();
  std::string url = demo.current_stdout().substr(0, demo.current_stdout().find_first_of(" \n"));
  ASSERT_EQ(url.rfind("http://", 0), 0u) << demo.current_stdout();
  auto run = run_process(
      {kBinary, "incident", "cpu_spike_traffic_surge", "--server", url, "--json", "--seed", "4"},
      30s);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto answer = json::parse(run.out).as_object();
  const auto& sim = answer.at("simulation").as_object();
  EXPECT_EQ(sim.at("status").as_string(), "completed");
  EXPECT_TRUE(sim.at("metrics_injected").as_bool());  // the demo's target publishes them
  const auto& incident = answer.at("incident").as_object();
  EXPECT_EQ(incident.at("id").as_string(), sim.at("incident_id").as_string());
  ASSERT_FALSE(incident.at("hypotheses").as_array().empty());
  EXPECT_EQ(incident.at("hypotheses").as_array()[0].at("category").as_string(), "capacity");
  // An unknown id is refused before anything is sent.
  auto unknown = run_process({kBinary, "incident", "--server", url, "no_such_incident"}, 10s);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
}

TEST(IncidentCli, CtrlCStopsARealtimeRunWhichIsAnalyzedOnWhatWasPlayed) {
  trafficsim::testing::TempDir dir;
  trafficsim::testing::BackgroundProcess run({kBinary, "incident", "latency_spike_database",
                                              "--mode", "realtime", "--no-color", "--incidents-db",
                                              (dir.path() / "incidents.sqlite").string()});
  ASSERT_TRUE(run.wait_for_stdout("opened; playing 240 s of scenario time in 240 s", 10s))
      << run.current_stdout() << run.current_stderr();
  ASSERT_TRUE(run.send_signal(SIGINT));
  auto done = run.wait(20s);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  for (const char* text : {"stopping: analyzing what was played", "stopped after",
                           "simulation stopped", "#incident=inc-"})
    EXPECT_NE(done.out.find(text), std::string::npos) << text << "\n" << done.out;
}

TEST(IncidentCli, AnUnknownIdExitsTwoNamingIt) {
  auto run = run_process({kBinary, "incident", "no_such_incident", "--no-pause"}, 10s);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("'no_such_incident'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("memory_leak_gradual"), std::string::npos) << run.err;  // the choices
}

}  // namespace
