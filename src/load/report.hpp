#pragma once
// The JSON report: a documented format (docs/report-format.md) that programs read and that
// `trafficsim report merge` combines. Histograms travel in HdrHistogram's V2 compressed form,
// so merged percentiles equal those of a single run.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "load/engine.hpp"
#include "load/plan.hpp"
#include "load/stats.hpp"

namespace trafficsim::load {

inline constexpr int kReportFormatVersion = 1;

// Builds the report of one run (or one segment of a run).
boost::json::object build_report(const Plan& plan, const RunResult& result,
                                 const std::string& version);

// Writes JSON to `path` atomically (a temporary file beside it, then rename). Throws
// std::runtime_error naming the path on failure.
void write_json_atomic(const std::string& path, const boost::json::value& value);
// The same for any text (the HTML report): `text` exactly, written atomically.
void write_text_atomic(const std::string& path, std::string_view text);
// Checks that `path` can be written (creates and removes a temporary file beside it). Throws
// std::runtime_error naming the path and the reason.
void check_writable(const std::string& path);

// Reads a report file; throws std::runtime_error naming the file and what is wrong.
boost::json::object read_report(const std::string& path);

// Why segment reports cannot be merged: every problem, each naming its files.
class MergeError : public std::runtime_error {
 public:
  explicit MergeError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Every reason the reports cannot be merged, all at once: a file that is not a segment report
// (or is already a merge), a foreign report (plan_hash other than the majority's, the first
// file's on a tie), a different segment count, each duplicate segment (both files), each
// missing segment, a meta.start_at that differs from the first report's. Empty: mergeable.
std::vector<std::string> merge_problems(
    const std::vector<std::pair<std::string, boost::json::object>>& reports);

// Merges segment reports of one plan; throws MergeError (merge_problems) when they are not.
// meta gets start_at (the segments' one instant, or null), started_at the earliest and
// start_skew_ms (latest minus earliest started_at, ms, 3 decimals).
boost::json::object merge_reports(
    const std::vector<std::pair<std::string, boost::json::object>>& reports);

// Serialises a stats block ("requests", "responses", "errors", "dropped", "latency", ...).
boost::json::object stats_to_json(const EndpointStats& stats, double duration_s,
                                  const std::vector<std::string>& counter_names);
// The reverse (histograms decoded, exact extremes restored); throws std::runtime_error.
EndpointStats stats_from_json(const boost::json::object& obj);

}  // namespace trafficsim::load
