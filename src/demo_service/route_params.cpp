// Responses and query parameters as every route of the demo service answers and reads them.
#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/json_text.hpp"
#include "demo_service/service_impl.hpp"
#include "http/query_string.hpp"

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

using http::query_param;

ServerResponse json_response(int status, const json::value& body) {
  return ServerResponse{status, "application/json", core::json_text(body), {}, false};
}

ServerResponse error_response(const ApiError& e) {
  return json_response(e.status, e.to_json());
}

ApiError query_error(std::string field, std::string message) {
  return ApiError{400, "invalid_query", std::move(field), std::move(message)};
}

std::variant<int64_t, ApiError> int_param(std::string_view query, std::string_view name,
                                          int64_t def, int64_t lo, int64_t hi) {
  auto v = query_param(query, name);
  if (!v) return def;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
    return query_error(std::string(name), fmt::format("query parameter '{}' must be an integer "
                                                      "from {} to {}",
                                                      name, lo, hi));
  return static_cast<int64_t>(n);
}

std::variant<double, ApiError> number_param(std::string_view query, std::string_view name,
                                            double def, double lo, double hi) {
  auto v = query_param(query, name);
  if (!v) return def;
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(d) || d < lo || d > hi)
    return query_error(
        std::string(name),
        fmt::format("query parameter '{}' must be a number from {} to {}", name, lo, hi));
  return d;
}

std::variant<std::string, ApiError> category_param(std::string_view query) {
  auto v = query_param(query, "category");
  if (!v) return std::string("electronics");
  bool ok = !v->empty() && v->size() <= 64;
  for (char c : *v)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!ok)
    return query_error("category",
                       "query parameter 'category' must be 1-64 letters, digits, '-' or '_'");
  return *v;
}

}  // namespace trafficsim::demo_service
