#include "control/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "control/assets.hpp"

namespace trafficsim::control {

namespace json = boost::json;

namespace {

// ---- validation --------------------------------------------------------------------------------

[[noreturn]] void not_a_report(const std::string& what) {
  throw std::invalid_argument("not a trafficsim report: " + what);
}

std::string_view kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: return "an object";
    case json::kind::array: return "an array";
    case json::kind::string: return "a string";
    case json::kind::bool_: return "a boolean";
    case json::kind::null: return "null";
    default: return "a number";
  }
}

// A run report has a "meta" object and a "streams" array of objects; everything else is optional
// (shown as "—" when absent), so older and merged reports render too.
void check_run(const json::value& v, const std::string& where) {
  const std::string at = where.empty() ? "" : where + ": ";
  if (!v.is_object()) not_a_report(fmt::format("{}expected an object, got {}", at, kind_of(v)));
  const auto& o = v.as_object();
  auto meta = o.find("meta");
  if (meta == o.end() || !meta->value().is_object())
    not_a_report(fmt::format("{}no 'meta' object (a run report has 'meta' and 'streams'; a demo "
                             "script's has 'phases')", at));
  auto streams = o.find("streams");
  if (streams == o.end() || !streams->value().is_array())
    not_a_report(fmt::format("{}no 'streams' array", at));
  const auto& arr = streams->value().as_array();
  for (size_t i = 0; i < arr.size(); ++i)
    if (!arr[i].is_object())
      not_a_report(fmt::format("{}streams[{}] is {}, not an object", at, i, kind_of(arr[i])));
}

// ---- reading fields ------------------------------------------------------------------------------

const json::object kEmpty;

const json::object& object_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? it->value().as_object() : kEmpty;
}

const json::array* array_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_array() ? &it->value().as_array() : nullptr;
}

std::optional<double> number_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_number()) return std::nullopt;
  return it->value().to_number<double>();
}

std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return "";
  if (it->value().is_string()) return std::string(it->value().as_string());
  if (it->value().is_null()) return "";
  // Numbers as people write them (100, 1796167658.790331), not as serialize does (1E2).
  if (it->value().is_double()) return fmt::format("{}", it->value().as_double());
  return json::serialize(it->value());
}

bool bool_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}

// ---- formatting --------------------------------------------------------------------------------

constexpr std::string_view kDash = "—";

// Text for HTML. "://" becomes "&#58;//": the browser shows the same URL, but the file holds no
// "http://" that a scanner, a mail filter or a link detector would treat as a reference.
std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case ':': out += s.substr(i + 1, 2) == "//" ? "&#58;" : ":"; break;
      default: out += c;
    }
  }
  return out;
}

std::string count_text(std::optional<double> v) {
  if (!v) return std::string(kDash);
  auto n = static_cast<uint64_t>(std::llround(std::max(0.0, *v)));
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Microseconds as milliseconds with three significant figures or so: 0.412, 12.3, 1234.
std::string ms_text(std::optional<double> us) {
  if (!us) return std::string(kDash);
  double ms = *us / 1000.0;
  if (ms < 10) return fmt::format("{:.2f}", ms);
  if (ms < 100) return fmt::format("{:.1f}", ms);
  return fmt::format("{:.0f}", ms);
}

std::string rate_text(std::optional<double> v) {
  return v ? fmt::format("{:.1f}", *v) : std::string(kDash);
}

std::string percent_text(std::optional<double> ratio) {
  if (!ratio) return std::string(kDash);
  double p = *ratio * 100.0;
  return p > 0 && p < 0.1 ? fmt::format("{:.3f}%", p) : fmt::format("{:.1f}%", p);
}

std::string seconds_text(std::optional<double> s) {
  if (!s) return std::string(kDash);
  if (*s < 120) return fmt::format("{:.1f} s", *s);
  auto whole = static_cast<int64_t>(std::llround(*s));
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m{:02}s", whole / 3600, whole % 3600 / 60, whole % 60);
}

std::string bytes_text(std::optional<double> b) {
  if (!b) return std::string(kDash);
  if (*b < 1024) return fmt::format("{:.0f} B", *b);
  if (*b < 1024 * 1024) return fmt::format("{:.1f} KiB", *b / 1024);
  if (*b < 1024.0 * 1024 * 1024) return fmt::format("{:.1f} MiB", *b / (1024 * 1024));
  return fmt::format("{:.2f} GiB", *b / (1024.0 * 1024 * 1024));
}

// "200 ×98, 503 ×2" from a stats block's responses.
std::string statuses_text(const json::object& stats) {
  std::string out;
  for (const auto& [code, n] : object_at(stats, "responses")) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} ×{}", std::string_view(code),
                       n.is_number() ? count_text(n.to_number<double>()) : std::string(kDash));
  }
  return out.empty() ? std::string(kDash) : out;
}

