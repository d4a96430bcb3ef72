#include "scenarios/builtin.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace trafficsim::scenarios {

std::optional<std::string_view> embedded_file(std::string_view relative_path) {
  for (const auto& [path, text] : embedded_files())
    if (path == relative_path) return text;
  return std::nullopt;
}

const std::vector<std::string>& mode_names() {
  static const std::vector<std::string> names = {"normal_traffic", "latency_injection",
                                                 "error_injection", "token_bloat"};
  return names;
}

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names = {"normal", "peak",   "error",
                                                 "latency", "stress", "blackfriday"};
  return names;
}

std::optional<Source> builtin_source(std::string_view name) {
  std::string file(name);
  if (!file.ends_with(".yaml")) file += ".yaml";
  if (file.find('/') != std::string::npos) return std::nullopt;
  auto text = embedded_file(file);
  if (!text) return std::nullopt;
  return Source{"scenarios/" + file, std::string(*text), true};
}

std::vector<BuiltinInfo> builtin_list() {
  std::vector<BuiltinInfo> out;
  auto describe = [](std::string_view text) {
    try {
      YAML::Node n = YAML::Load(std::string(text));
      if (n["description"]) return n["description"].as<std::string>();
    } catch (const YAML::Exception&) {
    }
    return std::string();
  };
  auto add = [&](const std::string& name, BuiltinKind kind) {
    if (auto t = embedded_file(name + ".yaml")) out.push_back({name, kind, describe(*t)});
  };
  for (const auto& n : mode_names()) add(n, BuiltinKind::mode);
  for (const auto& n : scenario_names()) add(n, BuiltinKind::scenario);
  for (const auto& [path, text] : embedded_files()) {
    std::string p(path);
    if (p.find('/') != std::string::npos || !p.ends_with(".yaml")) continue;
    std::string name = p.substr(0, p.size() - 5);
    bool listed = false;
    for (const auto& b : out) listed = listed || b.name == name;
    if (!listed) out.push_back({name, BuiltinKind::script, describe(text)});
  }
  return out;
}

Source resolve_source(const std::string& path_or_name) {
  std::error_code ec;
  if (std::filesystem::exists(path_or_name, ec)) return read_source(path_or_name);
  if (auto b = builtin_source(path_or_name)) return *b;
  std::string names;
  for (const auto& b : builtin_list()) names += (names.empty() ? "" : ", ") + b.name;
  throw ScenarioError(fmt::format(
      "{}: no such file, and not a built-in scenario (built-ins: {})", path_or_name, names));
}

}  // namespace trafficsim::scenarios
