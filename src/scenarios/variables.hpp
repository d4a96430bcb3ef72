#pragma once
// Variables of a scenario file: ${name} or ${name:-default} in any value (defaults may nest:
// ${a:-${B:-1}}; $${ is a literal ${). A name is looked up in LoadOptions::params (the command
// line), then the environment. docs/scenarios.md, "Variables".
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "scenarios/scenario.hpp"

namespace trafficsim::scenarios {

// What is wrong with a value's variables; the reader puts file, line and field before it.
class VariableError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Variables {
 public:
  // Keeps references to `options` and `used`: both must outlive this object.
  Variables(const LoadOptions& options, std::set<std::string>& used);

  // The text with every variable replaced; records each name referenced in `used`. Throws
  // VariableError for an unset variable without a default, a bad name, an unclosed "${",
  // defaults nested deeper than kMaxNestingDepth, or a result above kMaxExpandedBytes.
  std::string interpolate(std::string_view text);

 private:
  void append(std::string& out, std::string_view text, std::string_view whole, int depth);
  const char* getenv(const char* name) const;

  const LoadOptions& options_;
  std::set<std::string>& used_;
};

}  // namespace trafficsim::scenarios
