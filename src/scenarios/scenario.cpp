#include "scenarios/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/duration.hpp"
#include "http/url.hpp"
#include "scenarios/builtin.hpp"
#include "scenarios/body_counters.hpp"

namespace trafficsim::scenarios {

namespace fs = std::filesystem;

namespace {

// The whole file into *text; false when it cannot be opened (errno says why).
bool read_text(const fs::path& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  return true;
}

}  // namespace

Source read_source(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw ScenarioError(fmt::format("{}: is a directory", path));
  Source src{path, "", false};
  if (!read_text(path, &src.text))
    throw ScenarioError(fmt::format("{}: cannot read the file ({})", path, std::strerror(errno)));
  return src;
}

namespace {

// Reading one file: the source (for messages), the options and what was used.
class Reader {
 public:
  Reader(const Source& source, const LoadOptions& options, Scenario& out)
      : source_(source), options_(options), out_(out) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& field,
                         const std::string& what) const {
    std::string where = source_.path;
    if (node.IsDefined() && node.Mark().line >= 0)
      where += fmt::format(":{}", node.Mark().line + 1);
    throw ScenarioError(field.empty() ? fmt::format("{}: {}", where, what)
                                      : fmt::format("{}: {}: {}", where, field, what));
  }

  // Checks a mapping's keys against the allowed ones (a typo is an error, not a silent default).
  void check_keys(const YAML::Node& map, const std::string& field,
                  std::initializer_list<const char*> allowed) const {
    if (!map.IsMap()) fail(map, field, "expected a mapping (key: value lines)");
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      bool ok = false;
      for (const char* a : allowed) ok = ok || key == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(kv.first, field.empty() ? key : field + "." + key,
             fmt::format("unknown key (expected one of: {})", list));
      }
    }
  }

  // ${name} / ${name:-default}; $${ is a literal ${.
  std::string interpolate(const std::string& text, const YAML::Node& node,
                          const std::string& field) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      if (text.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        out += text[i++];
        continue;
      }
      // The matching '}' (defaults may hold variables: ${a:-${B:-1}}).
      size_t close = std::string::npos;
      for (size_t j = i + 2, depth = 1; j < text.size(); ++j) {
        if (text.compare(j, 2, "${") == 0) {
          ++depth;
          ++j;
        } else if (text[j] == '}' && --depth == 0) {
          close = j;
          break;
        }
      }
      if (close == std::string::npos)
        fail(node, field, fmt::format("unclosed '${{' in '{}'", text));
      std::string inner = text.substr(i + 2, close - i - 2);
      std::string name = inner, def;
      bool has_default = false;
      if (auto p = inner.find(":-"); p != std::string::npos) {
        name = inner.substr(0, p);
        def = inner.substr(p + 2);
        has_default = true;
      }
      if (name.empty() || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                                                 "vwxyz0123456789_") != std::string::npos)
        fail(node, field, fmt::format("bad variable name '{}' in '{}'", name, text));
      out_.used_params.insert(name);
      if (auto it = options_.params.find(name); it != options_.params.end()) {
        out += it->second;
      } else if (const char* env = getenv(name.c_str()); env && *env) {
        out += env;
      } else if (has_default) {
        out += interpolate(def, node, field);
      } else {
        fail(node, field,
             fmt::format("variable '{}' is not set (set it with --set {}=VALUE or in the "
                         "environment, or give a default: ${{{}:-VALUE}})",
                         name, name, name));
      }
      i = close + 1;
    }
    return out;
  }

  const char* getenv(const char* name) const {
    return options_.getenv ? options_.getenv(name) : std::getenv(name);
  }

  std::string str(const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar()) fail(node, field, "expected a single value");
    return interpolate(node.Scalar(), node, field);
  }

  double number(const YAML::Node& node, const std::string& field, double min, double max) {
    std::string s = str(node, field);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v))
      fail(node, field, fmt::format("expected a number, got '{}'", s));
    if (v < min || v > max)
      fail(node, field, fmt::format("{} is out of range [{:g}, {:g}]", s, min, max));
    return v;
  }

  bool boolean(const YAML::Node& node, const std::string& field) {
    std::string s = str(node, field);
    std::string l = s;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
    if (l == "false" || l == "no" || l == "off" || l == "0" || l.empty()) return false;
    fail(node, field, fmt::format("expected true or false, got '{}'", s));
  }

  std::chrono::nanoseconds duration(const YAML::Node& node, const std::string& field) {
    std::string s = str(node, field);
    auto d = core::parse_duration(s);
    if (!d || d->count() <= 0)
      fail(node, field,
           fmt::format("expected a positive duration such as 500ms, 30s or 5m, got '{}'", s));
    if (auto why = core::duration_limit_error(*d); !why.empty())
      fail(node, field, fmt::format("'{}' {}", s, why));
    return *d;
  }

  double rate(const YAML::Node& node, const std::string& field, bool allow_zero) {
    std::string s = str(node, field);
    auto r = core::parse_rate_rps(s);
    if (!r || !std::isfinite(*r) || *r < 0 || (!allow_zero && *r == 0))
      fail(node, field,
           fmt::format("expected a rate such as 10, 2.5k, 10/s or 600rpm{}, got '{}'",
                       allow_zero ? " (0 allowed)" : "", s));
    if (auto why = core::rate_limit_error(*r, allow_zero); !why.empty())
      fail(node, field, fmt::format("'{}' {}", s, why));
    return *r;
  }

  // ---- samples --------------------------------------------------------------------------
  // Inline sets (in the scenario) are interpolated like every other value; sets read from a
  // samples file are data and taken as written.
  std::shared_ptr<core::SampleSet> sample_set(const std::string& name, const YAML::Node& list,
                                              const std::string& origin, bool interpolated) {
    auto set = std::make_shared<core::SampleSet>();
    set->name = name;
    if (!list.IsSequence() || list.size() == 0)
      fail(list, origin, "expected a non-empty list of samples (strings, or records of fields)");
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& item = list[i];
      std::string where = fmt::format("{}[{}]", origin, i);
      if (item.IsScalar()) {
        if (i == 0) set->fields = {""};
        if (set->fields != std::vector<std::string>{""})
          fail(item, where, "mixes plain strings and records");
        set->records.push_back({interpolated ? str(item, where) : item.Scalar()});
      } else if (item.IsMap()) {
        std::vector<std::string> fields, values;
        for (const auto& kv : item) {
          fields.push_back(kv.first.as<std::string>());
          if (!kv.second.IsScalar()) fail(kv.second, where, "field values must be text");
          values.push_back(interpolated ? str(kv.second, where) : kv.second.Scalar());
        }
        if (i == 0) set->fields = fields;
        if (fields != set->fields)
          fail(item, where,
               fmt::format("has fields different from the first record's ({})",
                           fmt::join(set->fields, ", ")));
        set->records.push_back(std::move(values));
      } else {
        fail(item, where, "expected a string or a record of fields");
      }
    }
    return set;
  }

  // A samples file: YAML/JSON list; any other extension: one sample per non-empty line.
  std::shared_ptr<core::SampleSet> sample_file(const std::string& name, const std::string& path,
                                               const YAML::Node& at, const std::string& field,
                                               bool relative) {
    std::string text, shown = path;
    bool found = false;
    if (relative && !fs::path(path).is_absolute()) {
      // Next to the scenario file first; then the built-in file of that name, so that a copy of
      // a built-in scenario works anywhere.
      if (!source_.builtin) {
        fs::path p = fs::path(source_.path).parent_path() / path;
        found = read_text(p, &text);
        if (found) shown = p.string();
      }
      if (!found) {
        if (auto f = embedded_file(path)) {
          text = std::string(*f);
          found = true;
          shown = "scenarios/" + path + " (built in)";
        }
      }
    } else {
      found = read_text(path, &text);
    }
    if (!found) fail(at, field, fmt::format("cannot read samples file '{}'", path));
    auto ext = fs::path(path).extension().string();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json") {
      YAML::Node doc;
      try {
        doc = YAML::Load(text);
      } catch (const YAML::Exception& e) {
        throw ScenarioError(fmt::format("{}:{}: {}", shown, e.mark.line + 1, e.msg));
      }
      Source inner{shown, text, false};
      Reader r(inner, options_, out_);
      return r.sample_set(name, doc, "samples", false);
    }
    auto set = std::make_shared<core::SampleSet>();
    set->name = name;
    set->fields = {""};
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) set->records.push_back({line});
    }
    if (set->records.empty()) fail(at, field, fmt::format("samples file '{}' is empty", shown));
    return set;
  }

  void samples(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) fail(node, "samples", "expected a mapping of set name to file or list");
    for (const auto& kv : node) {
      std::string name = kv.first.as<std::string>();
      std::string field = "samples." + name;
      if (name == "emails" && !options_.samples_override.empty()) {
        sets_.push_back(sample_file(name, options_.samples_override, kv.second, "--samples",
                                    false));
        override_used_ = true;
      } else if (kv.second.IsScalar()) {
        sets_.push_back(sample_file(name, str(kv.second, field), kv.second, field, true));
      } else {
        sets_.push_back(sample_set(name, kv.second, field, true));
      }
    }
  }

  core::TextTemplate compile(const YAML::Node& node, const std::string& field) {
    std::string text = str(node, field);
    try {
      return core::TextTemplate::compile(text, sets_);
    } catch (const core::TemplateError& e) {
      fail(node, field, e.what());
    }
  }

  // ---- rates ----------------------------------------------------------------------------
  // [[time, rate], ...]: time is a duration, or a demo minute when first_is_minute.
  std::vector<std::pair<double, double>> pairs(const YAML::Node& node, const std::string& field,
                                               bool first_is_minute) {
    if (!node.IsSequence() || node.size() == 0)
      fail(node, field, "expected a list of [time, rate] pairs");
    std::vector<std::pair<double, double>> out;
    for (size_t i = 0; i < node.size(); ++i) {
      const auto& p = node[i];
      std::string f = fmt::format("{}[{}]", field, i);
      if (!p.IsSequence() || p.size() != 2) fail(p, f, "expected a pair [time, rate]");
      double a = first_is_minute ? number(p[0], f, 0, 1e6)
                                 : static_cast<double>(duration_or_zero(p[0], f).count()) / 1e9;
      out.emplace_back(a, rate(p[1], f, true));
    }
    return out;
  }

  std::chrono::nanoseconds duration_or_zero(const YAML::Node& node, const std::string& field) {
    std::string s = str(node, field);
    if (s == "0") return std::chrono::nanoseconds(0);
    auto d = core::parse_duration(s);
    if (!d) fail(node, field, fmt::format("expected a duration such as 0s, 30s or 5m, got '{}'", s));
    if (auto why = core::duration_limit_error(*d, true); !why.empty())
      fail(node, field, fmt::format("'{}' {}", s, why));
    return *d;
  }

  RateSpec rate_spec(const YAML::Node& node, const std::string& field) {
    RateSpec r;
    if (node.IsScalar()) {
      r.rps = rate(node, field, true);
      return r;
    }
    check_keys(node, field,
               {"constant", "ramp", "peak", "steps", "table", "demo_minutes", "blackfriday"});
    if (node.size() != 1) fail(node, field, "give exactly one rate shape");
    auto kv = *node.begin();
    std::string kind = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    std::string f = field + "." + kind;
    if (kind == "constant") {
      r.rps = rate(v, f, true);
    } else if (kind == "peak") {
      r.kind = RateSpec::Kind::peak;
      r.rps = rate(v, f, false);
    } else if (kind == "ramp") {
      r.kind = RateSpec::Kind::ramp;
      check_keys(v, f, {"from", "to"});
      r.from_rps = v["from"] ? rate(v["from"], f + ".from", true) : 0;
      if (!v["to"]) fail(v, f, "needs 'to'");
      r.to_rps = rate(v["to"], f + ".to", true);
    } else if (kind == "steps") {
      r.kind = RateSpec::Kind::steps;
      r.points = pairs(v, f, false);
      for (auto& [len, rps] : r.points)
        if (len <= 0) fail(v, f, "every step needs a positive length");
    } else if (kind == "table") {
      r.kind = RateSpec::Kind::table;
      r.points = pairs(v, f, false);
      if (r.points.front().first != 0) fail(v, f, "the first point must be at 0s");
      for (size_t i = 1; i < r.points.size(); ++i)
        if (r.points[i].first < r.points[i - 1].first) fail(v, f, "times must not decrease");
    } else if (kind == "demo_minutes" || kind == "blackfriday") {
      if (!out_.demo_clock)
        fail(node, f, "needs 'demo_clock: true' at the top of the file (rates by demo minute)");
      r.kind = RateSpec::Kind::demo_minutes;
      if (kind == "demo_minutes") {
        r.points = pairs(v, f, true);
        for (size_t i = 1; i < r.points.size(); ++i)
          if (r.points[i].first < r.points[i - 1].first)
            fail(v, f, "demo minutes must not decrease");
      } else {
        check_keys(v, f, {"base_rpm", "peak_rpm"});
        double base = v["base_rpm"] ? number(v["base_rpm"], f + ".base_rpm", 0, 6e8) : 800;
        double peak = v["peak_rpm"] ? number(v["peak_rpm"], f + ".peak_rpm", 0, 6e8) : 4200;
        if (peak < base) fail(v, f, fmt::format("peak_rpm {:g} is below base_rpm {:g}", peak, base));
        r.points = blackfriday_rpm_table(base, peak);
        for (auto& p : r.points) p.second /= 60.0;
      }
    }
    return r;
  }

  // ---- statuses -------------------------------------------------------------------------
  std::vector<int> statuses(const YAML::Node& node, const std::string& field) {
    std::vector<std::string> items;
    if (node.IsSequence()) {
      for (const auto& n : node) items.push_back(str(n, field));
    } else {
      std::string s = str(node, field);
      std::stringstream ss(s);
      std::string item;
      while (std::getline(ss, item, ',')) items.push_back(item);
    }
    std::vector<int> out;
    for (auto item : items) {
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      int lo = 0, hi = 0;
      auto bad = [&] {
        fail(node, field,
             fmt::format("'{}' is not a status, a range or a class (e.g. 200, 200-499, 2xx)",
                         item));
      };
      if (item.size() == 3 && item[1] == 'x' && item[2] == 'x' && item[0] >= '1' &&
          item[0] <= '5') {
        lo = (item[0] - '0') * 100;
        hi = lo + 99;
      } else {
        auto whole = [&](const std::string& t) {
          if (t.empty() || t.size() > 3 || t.find_first_not_of("0123456789") != std::string::npos)
            bad();
          return std::atoi(t.c_str());
        };
        if (auto dash = item.find('-'); dash != std::string::npos) {
          lo = whole(item.substr(0, dash));
          hi = whole(item.substr(dash + 1));
        } else {
          lo = hi = whole(item);
        }
      }
      if (lo < 100 || hi > 599 || lo > hi) bad();
      for (int s = lo; s <= hi; ++s) out.push_back(s);
    }
    if (out.empty()) fail(node, field, "expected at least one status");
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // ---- requests -------------------------------------------------------------------------
  struct StreamDefaults {
    std::vector<std::pair<std::string, YAML::Node>> headers;
    std::string tag;
    std::optional<std::vector<int>> expect;
  };

  static bool valid_header_name(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name)
      if (c <= ' ' || c >= 127 || std::strchr("()<>@,;:\\\"/[]?={}", c)) return false;
    return true;
  }

  load::RequestTemplate request(const YAML::Node& node, const std::string& field,
                                const StreamDefaults& d, uint32_t group, std::string* endpoint) {
    check_keys(node, field,
               {"name", "method", "path", "headers", "body", "weight", "expect",
                "expect_failure", "endpoint"});
    load::RequestTemplate t;
    t.group = group;
    t.method = node["method"] ? str(node["method"], field + ".method") : "GET";
    for (char& c : t.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (t.method.empty() || t.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
                                std::string::npos)
      fail(node["method"], field + ".method", fmt::format("'{}' is not a method", t.method));
    if (!node["path"]) fail(node, field, "needs 'path' (e.g. /api/v1/users)");
    auto path = compile(node["path"], field + ".path");
    if (path.source().empty() || path.source()[0] != '/')
      fail(node["path"], field + ".path", "must start with '/'");
    // Headers: the stream's, then the request's (same name replaces), then X-Traffic-Type.
    std::vector<std::pair<std::string, YAML::Node>> headers = d.headers;
    if (node["headers"]) {
      if (!node["headers"].IsMap())
        fail(node["headers"], field + ".headers", "expected a mapping of name: value");
      for (const auto& kv : node["headers"]) {
        std::string name = kv.first.as<std::string>();
        auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& h) {
          return strcasecmp(h.first.c_str(), name.c_str()) == 0;
        });
        if (it != headers.end())
          it->second = kv.second;
        else
          headers.emplace_back(name, kv.second);
      }
    }
    auto dyn = std::make_shared<load::DynamicRequest>();
    bool is_dynamic = !path.is_static();
    t.target = path.source();
    dyn->target = std::move(path);
    bool has_tag = false;
    for (const auto& [name, value] : headers) {
      std::string f = field + ".headers." + name;
      if (!valid_header_name(name)) fail(value, f, "is not a valid header name");
      auto v = compile(value, f);
      if (v.source().find_first_of("\r\n") != std::string::npos)
        fail(value, f, "header values cannot contain line breaks");
      if (strcasecmp(name.c_str(), "x-traffic-type") == 0) has_tag = true;
      is_dynamic = is_dynamic || !v.is_static();
      t.headers.emplace_back(name, v.source());
      dyn->headers.emplace_back(name, std::move(v));
    }
    if (!has_tag && !d.tag.empty()) {
      t.headers.emplace_back("X-Traffic-Type", d.tag);
      dyn->headers.emplace_back("X-Traffic-Type", core::TextTemplate::compile(d.tag));
    }
    if (node["body"]) {
      auto b = compile(node["body"], field + ".body");
      is_dynamic = is_dynamic || !b.is_static();
      t.body = b.source();
      dyn->body = std::move(b);
    }
    if (is_dynamic) t.dynamic = std::move(dyn);
    else {
      // Static: the source text is what is sent ({{"..."}} literals folded in).
      t.target = dyn->target.static_text();
      for (size_t i = 0; i < t.headers.size(); ++i) t.headers[i].second = dyn->headers[i].second.static_text();
      t.body = dyn->body.static_text();
    }
    t.weight = node["weight"] ? number(node["weight"], field + ".weight", 0, 1e9) : 1.0;
    // expect_failure: statuses this request is meant to draw (error injection): they count as
    // expected failures; its successes are then only the statuses in `expect` (default none).
    if (node["expect_failure"]) {
      t.injected = true;
      t.expected_statuses = statuses(node["expect_failure"], field + ".expect_failure");
      if (node["expect"]) t.success_statuses = statuses(node["expect"], field + ".expect");
      for (int st : t.success_statuses)
        if (std::find(t.expected_statuses.begin(), t.expected_statuses.end(), st) !=
            t.expected_statuses.end())
          fail(node["expect"], field + ".expect",
               fmt::format("status {} is also in expect_failure", st));
    } else if (node["expect"]) {
      t.expected_statuses = statuses(node["expect"], field + ".expect");
    } else if (d.expect) {
      t.expected_statuses = *d.expect;
    }
    t.name = node["name"] ? str(node["name"], field + ".name") : t.method + " " + t.target;
    if (t.name.empty()) fail(node["name"], field + ".name", "must not be empty");
    if (node["endpoint"]) *endpoint = str(node["endpoint"], field + ".endpoint");
    return t;
  }

  // ---- streams --------------------------------------------------------------------------
  void thresholds(const YAML::Node& node, const std::string& field, std::vector<Threshold>& out) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsSequence()) fail(node, field, "expected a list of conditions such as 'p95 < 500ms'");
    for (size_t i = 0; i < node.size(); ++i) {
      std::string f = fmt::format("{}[{}]", field, i);
      try {
        out.push_back(parse_threshold(str(node[i], f)));
      } catch (const std::invalid_argument& e) {
        fail(node[i], f, e.what());
      }
    }
  }

  std::optional<StreamSpec> stream(const YAML::Node& node, const std::string& field) {
    check_keys(node, field,
               {"name", "enabled", "tag", "url", "rate", "arrivals", "gap_jitter", "timeout",
                "connections", "hard_cap", "headers", "expect", "rotate", "endpoints",
                "requests", "count", "thresholds"});
    if (node["enabled"] && !boolean(node["enabled"], field + ".enabled")) return std::nullopt;
    StreamSpec s;
    if (!node["name"]) fail(node, field, "needs a 'name' (it tags the traffic and the report)");
    s.name = str(node["name"], field + ".name");
    if (s.name.empty()) fail(node["name"], field + ".name", "must not be empty");
    std::string f = field + "(" + s.name + ")";
    if (node["url"]) s.url = str(node["url"], f + ".url");
    if (!node["rate"]) fail(node, f, "needs a 'rate' (e.g. 10, 600rpm, or {peak: 20})");
    s.rate = rate_spec(node["rate"], f + ".rate");
    if (node["arrivals"]) {
      std::string a = str(node["arrivals"], f + ".arrivals");
      if (a == "poisson") s.poisson = true;
      else if (a != "uniform")
        fail(node["arrivals"], f + ".arrivals", fmt::format("expected uniform or poisson, got '{}'", a));
    }
    if (node["gap_jitter"]) {
      const auto& g = node["gap_jitter"];
      if (!g.IsSequence() || g.size() != 2)
        fail(g, f + ".gap_jitter", "expected [min, max], e.g. [100ms, 500ms]");
      double a = static_cast<double>(duration_or_zero(g[0], f + ".gap_jitter").count()) / 1e9;
      double b = static_cast<double>(duration_or_zero(g[1], f + ".gap_jitter").count()) / 1e9;
      if (a > b) fail(g, f + ".gap_jitter", "min is above max");
      s.gap_jitter_s = std::make_pair(a, b);
    }
    if (node["timeout"]) s.timeout = duration(node["timeout"], f + ".timeout");
    if (node["connections"])
      s.connections = static_cast<int>(number(node["connections"], f + ".connections", 1, 100000));
    if (node["hard_cap"]) {
      const auto& h = node["hard_cap"];
      if (h.IsMap()) {
        check_keys(h, f + ".hard_cap", {"capacity", "refill"});
        double refill = h["refill"] ? rate(h["refill"], f + ".hard_cap.refill", false) : 0;
        if (!h["refill"]) fail(h, f + ".hard_cap", "needs 'refill' (tokens per second)");
        double cap = h["capacity"] ? number(h["capacity"], f + ".hard_cap.capacity", 1, 1e9) : refill;
        s.hard_cap = load::HardCap{cap, refill};
      } else {
        double r = rate(h, f + ".hard_cap", false);
        s.hard_cap = load::HardCap{r, r};
      }
    }
    StreamDefaults d;
    d.tag = node["tag"] ? str(node["tag"], f + ".tag") : s.name;
    if (node["headers"]) {
      if (!node["headers"].IsMap())
        fail(node["headers"], f + ".headers", "expected a mapping of name: value");
      for (const auto& kv : node["headers"]) d.headers.emplace_back(kv.first.as<std::string>(), kv.second);
    }
    if (node["expect"]) d.expect = statuses(node["expect"], f + ".expect");
    if (node["count"]) {
      const auto& c = node["count"];
      if (!c.IsMap())
        fail(c, f + ".count", "expected a mapping of counter name: JSON path (e.g. tokens.input)");
      for (const auto& kv : c) {
        std::string name = kv.first.as<std::string>();
        std::string path = str(kv.second, f + ".count." + name);
        if (path.empty() || path.front() == '.' || path.back() == '.')
          fail(kv.second, f + ".count." + name, fmt::format("'{}' is not a dotted path", path));
        s.counters.emplace_back(name, path);
      }
    }
    // Requests: plain requests, or groups {group, weight, rotate, requests}.
    if (!node["requests"] || !node["requests"].IsSequence() || node["requests"].size() == 0)
      fail(node, f, "needs 'requests': a non-empty list");
    std::set<std::string> filter;
    bool filter_all = true;
    if (node["endpoints"]) {
      std::string e = str(node["endpoints"], f + ".endpoints");
      if (e != "all" && !e.empty()) {
        filter_all = false;
        std::stringstream ss(e);
        std::string item;
        while (std::getline(ss, item, ',')) {
          item.erase(0, item.find_first_not_of(" "));
          item.erase(item.find_last_not_of(" ") + 1);
          if (!item.empty()) filter.insert(item);
        }
      }
    }
    bool rotate_all = node["rotate"] ? boolean(node["rotate"], f + ".rotate") : false;
    std::set<std::string> known_endpoints;
    bool any_group = false;
    for (const auto& item : node["requests"]) any_group = any_group || (item.IsMap() && item["group"]);
    auto add_request = [&](const YAML::Node& rn, const std::string& rf, uint32_t group) {
      std::string endpoint;
      auto t = request(rn, rf, d, group, &endpoint);
      if (!endpoint.empty()) known_endpoints.insert(endpoint);
      if (!filter_all && !endpoint.empty() && !filter.count(endpoint)) return;
      s.requests.push_back(std::move(t));
    };
    const auto& reqs = node["requests"];
    for (size_t i = 0; i < reqs.size(); ++i) {
      const auto& item = reqs[i];
      std::string rf = fmt::format("{}.requests[{}]", f, i);
      if (item.IsMap() && item["group"]) {
        check_keys(item, rf, {"group", "weight", "rotate", "requests"});
        load::MixGroup g;
        g.weight = item["weight"] ? number(item["weight"], rf + ".weight", 0, 1e9) : 1.0;
        g.rotate = item["rotate"] ? boolean(item["rotate"], rf + ".rotate") : false;
        uint32_t gi = static_cast<uint32_t>(s.groups.size());
        s.groups.push_back(g);
        const auto& members = item["requests"];
        if (!members || !members.IsSequence() || members.size() == 0)
          fail(item, rf, "a group needs 'requests': a non-empty list");
        for (size_t j = 0; j < members.size(); ++j)
          add_request(members[j], fmt::format("{}.requests[{}]", rf, j), gi);
      } else if (any_group) {
        // A request beside groups is a group of its own, weighted by its weight.
        uint32_t gi = static_cast<uint32_t>(s.groups.size());
        size_t before = s.requests.size();
        add_request(item, rf, gi);
        double w = s.requests.size() > before ? s.requests.back().weight : 0;
        s.groups.push_back(load::MixGroup{w, false});
      } else {
        add_request(item, rf, 0);
      }
    }
    for (const auto& e : filter)
      if (!known_endpoints.count(e))
        fail(node["endpoints"], f + ".endpoints",
             fmt::format("unknown endpoint '{}' (known: all, {})", e,
                         fmt::join(known_endpoints, ", ")));
    if (s.requests.empty()) fail(node, f, "no requests left after the endpoints filter");
    if (!any_group && rotate_all) s.groups.push_back(load::MixGroup{1.0, true});
    // Drop groups emptied by the filter (renumbering the members).
    if (!s.groups.empty()) {
      std::vector<int> remap(s.groups.size(), -1);
      std::vector<load::MixGroup> kept;
      for (uint32_t gi = 0; gi < s.groups.size(); ++gi) {
        bool used = std::any_of(s.requests.begin(), s.requests.end(),
                                [&](const auto& t) { return t.group == gi; });
        if (used) {
          remap[gi] = static_cast<int>(kept.size());
          kept.push_back(s.groups[gi]);
        }
      }
      for (auto& t : s.requests) t.group = static_cast<uint32_t>(remap[t.group]);
      s.groups = std::move(kept);
      double total = 0;
      for (const auto& g : s.groups) total += g.weight;
      if (total <= 0) fail(node, f, "every group weight is 0");
    } else {
      double total = 0;
      for (const auto& t : s.requests) total += t.weight;
      if (total <= 0) fail(node, f, "every request weight is 0");
    }
    thresholds(node["thresholds"], f + ".thresholds", s.thresholds);
    return s;
  }

  void scenario(const YAML::Node& root) {
    if (!root.IsMap()) fail(root, "", "expected a scenario: a mapping with 'streams'");
    if (root["phases"])
      fail(root["phases"], "phases", "this is a demo script: play it with 'trafficsim play'");
    check_keys(root, "",
               {"name", "description", "demo_clock", "duration", "samples", "streams",
                "thresholds"});
    out_.name = root["name"] ? str(root["name"], "name")
                             : fs::path(source_.path).stem().string();
    if (root["description"]) out_.description = str(root["description"], "description");
    out_.demo_clock = root["demo_clock"] ? boolean(root["demo_clock"], "demo_clock") : false;
    if (root["duration"]) out_.duration = duration(root["duration"], "duration");
    samples(root["samples"]);
    if (!options_.samples_override.empty() && !override_used_)
      throw ScenarioError(fmt::format(
          "--samples: scenario '{}' has no sample set named 'emails' to replace", out_.name));
    const auto& streams = root["streams"];
    if (!streams || !streams.IsSequence() || streams.size() == 0)
      fail(root, "streams", "needs 'streams': a non-empty list");
    std::set<std::string> names;
    for (size_t i = 0; i < streams.size(); ++i) {
      auto s = stream(streams[i], fmt::format("streams[{}]", i));
      if (!s) continue;
      if (!names.insert(s->name).second)
        fail(streams[i], fmt::format("streams[{}]", i),
             fmt::format("duplicate stream name '{}'", s->name));
      out_.streams.push_back(std::move(*s));
    }
    if (out_.streams.empty()) fail(streams, "streams", "every stream is disabled");
    thresholds(root["thresholds"], "thresholds", out_.thresholds);
    if (!sets_.empty()) {
      // FNV-1a over every set's name, fields and records, length-prefixed.
      uint64_t h = 1469598103934665603ULL;
      auto mix = [&h](std::string_view text) {
        std::string len = std::to_string(text.size()) + ":";
        for (char c : len) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
        for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
      };
      for (const auto& set : sets_) {
        mix(set->name);
        for (const auto& f : set->fields) mix(f);
        for (const auto& r : set->records)
          for (const auto& v : r) mix(v);
      }
      out_.samples_digest = fmt::format("{:016x}", h);
    }
  }

 private:
  const Source& source_;
  const LoadOptions& options_;
  Scenario& out_;
  std::vector<std::shared_ptr<const core::SampleSet>> sets_;
  bool override_used_ = false;
};

}  // namespace

