#pragma once
// Counters read from response bodies (e.g. token usage of the LLM classify API): for each counter,
// a dotted path such as "tokens.input" — the first "tokens" key, then the first "input" key after
// it, whose value is a number — is added up over 2xx responses. A scan, not a JSON parse, so it
// allocates nothing on the workers' hot path.
#include <string>
#include <string_view>
#include <vector>

#include "load/plan.hpp"

namespace trafficsim::scenarios {

// The integer part of the number at `path` (dot-separated keys) in body, or -1 when absent.
long long find_json_number(std::string_view body, std::string_view path);

// One counter per path, in order.
load::BodyExtractor make_field_counter(std::vector<std::string> paths);

}  // namespace trafficsim::scenarios
