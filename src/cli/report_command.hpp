#pragma once
// `trafficsim report merge A.json B.json ... [--json OUT]`: combines segment reports into one
// whose counts and percentiles equal a single run's.
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace trafficsim::cli {

struct ReportMergeOptions {
  std::vector<std::string> inputs;
  std::string json_path;
  bool no_color = false;
};

CLI::App* add_report_command(CLI::App& app, ReportMergeOptions& options);
int run_report_merge(const ReportMergeOptions& options);

}  // namespace trafficsim::cli