Scenario load_scenario(const Source& source, const LoadOptions& options) {
  Scenario out;
  out.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(source.text);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(fmt::format("{}:{}: {}", source.path, e.mark.line + 1, e.msg));
  }
  Reader reader(source, options, out);
  try {
    reader.scenario(root);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(fmt::format("{}:{}: {}", source.path, e.mark.line + 1, e.msg));
  }
  return out;
}

// ---- binding to a run ---------------------------------------------------------------------

double demo_minute(const DemoClockSpec& clock, double now_unix) {
  return std::max(0.0, (now_unix - clock.start_unix) * clock.time_scale / 60.0);
}

core::RateProfile demo_minutes_profile(const std::vector<std::pair<double, double>>& points,
                                       const DemoClockSpec& clock, double now_unix,
                                       double duration_s) {
  // The demo minute at wall time t is m0 + t * scale / 60 (a start in the future waits at 0).
  double wait_s = std::max(0.0, clock.start_unix - now_unix);
  double m0 = demo_minute(clock, now_unix);
  auto rate_at_minute = [&](double m) {
    if (m <= points.front().first) return points.front().second;
    for (size_t i = 1; i < points.size(); ++i) {
      if (m < points[i].first) {
        const auto& [m1, r1] = points[i - 1];
        const auto& [m2, r2] = points[i];
        return r1 + (r2 - r1) * (m - m1) / (m2 - m1);
      }
    }
    return points.back().second;
  };
  std::vector<core::RateProfile::Knot> knots;
  double first = rate_at_minute(m0);
  knots.push_back({0, first});
  if (wait_s > 0) knots.push_back({wait_s, first});
  for (const auto& [m, r] : points) {
    if (m <= m0) continue;
    double t = wait_s + (m - m0) * 60.0 / clock.time_scale;
    if (t >= duration_s) {
      double end = m0 + (duration_s - wait_s) * clock.time_scale / 60.0;
      knots.push_back({duration_s, rate_at_minute(end)});
      break;
    }
    knots.push_back({t, r});
  }
  return core::RateProfile::table(std::move(knots), duration_s);
}