// ---- tables ------------------------------------------------------------------------------------

struct Table {
  std::vector<std::string> head;       // header cells (plain text, escaped here)
  std::vector<std::vector<std::string>> rows;  // cells as HTML (already escaped)
  std::vector<std::string> row_class;  // per row: "" or a CSS class
  size_t text_columns = 1;             // the first columns are text (left-aligned)
  std::string css = "data";
};

std::string render(const Table& t) {
  std::string out = fmt::format("<table class=\"{}\"><thead><tr>", t.css);
  for (size_t i = 0; i < t.head.size(); ++i)
    out += fmt::format("<th{}>{}</th>", i < t.text_columns ? " class=\"text\"" : "", esc(t.head[i]));
  out += "</tr></thead><tbody>";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const std::string& rc = r < t.row_class.size() ? t.row_class[r] : "";
    out += rc.empty() ? "<tr>" : fmt::format("<tr class=\"{}\">", rc);
    for (size_t i = 0; i < t.rows[r].size(); ++i)
      out += fmt::format("<td{}>{}</td>", i < t.text_columns ? " class=\"text\"" : "", t.rows[r][i]);
    out += "</tr>";
  }
  return out + "</tbody></table>\n";
}

std::string key_values(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string out = "<table class=\"meta\"><tbody>";
  for (const auto& [k, v] : rows) out += fmt::format("<tr><th>{}</th><td>{}</td></tr>", esc(k), v);
  return out + "</tbody></table>\n";
}

std::string badge(bool passed) {
  return passed ? "<span class=\"badge pass\">PASS</span>" : "<span class=\"badge fail\">FAIL</span>";
}

// What the report came from, as far as it says: meta.command when present, else inferred.
std::string command_text(const json::object& run) {
  const auto& meta = object_at(run, "meta");
  if (std::string c = string_at(meta, "command"); !c.empty()) return c;
  const auto& scenario = object_at(run, "scenario");
  const auto& segment = object_at(meta, "segment");
  std::string base;
  if (auto name = string_at(scenario, "name"); !name.empty())
    base = fmt::format("trafficsim run ({})", name);
  else
    base = "trafficsim bench";
  if (array_at(segment, "merged")) return fmt::format("trafficsim report merge of {} segments ({})",
                                                      count_text(number_at(segment, "count")), base);
  return base;
}

