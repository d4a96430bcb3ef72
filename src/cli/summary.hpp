#pragma once
// The wrk-style summary printed at the end of a run (or of a merge), read from the JSON report
// so that every figure a person sees is the figure a program reads.
#include <cstdio>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "cli/terminal.hpp"

namespace trafficsim::cli {

void print_summary(std::FILE* out, const boost::json::object& report, const Style& style);

// A number of a report object; 0 when absent or not a number (a count: clamped at 0).
double report_number(const boost::json::object& o, std::string_view key);
uint64_t report_count(const boost::json::object& o, std::string_view key);

// A stats block's responses as "200 x98, 503 x2", coloured by class; "" when there are none.
std::string statuses_text(const boost::json::object& stats, const Style& style);

// Writes the report atomically; when that fails, tries once more, then says why on stderr and
// prints the report on stdout so that nothing measured is lost. True when it was written.
bool write_report_or_print(const char* command, const std::string& path,
                           const boost::json::object& report);

// Prints the summary to stdout and, when json_path is set, writes the report there atomically
// (write_report_or_print). Returns the exit code (kExitRunFailed when the report could not be
// written; it is then on stdout).
int present_report(const boost::json::object& report, const std::string& json_path,
                   const Style& style, const char* command);

}  // namespace trafficsim::cli