std::vector<std::pair<double, double>> blackfriday_rpm_table(double base_rpm, double peak_rpm) {
  // The seed's table: 0, 800, 2100, 3400, 4200 at minutes 0, 1, 5, 10, 15.
  auto between = [&](double seed_rpm) {
    double f = (seed_rpm - 800.0) / (4200.0 - 800.0);
    return base_rpm + f * (peak_rpm - base_rpm);
  };
  return {{0, 0}, {1, base_rpm}, {5, between(2100)}, {10, between(3400)}, {15, peak_rpm}};
}

load::Plan build_plan(const Scenario& sc, const BuildOptions& o) {
  load::Plan plan;
  plan.model = load::LoadModel::open;
  plan.seed = o.seed;
  plan.threads = std::max(1, o.threads);
  plan.content_digest = sc.samples_digest;
  if (sc.demo_clock && !o.clock)
    throw ScenarioError(fmt::format("{}: needs the demo clock", sc.source.path));
  std::chrono::nanoseconds duration{0};
  if (o.duration) {
    duration = *o.duration;
  } else if (sc.duration) {
    duration = *sc.duration;
  } else if (sc.demo_clock) {
    // What is left of the story at this clock (always at least a demo minute).
    double m0 = demo_minute(*o.clock, o.now_unix);
    double wait = std::max(0.0, o.clock->start_unix - o.now_unix);
    double left_min = std::max(1.0, o.clock->duration_minutes - m0);
    duration = std::chrono::nanoseconds(
        static_cast<int64_t>((wait + left_min * 60.0 / o.clock->time_scale) * 1e9));
  } else {
    throw ScenarioError(fmt::format(
        "{}: no duration: give 'duration:' in the file or --duration", sc.source.path));
  }
  plan.duration = duration;
  double duration_s = static_cast<double>(duration.count()) / 1e9;
  for (const auto& spec : sc.streams) {
    load::Stream s;
    s.name = spec.name;
    std::string url = spec.url.empty() ? o.url : spec.url;
    std::string error;
    auto parsed = http::parse_url(url, &error);
    if (!parsed)
      throw ScenarioError(fmt::format("stream '{}': invalid URL '{}': {}", spec.name, url, error));
    s.url = *parsed;
    switch (spec.rate.kind) {
      case RateSpec::Kind::constant:
        s.profile = core::RateProfile::constant(spec.rate.rps, duration_s);
        break;
      case RateSpec::Kind::peak:
        s.profile = core::RateProfile::peak(spec.rate.rps, duration_s);
        break;
      case RateSpec::Kind::ramp:
        s.profile = core::RateProfile::linear_ramp(spec.rate.from_rps, spec.rate.to_rps, duration_s);
        break;
      case RateSpec::Kind::steps: {
        // Steps repeat their last rate to the end of the run; a run shorter than the steps cuts them.
        std::vector<core::RateProfile::Knot> knots;
        double t = 0;
        for (const auto& [len, rps] : spec.rate.points) {
          knots.push_back({t, rps});
          t += len;
          knots.push_back({t, rps});
        }
        s.profile = core::RateProfile::table(std::move(knots), duration_s);
        break;
      }
      case RateSpec::Kind::table: {
        std::vector<core::RateProfile::Knot> knots;
        for (const auto& [t, rps] : spec.rate.points) knots.push_back({t, rps});
        s.profile = core::RateProfile::table(std::move(knots), duration_s);
        break;
      }
      case RateSpec::Kind::demo_minutes:
        s.profile = demo_minutes_profile(spec.rate.points, *o.clock, o.now_unix, duration_s);
        break;
    }
    s.process = spec.poisson ? core::ArrivalProcess::poisson : core::ArrivalProcess::uniform;
    s.gap_jitter_s = spec.gap_jitter_s;
    s.timeout = spec.timeout;
    s.hard_cap = spec.hard_cap;
    if (o.hard_cap) s.hard_cap = load::HardCap{*o.hard_cap, *o.hard_cap};
    double peak = s.profile.peak_rate();
    if (s.hard_cap) peak = std::min(peak, s.hard_cap->refill_per_s);
    double timeout_s = static_cast<double>(spec.timeout.count()) / 1e9;
    // Enough connections for every request that can be in flight (rate x timeout), so the
    // generator never becomes the bottleneck of a slow target.
    s.connections = spec.connections > 0
                        ? spec.connections
                        : static_cast<int>(std::clamp(std::ceil(peak * timeout_s * 1.25) + 8,
                                                      16.0, 20000.0));
    s.backlog = std::max<size_t>(1000, static_cast<size_t>(peak * 10));
    s.requests = spec.requests;
    s.groups = spec.groups;
    if (!spec.counters.empty()) {
      s.keep_bodies = true;
      std::vector<std::string> paths;
      for (const auto& [name, path] : spec.counters) {
        s.counter_names.push_back(name);
        paths.push_back(path);
      }
      s.extractor = make_field_counter(std::move(paths));
    }
    plan.streams.push_back(std::move(s));
  }
  plan.apply_hard_caps();
  double arrivals = 0;
  for (const auto& s : plan.streams) arrivals += s.profile.total_arrivals();
  if (arrivals <= 0)
    throw ScenarioError(fmt::format(
        "{}: nothing to send: every stream's rate is 0 for the whole run", sc.source.path));
  return plan;
}

}  // namespace trafficsim::scenarios
