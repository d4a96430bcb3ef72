#include "http/api_key.hpp"

#include "core/ascii.hpp"

namespace trafficsim::http {

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  // Walk the expected length whatever was given, so timing does not reveal a prefix.
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

bool request_has_api_key(const ServerRequest& request, std::string_view key) {
  if (key.empty()) return true;
  if (auto given = request.header("X-API-Key"); given && constant_time_equal(*given, key))
    return true;
  if (auto auth = request.header("Authorization"); auth && auth->size() > 7 &&
                                                   core::iequals_ascii(auth->substr(0, 7), "Bearer ")) {
    std::string_view token = auth->substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    return constant_time_equal(token, key);
  }
  return false;
}

}  // namespace trafficsim::http
