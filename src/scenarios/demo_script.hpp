#pragma once
// Demo scripts: a YAML sequence of phases (a built-in mode or scenario, or a scenario file, with
// its rate, duration, variables and narration) that `trafficsim play` runs back to back, printing
// each phase's narration as it starts. scenarios/demo-video.yaml is seed 000's 3-minute demo.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "scenarios/scenario.hpp"

namespace trafficsim::scenarios {

struct Phase {
  std::string title;
  std::string narration;
  std::string kind;  // "mode", "scenario" or "file"
  std::string ref;   // the mode / scenario name, or the file path as written
  Source source;     // resolved
  std::map<std::string, std::string> params;  // rate, max_rps and set: {...}
  std::chrono::nanoseconds duration{0};
  int line = 0;  // 1-based line of the phase in the script
};

struct DemoScript {
  Source source;
  std::string name;
  std::string description;
  std::vector<Phase> phases;
  std::chrono::nanoseconds total() const;
};

// True when the text is a demo script (has top-level 'phases').
bool is_demo_script(const Source& source);

// Parses a script and resolves every phase's scenario (files relative to the script). Throws
// ScenarioError naming file, line and field.
DemoScript load_demo_script(const Source& source);

}  // namespace trafficsim::scenarios
