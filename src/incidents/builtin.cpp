// The built-in incident catalogue: the embedded incidents/*.yaml, parsed once, in the seed's order.
#include "incidents/builtin.hpp"

#include <algorithm>
#include <array>
#include <string>

#include <fmt/format.h>

namespace trafficsim::incidents {

namespace {

// Seed 004's order ("Available Scenarios", 1 to 5): what a list shows first.
constexpr std::array<std::string_view, 5> kSeedOrder = {
    "memory_leak_gradual", "cpu_spike_traffic_surge", "latency_spike_database", "pod_crash_loop",
    "dependency_failure_timeout"};

size_t rank(std::string_view id) {
  auto it = std::find(kSeedOrder.begin(), kSeedOrder.end(), id);
  return static_cast<size_t>(it - kSeedOrder.begin());  // kSeedOrder.size() when not a seed id
}

std::vector<IncidentScenario> load_all() {
  std::vector<IncidentScenario> out;
  for (const auto& [path, text] : embedded_incident_files()) {
    std::string name(path);
    if (!name.ends_with(".yaml")) continue;
    IncidentScenario s = load_incident_scenario(text, "incidents/" + name);
    // The file's name is how a person finds the scenario: it must say the id.
    if (name != s.id + ".yaml")
      throw IncidentError(
          fmt::format("incidents/{}: id: '{}' differs from the file's name", name, s.id));
    out.push_back(std::move(s));
  }
  // Stable: the files come sorted by name, which orders the ones the seed does not list.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return rank(a.id) < rank(b.id); });
  return out;
}

}  // namespace

const std::vector<IncidentScenario>& builtin_incident_scenarios() {
  static const std::vector<IncidentScenario> all = load_all();
  return all;
}

const IncidentScenario* find_incident_scenario(std::string_view id) {
  for (const auto& s : builtin_incident_scenarios())
    if (s.id == id) return &s;
  return nullptr;
}

}  // namespace trafficsim::incidents
