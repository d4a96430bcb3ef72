#pragma once
// The wrk-style summary printed at the end of a run (or of a merge), read from the JSON report
// so that every figure a person sees is the figure a program reads.
#include <cstdio>

#include <boost/json/object.hpp>

#include "cli/terminal.hpp"

namespace trafficsim::cli {

void print_summary(std::FILE* out, const boost::json::object& report, const Style& style);

}  // namespace trafficsim::cli
