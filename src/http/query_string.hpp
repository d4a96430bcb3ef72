#pragma once
// Reading parameters from the query string of a request target (the part after '?'), decoded
// the way HTML forms and most clients encode it: '+' is a space, %XX is a byte.
#include <optional>
#include <string>
#include <string_view>

namespace trafficsim::http {

// Decodes one query component. A '%' not followed by two hex digits is kept literally: the
// endpoints validate the decoded value anyway, and a stray '%' is clearer in their message.
std::string percent_decode(std::string_view text);

// The decoded value of the first parameter called `name` (compared after decoding), or nullopt
// when it is absent. "name" and "name=" both yield "". A leading '?' is ignored; empty pairs
// ("a=1&&b=2") are skipped.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace trafficsim::http
