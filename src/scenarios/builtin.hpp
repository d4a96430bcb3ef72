#pragma once
// The built-in scenarios: every file under scenarios/ in the source tree, compiled into the
// binary (cmake/embed_files.cmake), so `trafficsim run --mode ...` works on a machine that has
// only the binary. A copy of one of these files is a scenario file like any other.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scenarios/scenario.hpp"

namespace trafficsim::scenarios {

// Every embedded file as {path relative to scenarios/, contents}; generated at build time.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_files();

// The contents of scenarios/<relative_path>, when it is built in.
std::optional<std::string_view> embedded_file(std::string_view relative_path);

enum class BuiltinKind { mode, scenario, script };

struct BuiltinInfo {
  std::string name;  // file stem: "normal_traffic", "peak", "blackfriday", "demo-video"
  BuiltinKind kind;
  std::string description;  // the file's one-line description
};

// Seed 000's modes, seed 001's scenarios and seed 002's dual mode, then the demo scripts.
std::vector<BuiltinInfo> builtin_list();

// The names --mode and --scenario accept.
const std::vector<std::string>& mode_names();      // normal_traffic, latency_injection, ...
const std::vector<std::string>& scenario_names();  // normal, peak, error, latency, stress, blackfriday

// The built-in file NAME.yaml as a Source ("scenarios/NAME.yaml"), or nullopt.
std::optional<Source> builtin_source(std::string_view name);

// A path on disk, or else the name of a built-in ("demo-video", "peak.yaml"). Throws
// ScenarioError when neither exists.
Source resolve_source(const std::string& path_or_name);

}  // namespace trafficsim::scenarios
