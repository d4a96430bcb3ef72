#include "scenarios/samples.hpp"

#include <cstdint>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "core/random.hpp"
#include "scenarios/builtin.hpp"

namespace trafficsim::scenarios {

namespace fs = std::filesystem;

namespace {

std::shared_ptr<core::SampleSet> sample_list(YamlReader& reader, const std::string& name,
                                             const YAML::Node& list, const std::string& origin) {
  auto set = std::make_shared<core::SampleSet>();
  set->name = name;
  if (!list.IsSequence() || list.size() == 0)
    reader.fail(list, origin,
                "expected a non-empty list of samples (strings, or records of fields)");
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    std::string where = fmt::format("{}[{}]", origin, i);
    if (item.IsScalar()) {
      if (i == 0) set->fields = {""};
      if (set->fields != std::vector<std::string>{""})
        reader.fail(item, where, "mixes plain strings and records");
      set->records.push_back({reader.str(item, where)});
    } else if (item.IsMap()) {
      std::vector<std::string> fields, values;
      for (const auto& kv : item) {
        fields.push_back(kv.first.as<std::string>());
        if (!kv.second.IsScalar()) reader.fail(kv.second, where, "field values must be text");
        values.push_back(reader.str(kv.second, where));
      }
      if (i == 0) set->fields = fields;
      if (fields != set->fields)
        reader.fail(item, where,
                    fmt::format("has fields different from the first record's ({})",
                                fmt::join(set->fields, ", ")));
      set->records.push_back(std::move(values));
    } else {
      reader.fail(item, where, "expected a string or a record of fields");
    }
  }
  return set;
}

// A samples file: YAML/JSON list; any other extension: one sample per non-empty line.
std::shared_ptr<core::SampleSet> sample_file(YamlReader& reader, const std::string& name,
                                             const std::string& path, const YAML::Node& at,
                                             const std::string& field, bool relative) {
  const Source& source = reader.source();
  std::string text, shown = path, why;
  bool found = false;
  if (relative && !fs::path(path).is_absolute()) {
    // Next to the scenario file first; then the built-in file of that name, so that a copy of
    // a built-in scenario works anywhere.
    if (!source.builtin) {
      fs::path p = fs::path(source.path).parent_path() / path;
      why = read_text(p, &text);
      found = why.empty();
      if (found) shown = p.string();
    }
    if (!found) {
      if (auto f = embedded_file(path)) {
        text = std::string(*f);
        found = true;
        shown = "scenarios/" + path + " (built in)";
      }
    }
  } else {
    why = read_text(path, &text);
    found = why.empty();
  }
  if (!found && why.starts_with("larger than"))
    reader.fail(at, field, fmt::format("samples file '{}' is {}", path, why));
  if (!found) reader.fail(at, field, fmt::format("cannot read samples file '{}'", path));
  auto ext = fs::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml" || ext == ".json") {
    Source inner{shown, std::move(text), false};
    YAML::Node doc = parse_yaml(inner);
    YamlReader data(inner);  // no variables: the file is data
    return sample_list(data, name, doc, "samples");
  }
  auto set = std::make_shared<core::SampleSet>();
  set->name = name;
  set->fields = {""};
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) set->records.push_back({line});
  }
  if (set->records.empty())
    reader.fail(at, field, fmt::format("samples file '{}' is empty", shown));
  return set;
}

}  // namespace

SampleSets read_samples(YamlReader& reader, const YAML::Node& node,
                        const std::string& override_path, bool* override_used) {
  SampleSets sets;
  *override_used = false;
  if (!node.IsDefined() || node.IsNull()) return sets;
  if (!node.IsMap()) reader.fail(node, "samples", "expected a mapping of set name to file or list");
  for (const auto& kv : node) {
    std::string name = kv.first.as<std::string>();
    std::string field = "samples." + name;
    if (name == "emails" && !override_path.empty()) {
      sets.push_back(sample_file(reader, name, override_path, kv.second, "--samples", false));
      *override_used = true;
    } else if (kv.second.IsScalar()) {
      sets.push_back(
          sample_file(reader, name, reader.str(kv.second, field), kv.second, field, true));
    } else {
      sets.push_back(sample_list(reader, name, kv.second, field));
    }
  }
  return sets;
}

std::string samples_digest(const SampleSets& sets) {
  if (sets.empty()) return "";
  // Each piece hashed on its own (core's FNV-1a key) and chained, so piece boundaries count.
  uint64_t h = 0;
  auto mix = [&h](std::string_view text) { h = core::mix64(h ^ core::stream_key(text)); };
  for (const auto& set : sets) {
    mix(set->name);
    for (const auto& f : set->fields) mix(f);
    for (const auto& r : set->records)
      for (const auto& v : r) mix(v);
  }
  return fmt::format("{:016x}", h);
}

}  // namespace trafficsim::scenarios