std::vector<std::string> targets_of(const json::object& run) {
  std::vector<std::string> urls;
  for (const auto& s : *array_at(run, "streams")) {
    std::string url = string_at(s.as_object(), "url");
    if (!url.empty() && std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(url);
  }
  return urls;
}

std::string saturation_text(const json::object& run) {
  const auto& sat = object_at(run, "saturation");
  if (!bool_at(sat, "saturated")) return "no";
  std::string reason;
  auto it = sat.find("reason");
  if (it != sat.end() && it->value().is_array()) {
    for (const auto& r : it->value().as_array())
      reason += (reason.empty() ? "" : "; ") + (r.is_string() ? std::string(r.as_string()) : "");
  } else {
    reason = string_at(sat, "reason");
  }
  return "<strong class=\"bad\">yes</strong>" + (reason.empty() ? "" : ": " + esc(reason)) +
         " — the generator, not the target, may have limited the figures";
}

std::string meta_section(const json::object& run) {
  const auto& meta = object_at(run, "meta");
  const auto& scenario = object_at(run, "scenario");
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("Command", esc(command_text(run)));
  if (auto name = string_at(scenario, "name"); !name.empty()) {
    std::string d = string_at(scenario, "description");
    rows.emplace_back("Scenario", "<strong>" + esc(name) + "</strong>" +
                                      (d.empty() ? "" : " — " + esc(d)));
  }
  std::string targets;
  for (const auto& u : targets_of(run)) targets += (targets.empty() ? "" : ", ") + esc(u);
  rows.emplace_back("Target", targets.empty() ? std::string(kDash) : targets);
  rows.emplace_back("Started", esc(string_at(meta, "started_at")));
  rows.emplace_back("Ended", esc(string_at(meta, "ended_at")));
  std::string duration = seconds_text(number_at(run, "duration_s"));
  if (auto planned = number_at(meta, "planned_duration_s"))
    duration += " (planned " + seconds_text(planned) + ")";
  if (bool_at(meta, "stopped_early")) duration += " — <strong class=\"bad\">stopped early</strong>";
  rows.emplace_back("Duration", duration);
  rows.emplace_back("Seed", esc(string_at(meta, "seed")));
  rows.emplace_back("Plan hash", "<code>" + esc(string_at(meta, "plan_hash")) + "</code>");
  const auto& segment = object_at(meta, "segment");
  if (array_at(segment, "merged"))
    rows.emplace_back("Segments", fmt::format("{} merged", count_text(number_at(segment, "count"))));
  else if (number_at(segment, "count").value_or(1) > 1)
    rows.emplace_back("Segment", fmt::format("{}/{}", count_text(number_at(segment, "index")),
                                             count_text(number_at(segment, "count"))));
  std::string model = string_at(meta, "model");
  rows.emplace_back("Threads", esc(string_at(meta, "threads")) +
                                   (model.empty() ? "" : " · " + esc(model) + " model"));
  rows.emplace_back("Saturation", saturation_text(run));
  const auto& clock = object_at(scenario, "demo_clock");
  if (!clock.empty())
    rows.emplace_back("Demo clock", fmt::format("start {} (Unix s), time scale {}, {} minutes",
                                                esc(string_at(clock, "start_timestamp")),
                                                esc(string_at(clock, "time_scale")),
                                                esc(string_at(clock, "duration_minutes"))));
  if (const auto* notes = array_at(meta, "notes"); notes && !notes->empty()) {
    std::string list = "<ul>";
    for (const auto& n : *notes)
      list += "<li>" + esc(n.is_string() ? std::string(n.as_string()) : json::serialize(n)) + "</li>";
    rows.emplace_back("Notes", list + "</ul>");
  }
  rows.emplace_back("trafficsim", esc(string_at(meta, "trafficsim_version")));
  return "<h3>Run</h3>\n" + key_values(rows);
}

std::string summary_section(const json::object& run) {
  Table t;
  t.head = {"Requests", "Achieved req/s", "Errors", "Error ratio", "Expected failures",
            "Dropped", "Bytes in", "Bytes out"};
  t.text_columns = 0;
  t.css = "data summary";
  t.rows.push_back({count_text(number_at(run, "requests")), rate_text(number_at(run, "achieved_rps")),
                    count_text(number_at(run, "unexpected_failures")),
                    percent_text(number_at(run, "error_ratio")),
                    count_text(number_at(run, "expected_failures")),
                    count_text(number_at(run, "dropped")), bytes_text(number_at(run, "bytes_in")),
                    bytes_text(number_at(run, "bytes_out"))});
  return "<h3>Summary</h3>\n" + render(t);
}

std::string latency_section(const json::object& run) {
  const auto& latency = object_at(run, "latency");
  Table t;
  t.head = {"Latency (ms)", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"};
  t.css = "data latency";
  const std::pair<std::string_view, std::string_view> kinds[] = {
      {"corrected", "Corrected (from the intended send time)"},
      {"service", "Service (from the actual send)"},
      {"send_lateness", "Send lateness (actual − intended send)"}};
  for (const auto& [key, label] : kinds) {
    const auto& l = object_at(latency, key);
    if (l.empty()) continue;
    t.rows.push_back({esc(label), count_text(number_at(l, "count")), ms_text(number_at(l, "min_us")),
                      ms_text(number_at(l, "mean_us")), ms_text(number_at(l, "p50_us")),
                      ms_text(number_at(l, "p90_us")), ms_text(number_at(l, "p95_us")),
                      ms_text(number_at(l, "p99_us")), ms_text(number_at(l, "p999_us")),
                      ms_text(number_at(l, "max_us"))});
  }
  if (t.rows.empty()) return "<h3>Latency</h3>\n<p class=\"none\">No latency figures.</p>\n";
  return "<h3>Latency</h3>\n" + render(t);
}

std::string charts_section(size_t run_index) {
  return fmt::format(
      "<h3>Over time</h3>\n<div class=\"charts\" data-run=\"{}\">"
      "<noscript><p class=\"none\">The charts need JavaScript; the tables above and below have "
      "the figures.</p></noscript></div>\n",
      run_index);
}

std::string corrected(const json::object& stats, std::string_view key) {
  return ms_text(number_at(object_at(object_at(stats, "latency"), "corrected"), key));
}

std::string streams_section(const json::object& run) {
  Table t;
  t.head = {"Stream", "Target", "Requests", "Planned", "Achieved req/s", "Peak target req/s",
            "Errors", "Error ratio", "Dropped", "p50 ms", "p95 ms", "p99 ms", "max ms"};
  t.text_columns = 2;
  for (const auto& sv : *array_at(run, "streams")) {
    const auto& s = sv.as_object();
    t.rows.push_back({esc(string_at(s, "name")), esc(string_at(s, "url")),
                      count_text(number_at(s, "requests")),
                      count_text(number_at(s, "planned_requests")),
                      rate_text(number_at(s, "achieved_rps")),
                      rate_text(number_at(s, "peak_target_rps")),
                      count_text(number_at(s, "unexpected_failures")),
                      percent_text(number_at(s, "error_ratio")), count_text(number_at(s, "dropped")),
                      corrected(s, "p50_us"), corrected(s, "p95_us"), corrected(s, "p99_us"),
                      corrected(s, "max_us")});
  }
  if (t.rows.empty()) return "<h3>Streams</h3>\n<p class=\"none\">No streams.</p>\n";
  return "<h3>Streams</h3>\n" + render(t);
}

std::string endpoint_name(const json::object& e) {
  std::string name = string_at(e, "name");
  if (name.empty()) name = string_at(e, "method") + " " + string_at(e, "target");
  return name;
}

std::string endpoints_section(const json::object& run) {
  Table t;
  t.head = {"Stream", "Endpoint", "Requests", "Achieved req/s", "Error ratio", "p50 ms", "p95 ms",
            "p99 ms", "max ms", "Responses"};
  t.text_columns = 2;
  for (const auto& sv : *array_at(run, "streams")) {
    const auto& s = sv.as_object();
    const auto* eps = array_at(s, "endpoints");
    if (!eps) continue;
    for (const auto& ev : *eps) {
      if (!ev.is_object()) continue;
      const auto& e = ev.as_object();
      std::string name = esc(endpoint_name(e));
      if (bool_at(e, "injected")) name += " <span class=\"tag\">injected</span>";
      std::string target = string_at(e, "target");
      if (!target.empty() && target != string_at(e, "name"))
        name += "<div class=\"sub\">" + esc(string_at(e, "method") + " " + target) + "</div>";
      t.rows.push_back({esc(string_at(s, "name")), name, count_text(number_at(e, "requests")),
                        rate_text(number_at(e, "achieved_rps")),
                        percent_text(number_at(e, "error_ratio")), corrected(e, "p50_us"),
                        corrected(e, "p95_us"), corrected(e, "p99_us"), corrected(e, "max_us"),
                        esc(statuses_text(e))});
    }
  }
  if (t.rows.empty()) return "";
  t.css = "data endpoints";
  return "<h3>Endpoints</h3>\n" + render(t);
}

std::string thresholds_section(const json::object& run) {
  const auto& th = object_at(run, "thresholds");
  const auto* results = array_at(th, "results");
  if (th.empty()) return "";
  std::string out = "<h3>Thresholds " + badge(bool_at(th, "passed")) + "</h3>\n";
  if (!results || results->empty()) return out + "<p class=\"none\">The scenario sets no thresholds.</p>\n";
  Table t;
  t.head = {"Stream", "Condition", "Actual", "Result"};
  t.text_columns = 2;
  t.css = "data thresholds";
  for (const auto& rv : *results) {
    if (!rv.is_object()) continue;
    const auto& r = rv.as_object();
    std::string stream = string_at(r, "stream");
    std::string actual = string_at(r, "actual_text");
    if (actual.empty()) actual = string_at(r, "actual");
    bool passed = bool_at(r, "passed");
    t.rows.push_back({esc(stream.empty() ? "(whole run)" : stream), esc(string_at(r, "condition")),
                      esc(actual), badge(passed)});
    t.row_class.push_back(passed ? "pass" : "fail");
  }
  return out + render(t);
}

std::string traffic_stats_section(const json::object& run) {
  const auto& stats = object_at(run, "traffic_stats");
  if (stats.empty()) return "";
  // Columns: the union of the streams' keys, in a fixed order where known.
  const std::vector<std::string> known = {"rpm", "current_rpm", "demo_minute", "requests",
                                          "errors", "error_rate"};
  std::vector<std::string> columns;
  std::set<std::string> seen;
  for (const auto& k : known)
    for (const auto& [name, v] : stats)
      if (v.is_object() && v.as_object().contains(k) && seen.insert(k).second) columns.push_back(k);
  for (const auto& [name, v] : stats)
    if (v.is_object())
      for (const auto& [k, x] : v.as_object())
        if (k != "error_ratio" && seen.insert(std::string(k)).second) columns.emplace_back(k);
  Table t;
  t.head = {"Stream"};
  t.head.insert(t.head.end(), columns.begin(), columns.end());
  for (const auto& [name, v] : stats) {
    if (!v.is_object()) continue;
    std::vector<std::string> row = {esc(std::string_view(name))};
    for (const auto& c : columns) {
      std::string cell = string_at(v.as_object(), c);
      row.push_back(cell.empty() ? std::string(kDash) : esc(cell));
    }
    t.rows.push_back(std::move(row));
  }
  return "<h3>Traffic stats <span class=\"sub\">(seed 002's /admin/traffic-stats shape, at the "
         "end of the run)</span></h3>\n" + render(t);
}

std::string errors_section(const json::object& run) {
  static constexpr std::string_view kKinds[] = {"connect", "timeout", "closed_mid_response",
                                                "other", "status"};
  Table t;
  t.head = {"Stream", "Endpoint", "connect", "timeout", "closed mid-response", "other",
            "unexpected status", "dropped", "expected failures"};
  t.text_columns = 2;
  t.css = "data errors";
  auto row_for = [&](const std::string& stream, const std::string& endpoint, const json::object& s) {
    const auto& errors = object_at(s, "errors");
    std::vector<std::string> row = {esc(stream), esc(endpoint)};
    for (auto k : kKinds) row.push_back(count_text(number_at(errors, k).value_or(0)));
    row.push_back(count_text(number_at(s, "dropped").value_or(0)));
    row.push_back(count_text(number_at(s, "expected_failures").value_or(0)));
    t.rows.push_back(std::move(row));
  };
  for (const auto& sv : *array_at(run, "streams")) {
    const auto& s = sv.as_object();
    if (const auto* eps = array_at(s, "endpoints"))
      for (const auto& ev : *eps)
        if (ev.is_object()) row_for(string_at(s, "name"), endpoint_name(ev.as_object()), ev.as_object());
  }
  row_for("(all)", "", run);
  t.row_class.assign(t.rows.size() - 1, "");
  t.row_class.push_back("total");
  std::string out = "<h3>Errors</h3>\n<p>Responses: " + esc(statuses_text(run)) + "</p>\n" + render(t);
  if (const auto* samples = array_at(run, "error_samples"); samples && !samples->empty()) {
    out += "<p>First errors seen:</p><ul class=\"samples\">";
    for (const auto& e : *samples)
      out += "<li><code>" + esc(e.is_string() ? std::string(e.as_string()) : json::serialize(e)) +
             "</code></li>";
    out += "</ul>\n";
  }
  return out;
}

std::string run_section(const json::object& run, size_t index, const std::string& heading) {
  std::string out = fmt::format("<section class=\"run\" id=\"run-{}\">\n", index);
  if (!heading.empty()) out += heading;
  out += meta_section(run);
  out += summary_section(run);
  out += latency_section(run);
  out += thresholds_section(run);
  out += charts_section(index);
  out += streams_section(run);
  out += endpoints_section(run);
  out += traffic_stats_section(run);
  out += errors_section(run);
  return out + "</section>\n";
}

std::string phase_heading(const json::object& run, size_t index) {
  const auto& phase = object_at(run, "phase");
  std::string title = string_at(phase, "title");
  std::string out = fmt::format("<h2>Phase {}{}</h2>\n", index + 1, title.empty() ? "" : ": " + esc(title));
  if (auto traffic = string_at(phase, "traffic"); !traffic.empty())
    out += "<p class=\"traffic\">" + esc(traffic) + "</p>\n";
  if (auto narration = string_at(phase, "narration"); !narration.empty())
    out += "<blockquote>" + esc(narration) + "</blockquote>\n";
  return out;
}

std::string phases_overview(const json::array& phases) {
  Table t;
  t.head = {"Phase", "Traffic", "Duration", "Requests", "Achieved req/s", "Error ratio",
            "p95 ms", "Thresholds"};
  t.text_columns = 2;
  for (size_t i = 0; i < phases.size(); ++i) {
    const auto& run = phases[i].as_object();
    const auto& phase = object_at(run, "phase");
    const auto& th = object_at(run, "thresholds");
    std::string title = string_at(phase, "title");
    t.rows.push_back({fmt::format("<a href=\"#run-{}\">{}</a>", i,
                                  esc(title.empty() ? fmt::format("Phase {}", i + 1) : title)),
                      esc(string_at(phase, "traffic")), seconds_text(number_at(run, "duration_s")),
                      count_text(number_at(run, "requests")),
                      rate_text(number_at(run, "achieved_rps")),
                      percent_text(number_at(run, "error_ratio")), corrected(run, "p95_us"),
                      th.empty() ? std::string(kDash) : badge(bool_at(th, "passed"))});
  }
  return "<h2>Phases</h2>\n" + render(t);
}

// ---- assembly ----------------------------------------------------------------------------------

std::string_view required_asset(std::string_view path) {
  auto a = asset(path);
  if (!a) throw std::logic_error(fmt::format("embedded asset '{}' is missing from the build", path));
  return *a;
}

// uPlot's minified file starts with a banner comment holding its repository's URL; the page
// keeps the attribution as plain text instead.
std::string uplot_js() {
  std::string_view js = required_asset("vendor/uplot.js");
  if (js.starts_with("/*")) {
    size_t end = js.find("*/");
    if (end != std::string_view::npos) js.remove_prefix(end + 2);
  }
  return "/* uPlot 1.6.32, MIT licence, Leon Sorokin */" + std::string(js);
}

// JSON text for a <script type="application/json">: '<', '>' and '&' as \u escapes (no
// "</script>" or "<!--" in the data can end or bend the element) and '/' as "\/" (no URL text).
// Both are valid only inside JSON strings — the only place these characters can occur in
// serialized JSON — and JSON.parse reads them back unchanged.
std::string escape_for_script(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      case '/': out += "\\/"; break;
      default: out += c;
    }
  }
  return out;
}

