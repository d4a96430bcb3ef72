#pragma once
// Sample sets of a scenario (the top-level `samples:` mapping): named lists of strings or records
// that {{sample SET}} and {{bloat SET.FIELD N}} draw from, written inline or read from a file
// (YAML/JSON list, or one sample per line). docs/scenarios.md, "Scenario files".
#include <memory>
#include <string>
#include <vector>

#include "core/text_template.hpp"
#include "scenarios/yaml_reader.hpp"

namespace trafficsim::scenarios {

using SampleSets = std::vector<std::shared_ptr<const core::SampleSet>>;

// Reads the `samples:` node (absent or null: none). Inline sets are interpolated like every
// other value (when `reader` has variables); sets read from a file are data and taken as
// written. A file name is looked up next to the scenario, then among the built-in files.
// `override_path` (--samples FILE, may be empty) replaces the set named "emails"; *override_used
// says whether there was one to replace. Throws ScenarioError naming file, line and field.
SampleSets read_samples(YamlReader& reader, const YAML::Node& node,
                        const std::string& override_path, bool* override_used);

// A digest of every set's name, fields and records (Plan::content_digest); "" for no sets.
std::string samples_digest(const SampleSets& sets);

}  // namespace trafficsim::scenarios
