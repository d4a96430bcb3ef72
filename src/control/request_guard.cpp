#include "control/request_guard.hpp"

#include <fmt/format.h>

#include "core/ascii.hpp"
#include "http/api_key.hpp"

namespace trafficsim::control {

using http::ApiError;

RequestGuard::RequestGuard(GuardOptions options) : options_(std::move(options)) {}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

std::optional<ApiError> RequestGuard::check_host(const http::ServerRequest& request) const {
  auto host = request.header("Host");
  if (!host || host->empty())
    return ApiError{400, "missing_header", "Host", "the Host header is required"};
  std::string value = core::to_lower_ascii(*host);
  std::string name = value;
  // Strip ":port" (after "]" for an IPv6 literal).
  if (auto colon = value.rfind(':'); colon != std::string::npos &&
                                     (value.front() != '[' || value.find(']') < colon)) {
    std::string port = value.substr(colon + 1);
    if (port != std::to_string(options_.port))
      return ApiError{403, "forbidden_host", "Host",
                      fmt::format("Host '{}' does not name this server (port {})", *host,
                                  options_.port)};
    name = value.substr(0, colon);
  }
  if (name == "localhost" || name == "127.0.0.1" || name == "[::1]" ||
      name == core::to_lower_ascii(options_.listen_host))
    return std::nullopt;
  for (const auto& allowed : options_.allowed_hosts)
    if (name == core::to_lower_ascii(allowed)) return std::nullopt;
  return ApiError{403, "forbidden_host", "Host",
                  fmt::format("Host '{}' is not this server's name; start it with "
                              "--allow-host {} to accept it",
                              *host, name)};
}

std::optional<ApiError> RequestGuard::check_key(const http::ServerRequest& request) const {
  if (http::request_has_api_key(request, options_.api_key)) return std::nullopt;
  return ApiError{401, "unauthorized", "X-API-Key",
                  "this route needs the API key: send X-API-Key: KEY or Authorization: Bearer KEY"};
}

std::optional<ApiError> RequestGuard::check_mutation(const http::ServerRequest& request) const {
  auto type = request.header("Content-Type");
  std::string media = type ? core::to_lower_ascii(std::string(*type)) : std::string();
  if (auto semi = media.find(';'); semi != std::string::npos) media.resize(semi);
  while (!media.empty() && media.back() == ' ') media.pop_back();
  if (media != "application/json")
    return ApiError{415, "unsupported_media_type", "Content-Type",
                    fmt::format("a {} to a control route needs Content-Type: application/json{}",
                                request.method,
                                type ? fmt::format(" (got '{}')", *type) : std::string())};
  return check_key(request);
}

}  // namespace trafficsim::control
