#include "core/status_list.hpp"

#include <algorithm>
#include <charconv>

namespace trafficsim::core {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int> three_digits(std::string_view s) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::pair<int, int>> parse_status_item(std::string_view item) {
  item = trim(item);
  int lo = 0, hi = 0;
  if (item.size() == 3 && (item[1] == 'x' || item[1] == 'X') && (item[2] == 'x' || item[2] == 'X') &&
      item[0] >= '1' && item[0] <= '5') {
    lo = (item[0] - '0') * 100;
    hi = lo + 99;
  } else if (auto dash = item.find('-'); dash != std::string_view::npos) {
    auto a = three_digits(trim(item.substr(0, dash)));
    auto b = three_digits(trim(item.substr(dash + 1)));
    if (!a || !b) return std::nullopt;
    lo = *a;
    hi = *b;
  } else {
    auto v = three_digits(item);
    if (!v) return std::nullopt;
    lo = hi = *v;
  }
  if (lo < 100 || hi > 599 || lo > hi) return std::nullopt;
  return std::pair{lo, hi};
}

void add_statuses(std::vector<int>& statuses, std::pair<int, int> range) {
  for (int s = range.first; s <= range.second; ++s) statuses.push_back(s);
  std::sort(statuses.begin(), statuses.end());
  statuses.erase(std::unique(statuses.begin(), statuses.end()), statuses.end());
}

std::optional<std::vector<int>> parse_status_list(std::string_view text, std::string* bad_item) {
  std::vector<int> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos
                                                                               : comma - start);
    auto range = parse_status_item(item);
    if (!range) {
      if (bad_item) *bad_item = std::string(trim(item));
      return std::nullopt;
    }
    add_statuses(out, *range);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace trafficsim::core
