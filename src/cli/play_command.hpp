#pragma once
// `trafficsim play SCRIPT`: a demo script as a sequence of traffic jobs against one target,
// each phase announcing its narration as it starts, then a table of every phase.
#include <string>

#include <CLI/CLI.hpp>

#include "cli/traffic_flags.hpp"

namespace trafficsim::cli {

struct PlayOptions {
  std::string script, time_scale;
  TrafficFlags common;
};

CLI::App* add_play_command(CLI::App& app, PlayOptions& options);
int run_play(PlayOptions& options);

}  // namespace trafficsim::cli
