#pragma once
// Rates of a scenario stream: the `rate:` value as written (a number or one shape: constant,
// ramp, peak, steps, table, demo_minutes, blackfriday) and the rate profile it becomes once the
// run's duration and demo clock are known. docs/scenarios.md, "Rate shapes".
#include <string>

#include "core/rate_profile.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/yaml_reader.hpp"

namespace trafficsim::scenarios {

// Reads a stream's `rate:` node. Every rate is within core::kMaxRateRps and every time within
// core::kMaxDuration (a demo minute within as many minutes). demo_minutes / blackfriday need
// `demo_clock` (the file's demo_clock: true). Throws ScenarioError naming file, line and field.
RateSpec read_rate_spec(YamlReader& reader, const YAML::Node& node, const std::string& field,
                        bool demo_clock);

// The profile of `spec` for a run of duration_s seconds starting at now_unix; `clock` is used
// (and required) by demo_minutes only.
core::RateProfile rate_profile(const RateSpec& spec, double duration_s,
                               const DemoClockSpec* clock, double now_unix);

}  // namespace trafficsim::scenarios
