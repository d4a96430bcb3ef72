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

// Merges segment reports of one plan. Refuses (std::runtime_error, naming the files) reports of
// different plans, duplicate segments or missing segments.
boost::json::object merge_reports(
    const std::vector<std::pair<std::string, boost::json::object>>& reports);

// Serialises a stats block ("requests", "responses", "errors", "dropped", "latency", ...).
boost::json::object stats_to_json(const EndpointStats& stats, double duration_s,
                                  const std::vector<std::string>& counter_names);
// The reverse (histograms decoded, exact extremes restored); throws std::runtime_error.
EndpointStats stats_from_json(const boost::json::object& obj);

}  // namespace trafficsim::load
