// The YAML files users write: scenarios (with variables and templates, then bound to a plan),
// demo scripts, monitor files and custom incident scenarios. Each loads or is refused with its
// documented error (FILE:LINE: FIELD); never a crash, a hang or unbounded memory (the reader's
// expansion and nesting bounds: an alias bomb is refused). The first byte picks the loader.
#include <string>

#include "fuzz_support.hpp"
#include "incidents/incident_scenario.hpp"
#include "monitors/monitor_spec.hpp"
#include "scenarios/demo_script.hpp"
#include "scenarios/scenario.hpp"

namespace sc = trafficsim::scenarios;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string text(fuzz_text(data + 1, size - 1));
  try {
    switch (data[0] % 4) {
      case 0: {
        sc::LoadOptions lo;
        lo.getenv = [](const char*) -> const char* { return nullptr; };  // no environment
        lo.params["rate"] = "10";
        auto scenario = sc::load_scenario(sc::Source{"fuzz.yaml", text, false}, lo);
        sc::BuildOptions bo;
        bo.url = "http://127.0.0.1:9";
        bo.clock = trafficsim::core::DemoClockSpec{};
        bo.now_unix = 1764700000;
        (void)sc::build_plan(scenario, bo);
        break;
      }
      case 1:
        (void)sc::load_demo_script(sc::Source{"fuzz.yaml", text, false});
        break;
      case 2:
        (void)trafficsim::monitors::load_monitors(text, "fuzz.yaml");
        break;
      default:
        (void)trafficsim::incidents::load_incident_scenario(text, "fuzz.yaml");
        break;
    }
  } catch (const sc::ScenarioError&) {
  } catch (const trafficsim::monitors::MonitorFileError&) {
  } catch (const trafficsim::incidents::IncidentError&) {
  }
  return 0;
}