// ---- the charts' data: columnar, rounded, bounded ----------------------------------------------

// The page embeds the report with every `timeseries` (an array of {t_s, rps, error_ratio, p50_us,
// p95_us, p99_us} objects, up to 1 200 per series) as columns of rounded numbers — t_s to the
// millisecond, rps to 0.01, error_ratio to 1e-5, latencies in whole µs — about a third of the
// bytes, so a report of many streams or phases stays far under 1 MiB. When the whole is still over
// kDataBudget, every series is halved (adjacent points merged: mean rate and ratio, max of the
// percentiles, as the engine halves) until it fits; `page_downsampled` then says how often.
constexpr size_t kDataBudget = 640 * 1024;

double rounded(double v, double unit) { return std::round(v / unit) * unit; }

json::value rounded_number(const json::value& v, double unit) {
  if (!v.is_number()) return nullptr;
  double r = rounded(v.to_number<double>(), unit);
  if (unit >= 1 && std::abs(r) < 9e15) return json::value(static_cast<int64_t>(r));
  return json::value(r);
}

const char* const kSeriesFields[] = {"t_s", "rps", "error_ratio", "p50_us", "p95_us", "p99_us"};
double unit_of(std::string_view field) {
  if (field == "t_s") return 0.001;
  if (field == "rps") return 0.01;
  if (field == "error_ratio") return 0.00001;
  return 1;
}

