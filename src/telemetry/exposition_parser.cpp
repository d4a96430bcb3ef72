#include "telemetry/exposition_parser.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace trafficsim::telemetry {

namespace {

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

bool parse_value(std::string_view text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// One sample line; false when it is not one.
bool parse_line(std::string_view line, ExpositionSample* s) {
  size_t i = 0;
  if (line.empty() || !name_char(line[0], true)) return false;
  while (i < line.size() && name_char(line[i], i == 0)) ++i;
  s->name = std::string(line.substr(0, i));
  s->labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    for (;;) {
      while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      size_t start = i;
      while (i < line.size() && name_char(line[i], i == start)) ++i;
      if (i == start || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return false;
      std::string key(line.substr(start, i - start));
      i += 2;
      std::string value;
      for (;;) {
        if (i >= line.size()) return false;
        char c = line[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= line.size()) return false;
          char e = line[i++];
          value += e == 'n' ? '\n' : e;  // \\ and \" stand for themselves
        } else {
          value += c;
        }
      }
      s->labels.emplace_back(std::move(key), std::move(value));
    }
  }
  while (i < line.size() && line[i] == ' ') ++i;
  size_t end = line.find(' ', i);
  std::string_view value = line.substr(i, end == std::string_view::npos ? line.size() - i : end - i);
  return parse_value(value, &s->value);
}

}  // namespace

const std::string* ExpositionSample::label(std::string_view key) const {
  for (const auto& [k, v] : labels)
    if (k == key) return &v;
  return nullptr;
}

Exposition parse_exposition(std::string_view text) {
  Exposition out;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    ExpositionSample s;
    if (parse_line(line, &s)) {
      out.samples.push_back(std::move(s));
    } else {
      ++out.malformed_lines;
    }
  }
  return out;
}

}  // namespace trafficsim::telemetry
