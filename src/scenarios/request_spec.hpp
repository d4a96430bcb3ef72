#pragma once
// The requests of a scenario stream: what applies to all of them (tag, headers, expect), the
// request list with its groups, weights and rotation, the endpoints filter, and each request's
// method, path, headers and body compiled as templates. docs/scenarios.md, "Scenario files".
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/samples.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/yaml_reader.hpp"

namespace trafficsim::scenarios {

// A status list: "200", "200-499", "2xx", comma-separated or a YAML list. Sorted, unique;
// fails unless every item is within 100-599.
std::vector<int> read_statuses(YamlReader& reader, const YAML::Node& node,
                               const std::string& field);

// What a stream gives every one of its requests.
struct RequestDefaults {
  std::vector<std::pair<std::string, YAML::Node>> headers;  // compiled per request
  std::string tag;                                          // X-Traffic-Type unless set
  std::optional<std::vector<int>> expect;
};

// The stream's tag (default `stream_name`), headers and expect.
RequestDefaults read_request_defaults(YamlReader& reader, const YAML::Node& stream,
                                      const std::string& field, const std::string& stream_name);

// The stream's `requests` (with `rotate` and `endpoints`) into out.requests and out.groups.
// Templates draw from `samples`; each compiled template's precomputed bytes are charged to
// the reader, so templates cannot multiply the memory loading takes either.
void read_requests(YamlReader& reader, const SampleSets& samples, const YAML::Node& stream,
                   const std::string& field, const RequestDefaults& defaults, StreamSpec& out);

}  // namespace trafficsim::scenarios
