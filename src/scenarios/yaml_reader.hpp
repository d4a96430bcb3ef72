#pragma once
// Reading a YAML file of this folder (a scenario, a demo script, a samples file): parsing within
// bounded memory, and typed values whose every error names "FILE:LINE: FIELD: what is wrong".
// Private to scenarios/ (yaml-cpp stays out of the public headers).
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <string>

#include <yaml-cpp/yaml.h>

#include "scenarios/scenario.hpp"

namespace trafficsim::scenarios {

class Variables;

// The bounds of one file (docs/scenarios.md, "Limits"). A YAML alias repeats its anchor's whole
// value where it stands, so a small file can stand for gigabytes: the bound is on the expanded
// size, the bytes of every scalar reachable from the root with each alias use counted in full.
inline constexpr size_t kMaxExpandedBytes = size_t{64} * 1024 * 1024;
inline constexpr int kMaxNestingDepth = 64;  // mappings and lists inside each other
inline constexpr const char* kMaxExpandedText = "64 MiB";

// Reads a whole file into *text. Returns "" on success, else why not (the system's reason, or
// "larger than 64 MiB": no file of this folder may be larger than it may expand to).
std::string read_text(const std::filesystem::path& path, std::string* text);

// Parses source.text into a node graph. Before the graph is built, one pass over the parser's
// events (linear in the file, aliases sized from their anchor, never copied) checks the
// expanded size and the nesting depth; beyond either, and for any YAML syntax error, throws
// ScenarioError "FILE:LINE: [FIELD: ]what". Memory used is proportional to the file's size.
YAML::Node parse_yaml(const Source& source);

// Typed reads of one file's nodes. With `variables`, every value read is interpolated first
// (${name:-default}); without, values are taken as written. Every value read is also charged
// against kMaxExpandedBytes: what loading copies (variables expanded, a stream's headers repeated
// for each of its requests) stays bounded as the file is.
class YamlReader {
 public:
  explicit YamlReader(const Source& source, Variables* variables = nullptr);

  const Source& source() const { return source_; }

  // Throws ScenarioError "FILE:LINE: FIELD: what" (the line of `node` when it has one; no
  // field part when `field` is empty).
  [[noreturn]] void fail(const YAML::Node& node, const std::string& field,
                         const std::string& what) const;

  // A mapping whose keys are all in `allowed` (a typo is an error, not a silent default); the
  // error lists the allowed keys ("unknown key (expected one of: a, b)").
  void check_keys(const YAML::Node& map, const std::string& field,
                  std::initializer_list<const char*> allowed) const;

  // A single value, interpolated when the reader has variables.
  std::string str(const YAML::Node& node, const std::string& field);
  // A finite number in [min, max].
  double number(const YAML::Node& node, const std::string& field, double min, double max);
  // true/yes/on/1 or false/no/off/0/empty, any case.
  bool boolean(const YAML::Node& node, const std::string& field);
  // A positive duration, at most core::kMaxDuration.
  std::chrono::nanoseconds duration(const YAML::Node& node, const std::string& field);
  // A duration that may be 0 ("0" alone too), at most core::kMaxDuration.
  std::chrono::nanoseconds duration_or_zero(const YAML::Node& node, const std::string& field);
  // A rate in requests per second (10, 2.5k, 10/s, 600rpm), at most core::kMaxRateRps.
  double rate(const YAML::Node& node, const std::string& field, bool allow_zero);

  // Counts `bytes` that loading holds for `node` against kMaxExpandedBytes; fails past it.
  void charge(size_t bytes, const YAML::Node& node, const std::string& field);

 private:
  const Source& source_;
  Variables* variables_;
  size_t charged_ = 0;
};

}  // namespace trafficsim::scenarios
