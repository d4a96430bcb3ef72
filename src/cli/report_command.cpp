#include "cli/report_command.hpp"

#include <algorithm>
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
#include "cli/terminal.hpp"
#include "cli/traffic_flags.hpp"
#include "load/report.hpp"
#include "scenarios/run_report.hpp"

namespace trafficsim::cli {

ReportCommands add_report_command(CLI::App& app, ReportOptions& options) {
  auto& o = options.merge;
  auto* report = app.add_subcommand("report", "Work with JSON reports");
  report->require_subcommand(1);
  auto* merge = report->add_subcommand(
      "merge", "Merge the segment reports of one plan (--segment i/n runs) into one report");
  merge->add_option("reports", o.inputs,
                    "Segment reports (JSON files, one per segment) or directories (their *.json "
                    "files, by name). Exit codes: 0 merged, 1 the output cannot be written, 2 the "
                    "inputs do not make one plan (every problem listed), 3 thresholds failed")
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

namespace {

// The inputs with each directory replaced by its *.json files, sorted by name, except `output`
// (the merge's own --json: a merge Job run again over its reports directory must not read the
// merged report of the last run as a segment). A directory without any is a problem (added to
// *problems).
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs,
                                       const std::string& output,
                                       std::vector<std::string>* problems) {
  std::error_code out_ec;
  const std::filesystem::path out_path =
      output.empty() ? std::filesystem::path() : std::filesystem::weakly_canonical(output, out_ec);
  auto is_output = [&](const std::filesystem::path& p) {
    if (out_path.empty() || out_ec) return false;
    std::error_code ec;
    return std::filesystem::weakly_canonical(p, ec) == out_path && !ec;
  };
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(in, ec)) {
      files.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(in, ec))
      if (e.path().extension() == ".json" && e.is_regular_file(ec) && !is_output(e.path()))
        found.push_back(e.path().string());
    if (ec) problems->push_back(fmt::format("cannot list directory '{}': {}", in, ec.message()));
    else if (found.empty()) problems->push_back(fmt::format("directory '{}' has no *.json files", in));
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// The segments must carry the same thresholds (the same scenario): a problem names each that
// does not.
void check_thresholds_agree(const std::vector<std::pair<std::string, boost::json::object>>& reports,
                            std::vector<std::string>* problems) {
  auto conditions = [](const boost::json::object& r) {
    std::vector<std::string> out;
    if (const auto* th = r.if_contains("thresholds"); th && th->is_object())
      if (const auto* res = th->as_object().if_contains("results"); res && res->is_array())
        for (const auto& v : res->as_array())
          if (v.is_object())
            out.push_back(fmt::format("{}|{}", boost::json::serialize(v.as_object().at("stream")),
                                      boost::json::serialize(v.as_object().at("condition"))));
    return out;
  };
  if (reports.empty()) return;
  const auto first = conditions(reports[0].second);
  for (size_t i = 1; i < reports.size(); ++i)
    if (conditions(reports[i].second) != first)
      problems->push_back(fmt::format("{} has other thresholds than {}: segments of one run "
                                      "carry the same scenario",
                                      reports[i].first, reports[0].first));
}

}  // namespace

int run_report_merge(const ReportMergeOptions& o) {
  const char* cmd = "trafficsim report merge";
  // Every problem is found before any is reported: one message lists them all (exit 2).
  std::vector<std::string> problems;
  std::vector<std::pair<std::string, boost::json::object>> reports;
  for (const auto& path : expand_inputs(o.inputs, o.json_path, &problems)) {
    try {
      reports.emplace_back(path, load::read_report(path));
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
  }
  if (!reports.empty()) {
    for (auto& p : load::merge_problems(reports)) problems.push_back(std::move(p));
    check_thresholds_agree(reports, &problems);
  }
  if (!problems.empty()) {
    fmt::print(stderr, "{}: cannot merge: {} problem{}:\n", cmd, problems.size(),
               problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) fmt::print(stderr, "  {}\n", p);
    return kExitUsage;
  }
  boost::json::object merged;
  std::vector<scenarios::ThresholdResult> thresholds;
  try {
    merged = load::merge_reports(reports);
    // A run's thresholds, evaluated on the merged figures (as `run` does on its own).
    thresholds = scenarios::reevaluate_thresholds(reports[0].second, merged);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", cmd, e.what());
    return kExitUsage;
  }
  if (const auto* sc = reports[0].second.if_contains("scenario")) merged["scenario"] = *sc;
  if (reports[0].second.contains("thresholds"))
    merged["thresholds"] = scenarios::thresholds_to_json(thresholds);
  const auto& meta = merged.at("meta").as_object();
  const auto& seg = meta.at("segment").as_object();
  Style style = Style::for_fd(fileno(stdout), !o.no_color);
  fmt::print("Merged {} segment reports of plan {} (start skew {:.3f} ms)\n",
             seg.at("count").as_uint64() + 0, std::string(meta.at("plan_hash").as_string()),
             meta.at("start_skew_ms").to_number<double>());
  int code = present_report(merged, o.json_path, style, cmd);
  bool passed = true;
  if (!thresholds.empty()) {
    fmt::print("  thresholds (on the merged figures)\n");
    for (const auto& t : thresholds) {
      passed = passed && t.passed;
      fmt::print("    {} {}{}  (actual {})\n", t.passed ? style.green("PASS") : style.red("FAIL"),
                 t.stream.empty() ? "" : t.stream + ": ", t.threshold.text, t.actual_text);
    }
  }
  std::fflush(stdout);
  if (code != kExitOk) return code;
  if (!passed) {
    fmt::print(stderr, "{}: thresholds failed (exit {})\n", cmd, kExitThresholds);
    return kExitThresholds;
  }
  return kExitOk;
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
