#include "cli/report_command.hpp"

#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/summary.hpp"
#include "load/report.hpp"

namespace trafficsim::cli {

CLI::App* add_report_command(CLI::App& app, ReportMergeOptions& o) {
  auto* report = app.add_subcommand("report", "Work with JSON reports");
  report->require_subcommand(1);
  auto* merge = report->add_subcommand(
      "merge", "Merge the segment reports of one plan (--segment i/n runs) into one report");
  merge->add_option("reports", o.inputs, "Segment reports (JSON files), one per segment")
      ->required();
  merge->add_option("--json", o.json_path, "Write the merged report here (atomically)");
  merge->add_flag("--no-color", o.no_color, "No colours in the summary");
  return merge;
}

int run_report_merge(const ReportMergeOptions& o) {
  std::vector<std::pair<std::string, boost::json::object>> reports;
  try {
    for (const auto& path : o.inputs) reports.emplace_back(path, load::read_report(path));
  } catch (const std::exception& e) {
    fmt::print(stderr, "trafficsim report merge: {}\n", e.what());
    return kExitUsage;
  }
  boost::json::object merged;
  try {
    merged = load::merge_reports(reports);
  } catch (const std::exception& e) {
    fmt::print(stderr, "trafficsim report merge: {}\n", e.what());
    return kExitRunFailed;
  }
  const auto& seg = merged.at("meta").as_object().at("segment").as_object();
  fmt::print("Merged {} segment reports of plan {}\n", seg.at("count").as_uint64() + 0,
             std::string(merged.at("meta").as_object().at("plan_hash").as_string()));
  return present_report(merged, o.json_path, Style::for_fd(fileno(stdout), !o.no_color),
                        "trafficsim report merge");
}

}  // namespace trafficsim::cli
