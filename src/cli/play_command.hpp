#pragma once
// `trafficsim play SCRIPT`: a demo script as a sequence of traffic jobs against one target,
// each phase announcing its narration as it starts, then a table of every phase.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/terminal.hpp"
#include "cli/traffic_flags.hpp"
#include "jobs/demo_script_job.hpp"

namespace trafficsim::cli {

struct PlayOptions {
  std::string script, time_scale;
  TrafficFlags common;
};

CLI::App* add_play_command(CLI::App& app, PlayOptions& options);
int run_play(PlayOptions& options);

// What `play` prints while a script runs (each phase's title, narration and plan as it starts,
// the live line), for `trafficsim demo --script` too.
std::unique_ptr<jobs::DemoScriptObserver> make_play_printer(const Style& style, size_t phases,
                                                            bool quiet);
// The table of every phase at the end.
void print_phase_table(const jobs::DemoScriptResult& result, const std::string& name,
                       const Style& style);

}  // namespace trafficsim::cli
