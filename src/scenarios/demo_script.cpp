#include "scenarios/demo_script.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/duration.hpp"
#include "scenarios/builtin.hpp"

namespace trafficsim::scenarios {

namespace fs = std::filesystem;

std::chrono::nanoseconds DemoScript::total() const {
  std::chrono::nanoseconds t{0};
  for (const auto& p : phases) t += p.duration;
  return t;
}

bool is_demo_script(const Source& source) {
  try {
    YAML::Node n = YAML::Load(source.text);
    return n.IsMap() && n["phases"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

namespace {

[[noreturn]] void fail(const Source& src, const YAML::Node& node, const std::string& field,
                       const std::string& what) {
  std::string where = src.path;
  if (node.IsDefined() && node.Mark().line >= 0) where += fmt::format(":{}", node.Mark().line + 1);
  throw ScenarioError(fmt::format("{}: {}: {}", where, field, what));
}

std::string scalar(const Source& src, const YAML::Node& node, const std::string& field) {
  if (!node.IsScalar()) fail(src, node, field, "expected a single value");
  return node.Scalar();
}

}  // namespace

DemoScript load_demo_script(const Source& src) {
  DemoScript out;
  out.source = src;
  YAML::Node root;
  try {
    root = YAML::Load(src.text);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(fmt::format("{}:{}: {}", src.path, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap() || !root["phases"])
    throw ScenarioError(fmt::format(
        "{}: not a demo script (no 'phases'); run a scenario with 'trafficsim run -f'", src.path));
  for (const auto& kv : root) {
    std::string k = kv.first.as<std::string>();
    if (k != "name" && k != "description" && k != "phases")
      fail(src, kv.first, k, "unknown key (expected one of: name, description, phases)");
  }
  out.name = root["name"] ? scalar(src, root["name"], "name") : fs::path(src.path).stem().string();
  if (root["description"]) out.description = scalar(src, root["description"], "description");
  const auto& phases = root["phases"];
  if (!phases.IsSequence() || phases.size() == 0)
    fail(src, phases, "phases", "expected a non-empty list of phases");
  for (size_t i = 0; i < phases.size(); ++i) {
    const auto& p = phases[i];
    std::string f = fmt::format("phases[{}]", i);
    if (!p.IsMap()) fail(src, p, f, "expected a mapping");
    Phase ph;
    ph.line = p.Mark().line + 1;
    for (const auto& kv : p) {
      std::string k = kv.first.as<std::string>();
      static const char* allowed[] = {"title", "narration", "mode", "scenario", "file",
                                      "rate",  "max_rps",   "duration", "set"};
      if (std::find_if(std::begin(allowed), std::end(allowed),
                       [&](const char* a) { return k == a; }) == std::end(allowed))
        fail(src, kv.first, f + "." + k,
             "unknown key (expected one of: title, narration, mode, scenario, file, rate, "
             "max_rps, duration, set)");
    }
    int refs = (p["mode"] ? 1 : 0) + (p["scenario"] ? 1 : 0) + (p["file"] ? 1 : 0);
    if (refs != 1) fail(src, p, f, "give exactly one of mode:, scenario: or file:");
    ph.title = p["title"] ? scalar(src, p["title"], f + ".title") : fmt::format("Phase {}", i + 1);
    if (p["narration"]) ph.narration = scalar(src, p["narration"], f + ".narration");
    while (!ph.narration.empty() && (ph.narration.back() == '\n' || ph.narration.back() == ' '))
      ph.narration.pop_back();
    if (p["mode"]) {
      ph.kind = "mode";
      ph.ref = scalar(src, p["mode"], f + ".mode");
      const auto& names = mode_names();
      if (std::find(names.begin(), names.end(), ph.ref) == names.end())
        fail(src, p["mode"], f + ".mode",
             fmt::format("unknown mode '{}' (modes: {})", ph.ref, fmt::join(names, ", ")));
      ph.source = *builtin_source(ph.ref);
    } else if (p["scenario"]) {
      ph.kind = "scenario";
      ph.ref = scalar(src, p["scenario"], f + ".scenario");
      const auto& names = scenario_names();
      if (std::find(names.begin(), names.end(), ph.ref) == names.end())
        fail(src, p["scenario"], f + ".scenario",
             fmt::format("unknown scenario '{}' (scenarios: {})", ph.ref,
                         fmt::join(names, ", ")));
      ph.source = *builtin_source(ph.ref);
    } else {
      ph.kind = "file";
      ph.ref = scalar(src, p["file"], f + ".file");
      fs::path path = ph.ref;
      if (path.is_relative() && !src.builtin) path = fs::path(src.path).parent_path() / path;
      std::error_code ec;
      if (fs::exists(path, ec)) {
        ph.source = read_source(path.string());
      } else if (auto b = builtin_source(fs::path(ph.ref).filename().string())) {
        ph.source = *b;
      } else {
        fail(src, p["file"], f + ".file", fmt::format("cannot find '{}'", path.string()));
      }
      if (is_demo_script(ph.source))
        fail(src, p["file"], f + ".file", "is a demo script; phases must be scenarios");
    }
    if (!p["duration"]) fail(src, p, f, "needs a 'duration' (e.g. 30s)");
    auto d = core::parse_duration(scalar(src, p["duration"], f + ".duration"));
    if (!d || d->count() <= 0)
      fail(src, p["duration"], f + ".duration", "expected a positive duration such as 30s or 2m");
    if (auto why = core::duration_limit_error(*d); !why.empty())
      fail(src, p["duration"], f + ".duration", why);
    ph.duration = *d;
    if (p["rate"]) ph.params["rate"] = scalar(src, p["rate"], f + ".rate");
    if (p["max_rps"]) ph.params["max_rps"] = scalar(src, p["max_rps"], f + ".max_rps");
    if (p["set"]) {
      if (!p["set"].IsMap()) fail(src, p["set"], f + ".set", "expected a mapping of variables");
      for (const auto& kv : p["set"])
        ph.params[kv.first.as<std::string>()] = scalar(src, kv.second, f + ".set");
    }
    out.phases.push_back(std::move(ph));
  }
  return out;
}

}  // namespace trafficsim::scenarios
