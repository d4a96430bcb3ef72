#pragma once
// The dashboard's and the HTML report's files, embedded at build time from web/public/ and
// web/report/ (paths relative to web/, e.g. "public/index.html", "report/report.js") and uPlot
// from web/node_modules ("vendor/uplot.js", "vendor/uplot.css"). Nothing is read from disk at
// run time.
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace trafficsim::control {

const std::vector<std::pair<std::string_view, std::string_view>>& embedded_assets();

// The file at `path` (as above), or nothing.
std::optional<std::string_view> asset(std::string_view path);

// A Content-Type for a file name by its extension (text/html; charset=utf-8, text/javascript,
// text/css, image/svg+xml, application/json; application/octet-stream otherwise).
std::string_view content_type_for(std::string_view path);

}  // namespace trafficsim::control
