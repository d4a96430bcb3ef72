#pragma once
// What the scenario tests share: load options with a private environment, the built-ins, build
// options on a fixed clock, YAML written inline, load and script errors, rendering a request's templates, and the classify
// API's own check of a body. Header-only, for tests/scenarios/*_test.cpp.
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/random.hpp"
#include "scenarios/builtin.hpp"
#include "scenarios/demo_script.hpp"
#include "scenarios/scenario.hpp"
#include "support/process.hpp"

namespace trafficsim::scenarios::test_support {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr const char* kUrl = "http://127.0.0.1:9";
inline constexpr double kNow = 1'700'000'000.0;

using Vars = std::map<std::string, std::string>;

// Options with the given params and a private environment (never the process's).
inline LoadOptions options(Vars params = {}, Vars env = {}) {
  LoadOptions o;
  o.params = std::move(params);
  auto e = std::make_shared<const Vars>(std::move(env));
  o.getenv = [e](const char* name) -> const char* {
    auto it = e->find(name);
    return it == e->end() ? nullptr : it->second.c_str();
  };
  return o;
}

inline Scenario load_builtin(const std::string& name, const LoadOptions& o = options()) {
  auto src = builtin_source(name);
  if (!src) throw std::runtime_error("no built-in " + name);
  return load_scenario(*src, o);
}

inline BuildOptions build_options(std::optional<DemoClockSpec> clock = std::nullopt) {
  BuildOptions b;
  b.url = kUrl;
  b.seed = 1;
  b.clock = clock;
  b.now_unix = kNow;
  return b;
}

inline DemoClockSpec clock_at(double start_unix, double scale = 60) {
  DemoClockSpec c;
  c.start_unix = start_unix;
  c.time_scale = scale;
  return c;
}

// A YAML text written in a raw string: the leading newline is dropped, so line 1 is the first
// line after R"(.
inline Source yaml(const char* text) {
  std::string t = text;
  if (!t.empty() && t.front() == '\n') t.erase(0, 1);
  return Source{"my.yaml", t, false};
}

// The message of the ScenarioError that loading throws ("" when it loads).
inline std::string load_error(const Source& src, const LoadOptions& o = options()) {
  try {
    load_scenario(src, o);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

inline std::string render(const core::TextTemplate& t, const std::string& stream, uint64_t k,
                   uint64_t seed = 1) {
  return t.render(core::RenderContext{seed, core::stream_key(stream), k});
}

inline std::string render_body(const load::RequestTemplate& t, const std::string& stream, uint64_t k) {
  if (!t.dynamic) return t.body;
  return render(t.dynamic->body, stream, k);
}

inline std::string render_target(const load::RequestTemplate& t, const std::string& stream, uint64_t k) {
  if (!t.dynamic) return t.target;
  return render(t.dynamic->target, stream, k);
}

// The rendered value of header `name` (case-sensitive), or nullopt.
inline std::optional<std::string> render_header(const load::RequestTemplate& t, const std::string& name,
                                         const std::string& stream, uint64_t k) {
  if (t.dynamic) {
    for (const auto& [n, v] : t.dynamic->headers)
      if (n == name) return render(v, stream, k);
  } else {
    for (const auto& [n, v] : t.headers)
      if (n == name) return v;
  }
  return std::nullopt;
}

inline int count_headers(const load::RequestTemplate& t, const std::string& name) {
  int n = 0;
  for (const auto& [h, v] : t.headers)
    if (strcasecmp(h.c_str(), name.c_str()) == 0) ++n;
  return n;
}

// The classify API's check: a JSON object with string fields subject, sender and a body that is
// not only whitespace. Returns "" when valid, else why not.
inline std::string classify_rejection(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return "invalid JSON";
  if (!v.is_object()) return "not an object";
  const auto& o = v.as_object();
  for (const char* f : {"subject", "sender", "body"}) {
    auto it = o.find(f);
    if (it == o.end()) return std::string("missing ") + f;
    if (!it->value().is_string()) return std::string("mistyped ") + f;
  }
  const auto& b = o.at("body").as_string();
  if (std::all_of(b.begin(), b.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t'; }))
    return "blank body";
  return "";
}

// The message of the ScenarioError that loading a demo script throws ("" when it loads).
inline std::string script_error(const Source& src) {
  try {
    load_demo_script(src);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

inline std::vector<int> range(int lo, int hi) {
  std::vector<int> v;
  for (int s = lo; s <= hi; ++s) v.push_back(s);
  return v;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

using trafficsim::testing::TempDir;

}  // namespace trafficsim::scenarios::test_support