// Halves a series of point objects: pairs merged (the newer pair's time, mean rate and ratio,
// max percentiles); an odd last point kept.
json::array halved(const json::array& points) {
  json::array out;
  for (size_t i = 0; i + 1 < points.size(); i += 2) {
    if (!points[i].is_object() || !points[i + 1].is_object()) continue;
    const auto& a = points[i].as_object();
    const auto& b = points[i + 1].as_object();
    auto n = [](const json::object& o, const char* k) {
      auto it = o.find(k);
      return it != o.end() && it->value().is_number() ? it->value().to_number<double>() : 0.0;
    };
    json::object m = b;
    m["rps"] = (n(a, "rps") + n(b, "rps")) / 2;
    m["error_ratio"] = (n(a, "error_ratio") + n(b, "error_ratio")) / 2;
    for (const char* k : {"p50_us", "p95_us", "p99_us"}) m[k] = std::max(n(a, k), n(b, k));
    out.push_back(std::move(m));
  }
  if (points.size() % 2) out.push_back(points.back());
  return out;
}

json::object columns_of(const json::array& points) {
  json::object cols;
  for (const char* f : kSeriesFields) {
    json::array col;
    col.reserve(points.size());
    for (const auto& p : points) {
      const json::value* v = p.is_object() ? p.as_object().if_contains(f) : nullptr;
      col.push_back(v ? rounded_number(*v, unit_of(f)) : json::value(nullptr));
    }
    cols[f] = std::move(col);
  }
  return cols;
}

