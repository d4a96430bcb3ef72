#include "scenarios/body_counters.hpp"

namespace trafficsim::scenarios {

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Position just after the ':' of the first "key": at or after `from`, or npos.
size_t find_key(std::string_view body, std::string_view key, size_t from) {
  size_t pos = from;
  while ((pos = body.find(key, pos)) != std::string_view::npos) {
    size_t start = pos;
    pos += key.size();
    if (start == 0 || body[start - 1] != '"' || pos >= body.size() || body[pos] != '"') continue;
    size_t i = pos + 1;
    while (i < body.size() && space(body[i])) ++i;
    if (i < body.size() && body[i] == ':') return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

long long find_json_number(std::string_view body, std::string_view path) {
  size_t pos = 0;
  while (true) {
    size_t dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    pos = find_key(body, key, pos);
    if (pos == std::string_view::npos) return -1;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  size_t i = pos;
  while (i < body.size() && space(body[i])) ++i;
  bool neg = i < body.size() && body[i] == '-';
  if (neg) ++i;
  if (i >= body.size() || body[i] < '0' || body[i] > '9') return -1;
  long long v = 0;
  while (i < body.size() && body[i] >= '0' && body[i] <= '9' && v < (1LL << 58))
    v = v * 10 + (body[i++] - '0');
  return neg ? -v : v;
}

load::BodyExtractor make_field_counter(std::vector<std::string> paths) {
  return [paths = std::move(paths)](const load::RequestTemplate&, int status,
                                      std::string_view body, std::span<int64_t> counters) {
    if (status < 200 || status >= 300) return;
    for (size_t i = 0; i < paths.size() && i < counters.size(); ++i) {
      long long v = find_json_number(body, paths[i]);
      if (v > 0) counters[i] += v;
    }
  };
}

}  // namespace trafficsim::scenarios
