#pragma once
// The one grammar for lists of HTTP statuses, shared by `bench --expect` and the scenario
// files' `expect` / `expect_failure`: an item is a status ("200"), a range ("200-499") or a
// class ("2xx"), all within 100..599; a list is items separated by commas (spaces around an item
// are ignored).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafficsim::core {

// One item as an inclusive range [lo, hi]; nullopt when it is not a status, range or class.
std::optional<std::pair<int, int>> parse_status_item(std::string_view item);

// A whole list, sorted and without duplicates. On a bad item returns nullopt and, when
// `bad_item` is set, the offending item (trimmed) so the caller can name it.
std::optional<std::vector<int>> parse_status_list(std::string_view text,
                                                  std::string* bad_item = nullptr);

// Appends every status of [lo, hi] and restores sorted, unique order.
void add_statuses(std::vector<int>& statuses, std::pair<int, int> range);

}  // namespace trafficsim::core