// Every "timeseries" array under v, halved `halvings` times and then made columnar.
void compact_series(json::value& v, int halvings) {
  if (v.is_array()) {
    for (auto& x : v.as_array()) compact_series(x, halvings);
    return;
  }
  if (!v.is_object()) return;
  for (auto& kv : v.as_object()) {
    if (kv.key() == "timeseries" && kv.value().is_array()) {
      json::array points = kv.value().as_array();
      for (int i = 0; i < halvings && points.size() > 2; ++i) points = halved(points);
      kv.value() = columns_of(points);
    } else {
      compact_series(kv.value(), halvings);
    }
  }
}

std::string page_data(const json::value& report) {
  std::string text;
  for (int halvings = 0; halvings < 12; ++halvings) {
    json::value copy = report;
    compact_series(copy, halvings);
    if (halvings > 0 && copy.is_object()) copy.as_object()["page_downsampled"] = halvings;
    text = json::serialize(copy);
    if (text.size() <= kDataBudget) break;
  }
  return escape_for_script(text);
}


// Fills {{name}} placeholders of the template in one pass (values are never rescanned).
std::string fill(std::string_view tpl, const std::map<std::string, std::string, std::less<>>& values) {
  std::string out;
  out.reserve(tpl.size() + 64 * 1024);
  size_t pos = 0;
  while (true) {
    size_t open = tpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = tpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(tpl.substr(pos, open - pos));
    auto it = values.find(tpl.substr(open + 2, close - open - 2));
    if (it == values.end())
      throw std::logic_error(fmt::format("report template: unknown placeholder '{}'",
                                         tpl.substr(open, close + 2 - open)));
    out += it->second;
    pos = close + 2;
  }
  out.append(tpl.substr(pos));
  return out;
}

}  // namespace

