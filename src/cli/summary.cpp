#include "cli/summary.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/arguments.hpp"
#include "load/report.hpp"
#include <boost/json.hpp>

namespace trafficsim::cli {

namespace json = boost::json;

double report_number(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_number() ? it->value().to_number<double>() : 0;
}

uint64_t report_count(const json::object& o, std::string_view k) {
  return static_cast<uint64_t>(std::max(0.0, report_number(o, k)));
}

std::string statuses_text(const json::object& stats, const Style& st) {
  std::string s;
  auto it = stats.find("responses");
  if (it == stats.end() || !it->value().is_object()) return s;
  for (const auto& [code, n] : it->value().as_object()) {
    if (!s.empty()) s += ", ";
    std::string item =
        fmt::format("{} x{}", std::string(code), format_count(n.to_number<uint64_t>()));
    int c = std::atoi(std::string(code).c_str());
    s += c >= 500 ? st.red(item) : c >= 400 ? st.yellow(item) : st.green(item);
  }
  return s;
}

namespace {

double num(const json::object& o, std::string_view k) {
  return report_number(o, k);
}

uint64_t count(const json::object& o, std::string_view k) {
  return report_count(o, k);
}

void latency_table(std::FILE* out, const json::object& stats, const Style& st, bool open_model,
                   const std::string& indent) {
  const auto& lat = stats.at("latency").as_object();
  fmt::print(out, "{}{}\n", indent,
             st.bold(fmt::format("{:<15}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}", "latency", "min",
                                 "mean", "p50", "p90", "p95", "p99", "p99.9", "max")));
  std::vector<std::pair<const char*, const char*>> rows = {{"corrected", "corrected"},
                                                           {"service", "service"}};
  if (open_model) rows.push_back({"send_lateness", "send lateness"});
  for (auto [key, label] : rows) {
    const auto& h = lat.at(key).as_object();
    if (count(h, "count") == 0) {
      fmt::print(out, "{}{:<15}{:>9}\n", indent, label, "-");
      continue;
    }
    auto f = [&](const char* k) { return format_us(static_cast<int64_t>(num(h, k))); };
    fmt::print(out, "{}{:<15}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}\n", indent, label,
               f("min_us"), f("mean_us"), f("p50_us"), f("p90_us"), f("p95_us"), f("p99_us"),
               f("p999_us"), f("max_us"));
  }
}

std::string statuses(const json::object& stats, const Style& st) {
  std::string s = statuses_text(stats, st);
  return s.empty() ? std::string("none") : s;
}

}  // namespace

void print_summary(std::FILE* out, const json::object& r, const Style& st) {
  const auto& meta = r.at("meta").as_object();
  bool open_model = meta.contains("model") && meta.at("model").as_string() == "open";
  double duration = num(r, "duration_s");
  fmt::print(out, "\n");
  latency_table(out, r, st, open_model, "  ");
  uint64_t requests = count(r, "requests");
  fmt::print(out, "\n  {} requests in {}, {} read, {} written\n", format_count(requests),
             format_seconds(duration), format_bytes(count(r, "bytes_in")),
             format_bytes(count(r, "bytes_out")));
  fmt::print(out, "  {} {} req/s achieved\n", st.bold("Rate:"),
             format_rate(num(r, "achieved_rps")));
  fmt::print(out, "  {} {}\n", st.bold("Responses:"), statuses(r, st));
  const auto& e = r.at("errors").as_object();
  uint64_t connect = count(e, "connect"), timeout = count(e, "timeout"), other = count(e, "other"),
           status = count(e, "status"), dropped = count(r, "dropped");
  uint64_t cut = count(e, "closed_mid_response");
  std::string errs = fmt::format(
      "connect {}, timeout {}, closed mid-response {}, other {}, unexpected status {}",
      format_count(connect), format_count(timeout), format_count(cut), format_count(other),
      format_count(status));
  bool any = connect + timeout + cut + other + status > 0;
  fmt::print(out, "  {} {} ({:.2f}% of completed)\n", st.bold("Errors:"), any ? st.red(errs) : errs,
             num(r, "error_ratio") * 100);
  if (open_model)
    fmt::print(out, "  {} {}\n", st.bold("Dropped:"),
               dropped ? st.red(format_count(dropped)) : std::string("0"));
  if (auto it = r.find("error_samples");
      it != r.end() && it->value().is_array() && !it->value().as_array().empty()) {
    fmt::print(out, "  {}\n", st.bold("First errors seen:"));
    for (const auto& m : it->value().as_array())
      fmt::print(out, "    - {}\n", std::string(m.as_string()));
  }
  const auto& streams = r.at("streams").as_array();
  if (streams.size() > 1) {
    fmt::print(out, "\n  {}\n",
               st.bold(fmt::format("{:<24}{:>12}{:>12}{:>10}{:>10}{:>10}", "stream", "requests",
                                   "req/s", "errors", "p95", "p99")));
    for (const auto& sv : streams) {
      const auto& s = sv.as_object();
      const auto& c = s.at("latency").as_object().at("corrected").as_object();
      fmt::print(out, "  {:<24}{:>12}{:>12}{:>9.2f}%{:>10}{:>10}\n",
                 std::string(s.at("name").as_string()), format_count(count(s, "requests")),
                 format_rate(num(s, "achieved_rps")), num(s, "error_ratio") * 100,
                 format_us(static_cast<int64_t>(num(c, "p95_us"))),
                 format_us(static_cast<int64_t>(num(c, "p99_us"))));
    }
  }
  if (meta.contains("notes"))
    for (const auto& n : meta.at("notes").as_array())
      fmt::print(out, "  {} {}\n", st.yellow("note:"), std::string(n.as_string()));
  if (auto it = r.find("saturation"); it != r.end()) {
    const auto& s = it->value().as_object();
    if (s.at("saturated").as_bool()) {
      std::string reason;
      if (s.at("reason").is_string()) {
        reason = std::string(s.at("reason").as_string());
      } else {
        for (const auto& x : s.at("reason").as_array()) reason += std::string(x.as_string()) + "; ";
      }
      fmt::print(out, "  {} {}\n", st.yellow("GENERATOR SATURATED:"), reason);
    }
  }
  if (meta.contains("stopped_early") && meta.at("stopped_early").as_bool())
    fmt::print(out, "  {}\n", st.yellow("stopped early: figures cover the time until the stop"));
  fmt::print(out, "\n");
}

bool write_report_or_print(const char* command, const std::string& path,
                           const json::object& report) {
  std::string first_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      load::write_json_atomic(path, report);
      return true;
    } catch (const std::exception& e) {
      if (attempt == 0) first_error = e.what();
    }
  }
  fmt::print(stderr, "{}: {}; the report follows on stdout instead\n", command, first_error);
  std::fflush(stderr);
  fmt::print("{}\n", json::serialize(report));
  std::fflush(stdout);
  return false;
}

int present_report(const json::object& report, const std::string& json_path, const Style& style,
                   const char* command) {
  print_summary(stdout, report, style);
  if (json_path.empty()) return kExitOk;
  if (!write_report_or_print(command, json_path, report)) return kExitRunFailed;
  fmt::print("Report written to {}\n", json_path);
  return kExitOk;
}

}  // namespace trafficsim::cli
