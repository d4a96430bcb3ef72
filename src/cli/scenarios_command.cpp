#include "cli/scenarios_command.hpp"

#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/terminal.hpp"
#include "scenarios/builtin.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

CLI::App* add_scenarios_command(CLI::App& app, ScenariosOptions& o) {
  auto* cmd = app.add_subcommand(
      "scenarios",
      "List the built-in modes, scenarios and demo scripts; --show NAME prints one, to copy and "
      "change");
  cmd->add_option("--show", o.show, "Print the built-in file NAME (e.g. peak, demo-video)");
  cmd->add_flag("--json", o.json, "List as JSON");
  return cmd;
}

int run_scenarios(const ScenariosOptions& o) {
  if (!o.show.empty()) {
    auto src = scenarios::builtin_source(o.show);
    if (!src) {
      fmt::print(stderr, "trafficsim scenarios: no built-in named '{}' (see 'trafficsim "
                         "scenarios')\n",
                 o.show);
      return kExitUsage;
    }
    fmt::print("{}", src->text);
    return kExitOk;
  }
  auto list = scenarios::builtin_list();
  if (o.json) {
    json::array a;
    for (const auto& b : list) {
      const char* kind = b.kind == scenarios::BuiltinKind::mode       ? "mode"
                         : b.kind == scenarios::BuiltinKind::scenario ? "scenario"
                                                                      : "script";
      a.push_back(json::object{{"name", b.name}, {"kind", kind}, {"description", b.description}});
    }
    fmt::print("{}\n", json::serialize(a));
    return kExitOk;
  }
  Style st = Style::for_fd(fileno(stdout));
  auto section = [&](scenarios::BuiltinKind kind, const char* title, const char* how) {
    fmt::print("{}  {}\n", st.bold(title), st.dim(how));
    for (const auto& b : list)
      if (b.kind == kind) fmt::print("  {:<20} {}\n", b.name, b.description);
    fmt::print("\n");
  };
  section(scenarios::BuiltinKind::mode, "Modes (seed 000)", "trafficsim run --mode NAME --rate 10");
  section(scenarios::BuiltinKind::scenario, "Scenarios (seeds 001, 002)",
          "trafficsim run --scenario NAME");
  section(scenarios::BuiltinKind::script, "Demo scripts", "trafficsim play NAME");
  fmt::print("Copy one to change it: trafficsim scenarios --show NAME > my.yaml; trafficsim run "
             "-f my.yaml\n");
  return kExitOk;
}

}  // namespace trafficsim::cli
