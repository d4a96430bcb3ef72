#pragma once
// The self-contained HTML report (`trafficsim report html`, `GET /traffic/report/{id}?format=html`):
// one file that opens offline. Everything is inline — the template, the CSS and the chart code
// from web/report/, uPlot — and the report itself is embedded as JSON for the charts; the tables
// are rendered here, so the file reads and prints without JavaScript. The output contains no
// "http://" or "https://" at all: no external URL, and the run's own URLs (target origins) are
// written so that no browser or scanner takes them for links (&#58; in text, \/ in the JSON).
#include <string>

#include <boost/json/value.hpp>

namespace trafficsim::control {

// `report` is a run report (`bench --json`, `run --json`, `report merge`: an object with "meta"
// and "streams") or a demo script's (`play --json`, a script job: {"phases": [report, ...]}, one
// section per phase). Throws std::invalid_argument naming what is wrong when it is neither.
std::string render_html_report(const boost::json::value& report);

}  // namespace trafficsim::control
