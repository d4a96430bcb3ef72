// trafficsim: one binary for the observability demo and load-test loop.
#include <csignal>
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/bench_command.hpp"
#include "cli/demo_command.hpp"
#include "cli/deploy_command.hpp"
#include "cli/report_command.hpp"
#include "cli/play_command.hpp"
#include "cli/run_command.hpp"
#include "cli/incident_command.hpp"
#include "cli/scenarios_command.hpp"
#include "cli/target_command.hpp"
#include "cli/telemetry_command.hpp"
#include "cli/traffic_flags.hpp"
#include "cli/validate_command.hpp"

int main(int argc, char** argv) {
  using namespace trafficsim::cli;
  CLI::App app{"trafficsim: exact, honest HTTP traffic for observability demos and load tests",
               "trafficsim"};
  app.set_version_flag("--version", std::string("trafficsim ") + TRAFFICSIM_VERSION);
  app.require_subcommand(1);
  BenchOptions bench;
  ReportOptions report;
  TargetCommandOptions target;
  RunOptions run;
  PlayOptions play;
  ScenariosOptions scenarios;
  DemoOptions demo;
  ServeOptions serve;
  ValidateOptions validate;
  IncidentOptions incident;
  TelemetryOptions telemetry;
  DeployOptions deploy;
  auto* bench_cmd = add_bench_command(app, bench);
  auto report_cmds = add_report_command(app, report);
  auto* target_cmd = add_target_command(app, target);
  auto* run_cmd = add_run_command(app, run);
  auto* play_cmd = add_play_command(app, play);
  auto* scenarios_cmd = add_scenarios_command(app, scenarios);
  auto* demo_cmd = add_demo_command(app, demo);
  auto* serve_cmd = add_serve_command(app, serve);
  auto* validate_cmd = add_validate_command(app, validate);
  auto* incident_cmd = add_incident_command(app, incident);
  auto* telemetry_cmd = add_telemetry_command(app, telemetry);
  auto deploy_cmds = add_deploy_command(app, deploy);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr,
               "trafficsim: {}\nRun 'trafficsim --help' (or '<command> --help') for usage.\n",
               e.what());
    return kExitUsage;
  }
  // A file-size limit (prlimit, quotas) makes writes fail with EFBIG, which we report; the
  // default action of SIGXFSZ would kill the process without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  // No exception leaves a command: each has its message and exit code (cli/traffic_flags.hpp).
  return guarded("trafficsim", [&] {
    if (bench_cmd->parsed()) return run_bench(bench);
    if (report_cmds.merge->parsed()) return run_report_merge(report.merge);
    if (report_cmds.html->parsed()) return run_report_html(report.html);
    if (target_cmd->parsed()) return run_target(target);
    if (run_cmd->parsed()) return run_run(run);
    if (play_cmd->parsed()) return run_play(play);
    if (scenarios_cmd->parsed()) return run_scenarios(scenarios);
    if (demo_cmd->parsed()) return run_demo(demo);
    if (serve_cmd->parsed()) return run_serve(serve);
    if (validate_cmd->parsed()) return run_validate_dual_mode(validate);
    if (incident_cmd->parsed()) return run_incident(incident);
    if (telemetry_cmd->parsed()) return run_telemetry(telemetry);
    if (deploy_cmds.k8s->parsed()) return run_deploy_k8s(deploy.k8s);
    fmt::print(stderr, "trafficsim: no command given\n");
    return static_cast<int>(kExitUsage);
  });
}
