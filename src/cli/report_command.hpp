#pragma once
// `trafficsim report merge A.json DIR/ ... [--json OUT]`: combines segment reports (a directory:
// its *.json files, by name) into one whose counts and percentiles equal a single run's, and
// evaluates a run's thresholds again on the merged figures. 0 merged; 2 the inputs are not one
// plan's segments (every problem listed in one message); 1 the output cannot be written;
// 3 a threshold failed.
// `trafficsim report html RUN.json [-o report.html]`: the self-contained HTML report of a run,
// merged or demo-script report (control/html_report.hpp).
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

struct ReportHtmlOptions {
  std::string input;
  std::string output;  // "" -> the input's name with .html; "-" -> stdout
};

struct ReportOptions {
  ReportMergeOptions merge;
  ReportHtmlOptions html;
};

struct ReportCommands {
  CLI::App* merge = nullptr;
  CLI::App* html = nullptr;
};

ReportCommands add_report_command(CLI::App& app, ReportOptions& options);
int run_report_merge(const ReportMergeOptions& options);
// 0 written; 2 the input cannot be read or is not a trafficsim report; 1 the output cannot be
// written.
int run_report_html(const ReportHtmlOptions& options);

}  // namespace trafficsim::cli
