#include "scenarios/demo_script.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "scenarios/builtin.hpp"
#include "scenarios/yaml_reader.hpp"

namespace trafficsim::scenarios {

namespace fs = std::filesystem;

std::chrono::nanoseconds DemoScript::total() const {
  std::chrono::nanoseconds t{0};
  for (const auto& p : phases) t += p.duration;
  return t;
}

bool is_demo_script(const Source& source) {
  try {
    YAML::Node n = parse_yaml(source);
    return n.IsMap() && n["phases"];
  } catch (const ScenarioError&) {
    return false;  // not readable at all: the loader says why
  } catch (const YAML::Exception&) {
    return false;
  }
}

namespace {

DemoScript read_demo_script(const Source& src) {
  DemoScript out;
  out.source = src;
  YAML::Node root = parse_yaml(src);
  YamlReader r(src);  // scripts have no variables: `set:` passes them on to the phases
  if (!root.IsMap() || !root["phases"])
    throw ScenarioError(fmt::format(
        "{}: not a demo script (no 'phases'); run a scenario with 'trafficsim run -f'", src.path));
  r.check_keys(root, "", {"name", "description", "phases"});
  out.name = root["name"] ? r.str(root["name"], "name") : fs::path(src.path).stem().string();
  if (root["description"]) out.description = r.str(root["description"], "description");
  const auto& phases = root["phases"];
  if (!phases.IsSequence() || phases.size() == 0)
    r.fail(phases, "phases", "expected a non-empty list of phases");
  for (size_t i = 0; i < phases.size(); ++i) {
    const auto& p = phases[i];
    std::string f = fmt::format("phases[{}]", i);
    if (!p.IsMap()) r.fail(p, f, "expected a mapping");
    Phase ph;
    ph.line = p.Mark().line + 1;
    r.check_keys(p, f,
                 {"title", "narration", "mode", "scenario", "file", "rate", "max_rps", "duration",
                  "set"});
    int refs = (p["mode"] ? 1 : 0) + (p["scenario"] ? 1 : 0) + (p["file"] ? 1 : 0);
    if (refs != 1) r.fail(p, f, "give exactly one of mode:, scenario: or file:");
    ph.title = p["title"] ? r.str(p["title"], f + ".title") : fmt::format("Phase {}", i + 1);
    if (p["narration"]) ph.narration = r.str(p["narration"], f + ".narration");
    while (!ph.narration.empty() && (ph.narration.back() == '\n' || ph.narration.back() == ' '))
      ph.narration.pop_back();
    if (p["mode"]) {
      ph.kind = "mode";
      ph.ref = r.str(p["mode"], f + ".mode");
      const auto& names = mode_names();
      if (std::find(names.begin(), names.end(), ph.ref) == names.end())
        r.fail(p["mode"], f + ".mode",
               fmt::format("unknown mode '{}' (modes: {})", ph.ref, fmt::join(names, ", ")));
      ph.source = *builtin_source(ph.ref);
    } else if (p["scenario"]) {
      ph.kind = "scenario";
      ph.ref = r.str(p["scenario"], f + ".scenario");
      const auto& names = scenario_names();
      if (std::find(names.begin(), names.end(), ph.ref) == names.end())
        r.fail(p["scenario"], f + ".scenario",
               fmt::format("unknown scenario '{}' (scenarios: {})", ph.ref,
                           fmt::join(names, ", ")));
      ph.source = *builtin_source(ph.ref);
    } else {
      ph.kind = "file";
      ph.ref = r.str(p["file"], f + ".file");
      fs::path path = ph.ref;
      if (path.is_relative() && !src.builtin) path = fs::path(src.path).parent_path() / path;
      std::error_code ec;
      if (fs::exists(path, ec)) {
        ph.source = read_source(path.string());
      } else if (auto b = builtin_source(fs::path(ph.ref).filename().string())) {
        ph.source = *b;
      } else {
        r.fail(p["file"], f + ".file", fmt::format("cannot find '{}'", path.string()));
      }
      if (is_demo_script(ph.source))
        r.fail(p["file"], f + ".file", "is a demo script; phases must be scenarios");
    }
    if (!p["duration"]) r.fail(p, f, "needs a 'duration' (e.g. 30s)");
    ph.duration = r.duration(p["duration"], f + ".duration");
    if (p["rate"]) ph.params["rate"] = r.str(p["rate"], f + ".rate");
    if (p["max_rps"]) ph.params["max_rps"] = r.str(p["max_rps"], f + ".max_rps");
    if (p["set"]) {
      if (!p["set"].IsMap()) r.fail(p["set"], f + ".set", "expected a mapping of variables");
      for (const auto& kv : p["set"])
        ph.params[kv.first.as<std::string>()] = r.str(kv.second, f + ".set");
    }
    out.phases.push_back(std::move(ph));
  }
  return out;
}

}  // namespace

DemoScript load_demo_script(const Source& src) {
  try {
    try {
      return read_demo_script(src);
    } catch (const YAML::Exception& e) {
      std::string where = e.mark.line >= 0 ? fmt::format(":{}", e.mark.line + 1) : "";
      throw ScenarioError(fmt::format("{}{}: {}", src.path, where, e.msg));
    }
  } catch (const std::bad_alloc&) {
    throw ScenarioError(fmt::format("{}: out of memory while loading the script", src.path));
  } catch (const std::length_error&) {
    throw ScenarioError(fmt::format("{}: out of memory while loading the script", src.path));
  }
}

}  // namespace trafficsim::scenarios
