#include "cli/report_command.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/summary.hpp"
#include "control/html_report.hpp"
#include "load/report.hpp"

namespace trafficsim::cli {

ReportCommands add_report_command(CLI::App& app, ReportOptions& options) {
  auto& o = options.merge;
  auto* report = app.add_subcommand("report", "Work with JSON reports");
  report->require_subcommand(1);
  auto* merge = report->add_subcommand(
      "merge", "Merge the segment reports of one plan (--segment i/n runs) into one report");
  merge->add_option("reports", o.inputs, "Segment reports (JSON files), one per segment")
      ->required();
  merge->add_option("--json", o.json_path, "Write the merged report here (atomically)");
  merge->add_flag("--no-color", o.no_color, "No colours in the summary");

  auto& h = options.html;
  auto* html = report->add_subcommand(
      "html",
      "Render a report (run, bench, merged or demo script) as one self-contained HTML file that "
      "opens offline: meta, latency tables, charts over time, streams, endpoints, thresholds");
  html->add_option("report", h.input, "The JSON report (--json of run, bench, play; report merge)")
      ->required();
  html->add_option("-o,--output", h.output,
                   "Write the HTML here (atomically); '-' for stdout (default: the report's path "
                   "with .html)");
  return {merge, html};
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

namespace {

// The JSON of a report file; throws std::runtime_error naming the file.
boost::json::value read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read '{}': {}", path, strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("cannot read '{}': {}", path, strerror(errno)));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text.str(), ec);
  if (ec)
    throw std::runtime_error(fmt::format("'{}' is not valid JSON: {}", path, ec.message()));
  return v;
}

std::string default_html_path(const std::string& input) {
  std::filesystem::path p(input);
  if (p.extension() == ".json") p.replace_extension(".html");
  else p += ".html";
  return p.string();
}

}  // namespace

int run_report_html(const ReportHtmlOptions& o) {
  std::string html;
  try {
    html = control::render_html_report(read_json_file(o.input));
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "trafficsim report html: {}: {}\n", o.input, e.what());
    return kExitUsage;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "trafficsim report html: {}\n", e.what());
    return kExitUsage;
  }
  if (o.output == "-") {
    if (std::fwrite(html.data(), 1, html.size(), stdout) != html.size() || std::fflush(stdout) != 0) {
      fmt::print(stderr, "trafficsim report html: cannot write to stdout: {}\n", strerror(errno));
      return kExitRunFailed;
    }
    return kExitOk;
  }
  const std::string out = o.output.empty() ? default_html_path(o.input) : o.output;
  std::error_code ec;
  if (std::filesystem::equivalent(out, o.input, ec)) {
    fmt::print(stderr, "trafficsim report html: the output '{}' is the input report: choose another -o\n",
               out);
    return kExitUsage;
  }
  try {
    load::write_text_atomic(out, html);
  } catch (const std::exception& e) {
    fmt::print(stderr, "trafficsim report html: {}\n", e.what());
    return kExitRunFailed;
  }
  fmt::print("Wrote {} ({:.1f} KiB)\n", out, static_cast<double>(html.size()) / 1024.0);
  return kExitOk;
}

}  // namespace trafficsim::cli
