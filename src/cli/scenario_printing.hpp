#pragma once
// How `trafficsim run` and `play` show a traffic job: the plan's streams before it starts, one
// line per request with --verbose, and the per-stream summary with thresholds at the end. Every
// figure is read from the job's plan or report, so what a person sees is what a program reads.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cli/terminal.hpp"
#include "load/plan.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/thresholds.hpp"

namespace trafficsim::cli {

// One line per stream (rate, timeout, request types, jitter, hard cap), then the plan's notes.
void print_plan(std::FILE* out, const scenarios::Scenario& scenario, const load::Plan& plan,
                const Style& style);

// The --verbose hook: one line per finished request on stderr (stdio locks the stream per call:
// a debugging aid that costs throughput, never on by default).
std::function<void(const load::RequestEvent&)> verbose_request_logger(const scenarios::Scenario& scenario);

// The per-stream summary of a scenario run, then the thresholds.
void print_scenario_summary(std::FILE* out, const boost::json::object& report,
                            const std::vector<scenarios::ThresholdResult>& thresholds,
                            const Style& style);

// Prints text wrapped at `width` columns (indent included) with `indent`; each line of the text
// starts a new paragraph, blank lines are dropped.
void print_wrapped(std::FILE* out, const std::string& text, size_t width, const std::string& indent);
// Splits text into lines of at most `width` characters at spaces; a word longer than the width is
// cut (marked with '-') or, without cut_long_words, kept whole on its own line. At least one line.
std::vector<std::string> wrap_words(const std::string& text, size_t width,
                                    bool cut_long_words = true);

}  // namespace trafficsim::cli