std::string render_html_report(const json::value& report) {
  if (!report.is_object())
    not_a_report(fmt::format("expected an object, got {}", kind_of(report)));
  const auto& top = report.as_object();
  std::string title, header, body;
  if (auto it = top.find("phases"); it != top.end()) {
    if (!it->value().is_array()) not_a_report("'phases' must be an array of run reports");
    const auto& phases = it->value().as_array();
    if (phases.empty()) not_a_report("'phases' is empty");
    for (size_t i = 0; i < phases.size(); ++i) check_run(phases[i], fmt::format("phases[{}]", i));
    const auto& script = object_at(top, "script");
    std::string name = string_at(script, "name");
    title = "trafficsim demo script" + (name.empty() ? "" : ": " + name);
    header = fmt::format("<p>{} phase{}{}{}</p>\n", phases.size(), phases.size() == 1 ? "" : "s",
                         script.contains("time_scale")
                             ? fmt::format(", time scale {}", esc(string_at(script, "time_scale")))
                             : "",
                         bool_at(top, "stopped_early") ? " — <strong class=\"bad\">stopped early</strong>" : "");
    body = phases_overview(phases);
    for (size_t i = 0; i < phases.size(); ++i)
      body += run_section(phases[i].as_object(), i, phase_heading(phases[i].as_object(), i));
  } else {
    check_run(report, "");
    const auto& scenario = object_at(top, "scenario");
    std::string name = string_at(scenario, "name");
    title = "trafficsim report" + (name.empty() ? "" : ": " + name);
    std::string started = string_at(object_at(top, "meta"), "started_at");
    header = started.empty() ? "" : "<p>" + esc(started) + "</p>\n";
    body = run_section(top, 0, "");
  }
  std::map<std::string, std::string, std::less<>> values = {
      {"title", esc(title)},
      {"header", header},
      {"body", body},
      {"version", esc(TRAFFICSIM_VERSION)},
      {"data", page_data(report)},
      {"uplot_css", std::string(required_asset("vendor/uplot.css"))},
      {"report_css", std::string(required_asset("report/report.css"))},
      {"uplot_js", uplot_js()},
      {"report_js", std::string(required_asset("report/report.js"))},
  };
  return fill(required_asset("report/report.html"), values);
}

}  // namespace trafficsim::control
