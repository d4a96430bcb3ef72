#include "scenarios/variables.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "scenarios/yaml_reader.hpp"

namespace trafficsim::scenarios {

Variables::Variables(const LoadOptions& options, std::set<std::string>& used)
    : options_(options), used_(used) {}

const char* Variables::getenv(const char* name) const {
  return options_.getenv ? options_.getenv(name) : std::getenv(name);
}

std::string Variables::interpolate(std::string_view text) {
  std::string out;
  append(out, text, text, 0);
  return out;
}

// Appends `text` interpolated to `out`; `whole` is the value as written (for messages), `depth`
// the nesting of defaults being expanded.
void Variables::append(std::string& out, std::string_view text, std::string_view whole,
                       int depth) {
  if (depth > kMaxNestingDepth)
    throw VariableError(fmt::format("variable defaults nested deeper than {} levels in '{}'",
                                    kMaxNestingDepth, whole.substr(0, 80)));
  auto grow = [&](std::string_view piece) {
    if (out.size() + piece.size() > kMaxExpandedBytes)
      throw VariableError(fmt::format("expands to more than {} through its variables",
                                      kMaxExpandedText));
    out += piece;
  };
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      grow("${");
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      size_t next = text.find('$', i + 1);
      if (next == std::string_view::npos) next = text.size();
      grow(text.substr(i, next - i));
      i = next;
      continue;
    }
    // The matching '}' (defaults may hold variables: ${a:-${B:-1}}).
    size_t close = std::string_view::npos;
    for (size_t j = i + 2, level = 1; j < text.size(); ++j) {
      if (text.compare(j, 2, "${") == 0) {
        ++level;
        ++j;
      } else if (text[j] == '}' && --level == 0) {
        close = j;
        break;
      }
    }
    if (close == std::string_view::npos)
      throw VariableError(fmt::format("unclosed '${{' in '{}'", text));
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::string_view name = inner, def;
    bool has_default = false;
    if (auto p = inner.find(":-"); p != std::string_view::npos) {
      name = inner.substr(0, p);
      def = inner.substr(p + 2);
      has_default = true;
    }
    if (name.empty() || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                                               "vwxyz0123456789_") != std::string_view::npos)
      throw VariableError(fmt::format("bad variable name '{}' in '{}'", name, text));
    std::string key(name);
    used_.insert(key);
    if (auto it = options_.params.find(key); it != options_.params.end()) {
      grow(it->second);
    } else if (const char* env = getenv(key.c_str()); env && *env) {
      grow(env);
    } else if (has_default) {
      append(out, def, whole, depth + 1);
    } else {
      throw VariableError(
          fmt::format("variable '{}' is not set (set it with --set {}=VALUE or in the "
                      "environment, or give a default: ${{{}:-VALUE}})",
                      key, key, key));
    }
    i = close + 1;
  }
}

}  // namespace trafficsim::scenarios
